"""Every engagement metric of the store equals the pure reference run on a naive recount.

The naive side shares nothing with the fast path but the event model: persons and their local
active days come from :func:`maumeter.core.counting.reference_count` (plain sets, identity merges
applied retroactively, internal persons removed per project), and the metrics from the pure
modules of ``maumeter.core``. Streams are random over small id pools (anonymous→user links,
aliases, an internal user in one project) across four months in a zone with DST, and are loaded
in two parts with queries in between, so the daily index's incremental refresh (grown days,
merges reaching back, a changed internal set) is exercised as well as a cold build.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maumeter.core.activity import preset
from maumeter.core.counting import LoggedEvent, reference_count
from maumeter.core.events import parse_event
from maumeter.core.levels import LEVELS, activity_levels, level_movement
from maumeter.core.lifecycle import lifecycle
from maumeter.core.months import epoch_day, zone
from maumeter.core.retention import retention
from maumeter.core.stickiness import daily_stickiness, frequency, monthly_stickiness
from maumeter.meter import Meter

TZ = "America/New_York"
PROJECTS = ("web", "app")
RULES = {
    "web": preset("any-activity"),
    "app": replace(preset("any-activity"), internal_user_ids=frozenset({"u3"})),
}
FIRST = datetime(2024, 1, 1, 5, tzinfo=UTC)
SPAN_DAYS = 120  # January to April, across the March DST change
START, END = date(2024, 1, 1), date(2024, 4, 30)
NOW = datetime(2024, 5, 2, tzinfo=UTC)

anons = st.sampled_from([f"a{i}" for i in range(8)])
users = st.sampled_from([f"u{i}" for i in range(6)])


@st.composite
def records(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    at = FIRST + timedelta(
        days=draw(st.integers(0, SPAN_DAYS - 1)), seconds=draw(st.integers(-6 * 3600, 86_399))
    )
    record: dict[str, Any] = {"timestamp": at.isoformat(), "type": "track", "event": "Used"}
    kind = draw(st.sampled_from(["anon", "user", "link", "alias"]))
    if kind == "anon":
        record["anonymousId"] = draw(anons)
    elif kind == "user":
        record["userId"] = draw(users)
    elif kind == "link":
        record.update(type="identify", anonymousId=draw(anons), userId=draw(users))
        record.pop("event")
    else:
        record = {"timestamp": at.isoformat(), "type": "alias", "userId": draw(users)}
        record["previousId"] = draw(st.one_of(anons, users))
    return draw(st.sampled_from(PROJECTS)), record


streams = st.lists(records(), min_size=1, max_size=60)
ORGS = count()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def meter() -> Any:
    with Meter.open(":memory:", clock=lambda: NOW) as m:
        yield m


def load(meter: Meter, stream: list[tuple[str, dict[str, Any]]]) -> str:
    org = f"o{next(ORGS)}"
    meter.create_org(org, timezone=TZ)
    for p in PROJECTS:
        meter.create_project(org, p, RULES[p])
    return org


def ingest(meter: Meter, org: str, stream: list[tuple[str, dict[str, Any]]]) -> None:
    for project in PROJECTS:
        part = [r for p, r in stream if p == project]
        if part:
            meter.import_records([part], org, project)


def logged(stream: list[tuple[str, dict[str, Any]]], cut: int) -> list[tuple[str, dict[str, Any]]]:
    """The stream in the store's log order: :func:`ingest` sends each part project by project
    (the order decides which id names a merged person, and which of two conflicting links wins)."""
    return [
        (p, r) for part in (stream[:cut], stream[cut:]) for q in PROJECTS for p, r in part if p == q
    ]


def naive(stream: list[tuple[str, dict[str, Any]]], scope: str | None) -> dict[str, set[date]]:
    """Person key -> local active dates, from the reference count (``stream`` in log order)."""
    log = [LoggedEvent(p, parse_event(r).timestamp, parse_event(r)) for p, r in stream]  # type: ignore[arg-type]
    ref = reference_count(log, RULES, zone(TZ))
    activity: dict[str, set[date]] = {}
    for (s, day), persons in ref.days.items():
        if s == scope:
            for person in persons:
                activity.setdefault(person, set()).add(day)
    return activity


def check(meter: Meter, org: str, stream: list[tuple[str, dict[str, Any]]]) -> None:
    a = meter.analytics
    for scope in (None, "app"):
        activity = naive(stream, scope)
        for unit in ("day", "week", "month"):
            for week_start in ("monday", "sunday") if unit == "week" else ("monday",):
                assert a.lifecycle(org, unit, START, END, scope, week_start) == lifecycle(
                    activity, START, END, unit, week_start
                )
                assert a.retention(org, unit, START, END, scope, week_start) == retention(
                    activity, START, END, unit, week_start
                )
        daily, monthly = a.stickiness(org, START, END, scope)
        assert daily == daily_stickiness(activity, START, END)
        assert monthly == monthly_stickiness(daily_stickiness(activity, START, END))
        for unit in ("day", "week"):
            assert a.frequency(org, START, END, unit, scope) == frequency(
                activity, START, END, unit
            )
        for metric, width in (("rolling7", 7), ("rolling30", 30), ("dau", 1)):
            points = a.series(org, metric, START, END, scope)
            for p in points:
                first = p.last - timedelta(days=width - 1)
                expected = sum(
                    1 for ds in activity.values() if any(first <= d <= p.last for d in ds)
                )
                assert p.value == expected, (metric, p)
        for metric in ("wau", "mau"):
            for p in a.series(org, metric, START, END, scope):
                expected = sum(
                    1 for ds in activity.values() if any(p.first <= d <= p.last for d in ds)
                )
                assert p.value == expected, (metric, p)
        for day in (date(2024, 3, 10), date(2024, 4, 30)):
            report = a.levels(org, day, scope)
            now = activity_levels(activity, day)
            then = activity_levels(activity, day - timedelta(days=28))
            assert report.counts == now.counts
            assert report.previous_counts == then.counts
            assert report.movement() == level_movement(then, now)
            for level in LEVELS:
                listed = a.level_persons(org, level, day, scope, limit=1000)["persons"]
                assert set(listed) == now.members(level)


@given(streams, st.integers(0, 60))
@SETTINGS
def test_every_metric_equals_the_reference(meter: Meter, stream: list[Any], cut: int) -> None:
    org = load(meter, stream)
    cut = min(cut, len(stream))
    ingest(meter, org, stream[:cut])
    if cut:
        check(meter, org, logged(stream[:cut], cut))  # warm the index, then grow it
    ingest(meter, org, stream[cut:])
    check(meter, org, logged(stream, cut))


def test_one_person_with_two_ids_counts_once_everywhere(meter: Meter) -> None:
    org = load(meter, [])
    day = lambda d: f"2024-02-{d:02d}T15:00:00Z"  # noqa: E731
    ingest(
        meter,
        org,
        [
            ("web", {"type": "page", "anonymousId": "anon-1", "timestamp": day(1)}),
            ("web", {"type": "page", "anonymousId": "anon-1", "timestamp": day(2)}),
        ],
    )
    assert [
        p.value for p in meter.analytics.series(org, "dau", date(2024, 2, 1), date(2024, 2, 2))
    ] == [1, 1]
    ingest(
        meter,
        org,
        [
            (
                "web",
                {"type": "identify", "anonymousId": "anon-1", "userId": "ann", "timestamp": day(3)},
            ),
            ("web", {"type": "page", "userId": "ann", "timestamp": day(2)}),
            ("web", {"type": "page", "userId": "ann", "timestamp": day(3)}),
        ],
    )
    a = meter.analytics
    assert [p.value for p in a.series(org, "dau", date(2024, 2, 1), date(2024, 2, 3))] == [1, 1, 1]
    assert [p.value for p in a.series(org, "wau", date(2024, 2, 1), date(2024, 2, 3))] == [1]
    rows = a.lifecycle(org, "day", date(2024, 2, 1), date(2024, 2, 3))
    assert [(r.new, r.returning) for r in rows] == [(1, 0), (0, 1), (0, 1)]
    assert a.level_persons(org, "at_risk", date(2024, 2, 28))["persons"] == ["ann"]


def test_a_day_is_the_org_zone_local_day(meter: Meter) -> None:
    org = load(meter, [])
    # 03:30 UTC on 1 Feb is still 31 January in New York.
    ingest(
        meter, org, [("web", {"type": "page", "userId": "x", "timestamp": "2024-02-01T03:30:00Z"})]
    )
    points = meter.analytics.series(org, "dau", date(2024, 1, 31), date(2024, 2, 1))
    assert [(p.period, p.value) for p in points] == [("2024-01-31", 1), ("2024-02-01", 0)]
    assert epoch_day(date(2024, 1, 31)) in meter.analytics.days(org).persons
