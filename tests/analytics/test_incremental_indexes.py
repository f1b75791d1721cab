"""The facet and trait indexes read only what was appended since the last query, and start over
when the log is rewritten: their answers after each step equal a fresh index's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maumeter.analytics.queries import Analytics
from maumeter.core.activity import preset
from maumeter.core.months import Month
from maumeter.meter import Meter

NOW = datetime(2024, 3, 28, 12, tzinfo=UTC)
MONTH = Month(2024, 3)
AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0",
    "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) Safari/604.1",
]


@st.composite
def batch(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 8))):
        who = draw(st.sampled_from(["u1", "u2", "u3", "a1", "a2"]))
        ids = {"userId": who} if who.startswith("u") else {"anonymousId": who}
        at = f"2024-03-{draw(st.integers(1, 27)):02d}T{draw(st.integers(0, 23)):02d}:00:00Z"
        if draw(st.booleans()):
            out.append(
                {
                    "type": "identify",
                    "userId": draw(st.sampled_from(["u1", "u2", "u3"])),
                    "anonymousId": draw(st.sampled_from(["a1", "a2"])),
                    "traits": {"country": draw(st.sampled_from(["FR", "DE", 7, True]))},
                    "timestamp": at,
                }
            )
        out.append(
            {
                "type": "track",
                "event": "x",
                **ids,
                "properties": {"plan": draw(st.sampled_from(["free", "pro", None]))},
                "context": {"userAgent": draw(st.sampled_from(AGENTS))},
                "timestamp": at,
            }
        )
    return out


def answers(a: Analytics) -> tuple[Any, ...]:
    return (
        a.segments.traits("o", MONTH, "country").to_dict(),
        a.segments.devices("o", MONTH).to_dict(),
        [
            p.to_dict()
            for p in a.series("o", "mau", date(2024, 3, 1), date(2024, 3, 28), by="device")
        ],
        [
            p.to_dict()
            for p in a.series("o", "dau", date(2024, 3, 1), date(2024, 3, 28), by="property:plan")
        ],
    )


@given(st.lists(batch(), min_size=1, max_size=4))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_after_each_append_the_kept_indexes_answer_as_fresh_ones(batches: list[Any]) -> None:
    with Meter.open(":memory:", clock=lambda: NOW) as meter:
        meter.create_org("o")
        meter.create_project("o", "web")
        for records in batches:
            meter.import_records([records], "o", "web")
            kept = answers(meter.analytics)  # the meter's indexes, refreshed incrementally
            assert kept == answers(Analytics(meter))  # a fresh index reads everything


def test_a_rule_change_rebuilds_the_indexes() -> None:
    with Meter.open(":memory:", clock=lambda: NOW) as meter:
        meter.create_org("o")
        meter.create_project("o", "web")
        meter.import_records(
            [
                [
                    {
                        "type": "page",
                        "userId": "u1",
                        "timestamp": "2024-03-02T10:00:00Z",
                        "context": {"userAgent": AGENTS[0]},
                    },
                    {
                        "type": "track",
                        "event": "x",
                        "userId": "u2",
                        "timestamp": "2024-03-02T10:00:00Z",
                        "context": {"userAgent": AGENTS[1]},
                    },
                ]
            ],
            "o",
            "web",
        )
        before = meter.analytics.segments.devices("o", MONTH).to_dict()
        assert {c["value"] for c in before["cells"]} == {"mobile", "desktop"}
        meter.set_rule("o", "web", preset("decisions-and-tracking"))  # pages no longer count
        after = meter.analytics.segments.devices("o", MONTH).to_dict()
        assert after == answers(Analytics(meter))[1]
        assert [c["value"] for c in after["cells"]] == ["desktop"]


@pytest.mark.parametrize("trait", ["country", "a/b", "x~y"])
def test_trait_names_are_taken_literally(trait: str) -> None:
    with Meter.open(":memory:", clock=lambda: NOW) as meter:
        meter.create_org("o")
        meter.create_project("o", "web")
        meter.import_records(
            [
                [
                    {
                        "type": "identify",
                        "userId": "u1",
                        "traits": {trait: "v"},
                        "timestamp": "2024-03-02T10:00:00Z",
                    },
                    {
                        "type": "track",
                        "event": "x",
                        "userId": "u1",
                        "timestamp": "2024-03-02T11:00:00Z",
                    },
                ]
            ],
            "o",
            "web",
        )
        cells = meter.analytics.segments.traits("o", MONTH, trait).to_dict()["cells"]
        assert cells == [{"value": "v", "persons": 1, "share": 1.0}]


def test_an_id_like_property_is_refused_not_kept() -> None:
    from maumeter.analytics.facets import MAX_VALUES
    from maumeter.core.errors import InvalidInput

    with Meter.open(":memory:", clock=lambda: NOW) as meter:
        meter.create_org("o")
        meter.create_project("o", "web")
        records = [
            {
                "type": "track",
                "event": "x",
                "userId": f"u{i % 50}",
                "properties": {"order": f"o-{i}", "plan": "pro"},
                "timestamp": "2024-03-02T10:00:00Z",
            }
            for i in range(MAX_VALUES + 1)
        ]
        meter.import_records([records], "o", "web")
        with pytest.raises(InvalidInput) as err:
            meter.analytics.series(
                "o", "mau", date(2024, 3, 1), date(2024, 3, 2), by="property:order"
            )
        assert err.value.problems[0].field == "by"
        (point,) = meter.analytics.series(
            "o", "mau", date(2024, 3, 1), date(2024, 3, 2), by="property:plan"
        )
        assert dict(point.breakdown or ()) == {"pro": 50}
