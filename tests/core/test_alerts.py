"""Alerts: which thresholds are due, once each, with stable event ids and payloads."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.accrual import project
from maumeter.core.alerts import (
    DEFAULT_THRESHOLDS,
    PROJECTED_KEY,
    Alert,
    Kind,
    Threshold,
    due,
    event_id,
    parse_thresholds,
    payload,
    trusted_projection,
)
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month

MARCH = Month(2024, 3)


def keys(alerts: list[Alert]) -> list[str]:
    return [a.key for a in alerts]


def check(
    mau: int, cap: int | None, projected: int | None = None, fired: set[str] | None = None
) -> list[str]:
    return keys(
        due(DEFAULT_THRESHOLDS, mau, cap, projected, fired or set(), org="acme", month=MARCH)
    )


def test_thresholds_fire_when_crossed() -> None:
    assert check(799, 1000) == []
    assert check(800, 1000) == ["threshold:80"]
    assert check(800, 1000, fired={"threshold:80"}) == []
    assert check(950, 1000, fired={"threshold:80"}) == ["threshold:90"]
    assert check(1000, 1000) == ["threshold:80", "threshold:90", "threshold:100"]
    assert check(5, 5) == ["threshold:80", "threshold:90", "threshold:100"]


def test_threshold_arithmetic_is_exact() -> None:
    assert not Threshold(90).reached(2, 3)  # 66 %
    assert Threshold(67).reached(2, 3) is False and Threshold(66).reached(2, 3)
    assert Threshold(80).reached(4, 5) and not Threshold(81).reached(4, 5)


def test_no_cap_no_alerts() -> None:
    assert check(10**6, None, projected=10**7) == []
    assert check(10**6, 0, projected=10**7) == []


def test_projected_to_exceed() -> None:
    assert check(500, 1000, projected=1001) == ["projected"]
    assert check(500, 1000, projected=1000) == []
    assert check(500, 1000, projected=1500, fired={"projected"}) == []
    assert check(1000, 1000, projected=1200) == [
        "threshold:80",
        "threshold:90",
        "threshold:100",
        "projected",
    ]
    assert check(1001, 1000, projected=1200) == ["threshold:80", "threshold:90", "threshold:100"]


def test_alert_ids_are_deterministic_per_org_month_and_key() -> None:
    (a,) = due(DEFAULT_THRESHOLDS, 800, 1000, None, set(), org="acme", month=MARCH)
    (b,) = due(DEFAULT_THRESHOLDS, 850, 1000, None, set(), org="acme", month=MARCH)
    assert a.event_id == b.event_id == event_id("acme", MARCH, "threshold:80")
    assert uuid.UUID(a.event_id).version == 5
    assert event_id("acme", Month(2024, 4), "threshold:80") != a.event_id
    assert event_id("acme2", MARCH, "threshold:80") != a.event_id
    assert event_id("acme", MARCH, PROJECTED_KEY) != a.event_id
    # pinned: ids of alerts already delivered must never change
    assert event_id("acme", MARCH, "threshold:80") == str(
        uuid.uuid5(
            uuid.UUID("3f0c2a86-6d1e-5b57-9a43-4d2f6c1b8e70"), "acme\x002024-03\x00threshold:80"
        )
    )


def test_payload() -> None:
    alerts = due(DEFAULT_THRESHOLDS, 820, 1000, 1300, {"projected"}, org="acme", month=MARCH)
    body = payload(alerts[0])
    assert body == {
        "id": event_id("acme", MARCH, "threshold:80"),
        "type": "mau.threshold",
        "org": "acme",
        "month": "2024-03",
        "threshold": 80,
        "mau": 820,
        "cap": 1000,
        "projection": 1300,
    }
    assert json.loads(json.dumps(body)) == body
    (projected,) = due([], 10, 100, 150, set(), org="acme", month=MARCH)
    assert projected.kind is Kind.PROJECTED
    assert payload(projected)["type"] == "mau.projected" and payload(projected)["threshold"] is None


def test_parse_thresholds() -> None:
    assert parse_thresholds([100, 80, 90, 80]) == DEFAULT_THRESHOLDS
    assert parse_thresholds([]) == ()
    with pytest.raises(InvalidInput) as e:
        parse_thresholds([80, 0, "90", 1001, True])
    assert [p.field for p in e.value.problems] == [
        "thresholds[1]",
        "thresholds[2]",
        "thresholds[3]",
        "thresholds[4]",
    ]
    with pytest.raises(InvalidInput):
        parse_thresholds("80,90")


def test_trusted_projection() -> None:
    early = project(MARCH, [100, 200], [])
    assert early.method == "linear" and trusted_projection(early) is None
    assert trusted_projection(project(MARCH, [100] * 7, [])) == round(100 * 31 / 7)
    assert trusted_projection(project(MARCH, [100, 200], [[1, 2, 3]] * 3)) is not None
    assert trusted_projection(None) is None


# --- properties ------------------------------------------------------------------------------

threshold_sets = st.sets(st.integers(1, 150), max_size=6).map(lambda s: [Threshold(p) for p in s])
keys_universe = st.sets(
    st.sampled_from([f"threshold:{p}" for p in range(1, 151)] + [PROJECTED_KEY])
)


@given(
    threshold_sets,
    st.integers(0, 3000),
    st.none() | st.integers(0, 2000),
    st.none() | st.integers(0, 5000),
    keys_universe,
)
def test_due_never_refires_and_is_idempotent(
    thresholds: list[Threshold], mau: int, cap: int | None, projected: int | None, fired: set[str]
) -> None:
    alerts = due(thresholds, mau, cap, projected, fired, org="o", month=MARCH)
    got = keys(alerts)
    assert not set(got) & fired
    assert len(got) == len(set(got))
    assert due(thresholds, mau, cap, projected, fired | set(got), org="o", month=MARCH) == []
    for a in alerts:
        assert a.cap == cap and a.mau == mau
        if a.kind is Kind.THRESHOLD:
            assert mau * 100 >= a.threshold * cap  # type: ignore[operator]


@given(
    threshold_sets, st.lists(st.integers(0, 3000), min_size=1, max_size=20), st.integers(1, 2000)
)
def test_each_threshold_fires_once_as_mau_grows(
    thresholds: list[Threshold], steps: list[int], cap: int
) -> None:
    """Firing along any path of growing MAU gives every reached threshold exactly once, the
    same set as deciding once at the end."""
    fired: list[str] = []
    for mau in sorted(steps):
        fired += keys(due(thresholds, mau, cap, None, set(fired), org="o", month=MARCH))
    assert len(fired) == len(set(fired))
    at_end = keys(due(thresholds, max(steps), cap, None, set(), org="o", month=MARCH))
    assert sorted(fired) == sorted(at_end)
