"""Segments: MAU by trait and by device type, checked against naive recounts of the events."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maumeter.analytics.segments import MAX_TRAIT_CHARS, Breakdown, Segments
from maumeter.core.activity import preset
from maumeter.core.devices import device_type_of_context
from maumeter.core.errors import InvalidInput, NotFound
from maumeter.core.months import Month
from maumeter.meter import Meter

FEB, MARCH, APRIL = Month(2024, 2), Month(2024, 3), Month(2024, 4)
ACTIVE = ("track", "page", "screen")  # the any-activity preset
UA = {
    "iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "ipad": "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "curl": "curl/8.5.0",
}
_ids = count()


def at(day: str, hour: int = 12) -> str:
    return f"2024-{day}T{hour:02d}:00:00Z"


def ev(kind: str, when: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": when, "messageId": f"m{next(_ids)}", **fields}


def setup(
    meter: Meter, records: list[dict[str, Any]], org: str = "o", project: str = "web"
) -> None:
    if org not in {o.name for o in meter.orgs()}:
        meter.create_org(org)
    if project not in {p.name for p in meter.projects(org)}:
        meter.create_project(org, project)
    result = meter.import_records([records], org, project)
    assert not result.rejected, result.rejected


def cells(b: Breakdown) -> dict[str | None, int]:
    return dict(b.cells)


# ---- naive recount: plain Python over the records, identity by hand --------------------------


class Persons:
    """The identity rules by hand: an anonymous id joins at most one user (first link wins);
    alias merges users and links the previous id as an anonymous id too."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(self, node: tuple[str, str]) -> tuple[str, str]:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            node = self.parent[node]
        return node

    def has_user(self, root: tuple[str, str]) -> bool:
        return any(n[0] == "u" and self.find(n) == root for n in list(self.parent))

    def link(self, anon: str, user: str) -> None:
        a, u = self.find(("a", anon)), self.find(("u", user))
        if a != u and not self.has_user(a):
            self.parent[a] = u

    def alias(self, previous: str, user: str) -> None:
        old, new = self.find(("u", previous)), self.find(("u", user))
        if old != new:
            self.parent[old] = new
        self.link(previous, user)

    def feed(self, records: list[dict[str, Any]]) -> None:
        for r in records:
            if r["type"] == "alias":
                self.alias(r["previousId"], r["userId"])
            elif "userId" in r and "anonymousId" in r:
                self.link(r["anonymousId"], r["userId"])

    def of(self, r: dict[str, Any]) -> tuple[str, str]:
        return self.find(("u", r["userId"]) if "userId" in r else ("a", r["anonymousId"]))


def month_of(r: dict[str, Any]) -> Month:
    return Month.of(datetime.fromisoformat(r["timestamp"]), UTC)


def naive_active(records: list[dict[str, Any]], month: Month) -> tuple[Persons, set[Any]]:
    persons = Persons()
    persons.feed(records)
    active = {persons.of(r) for r in records if r["type"] in ACTIVE and month_of(r) == month}
    return persons, active


def scalar(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return value if isinstance(value, str) else json.dumps(value)


def naive_latest(records: list[dict[str, Any]], until: date, trait: str) -> dict[Any, str]:
    """Each person's latest value of ``trait`` as of the end of day ``until`` (UTC)."""
    persons = Persons()
    persons.feed(records)
    latest: dict[Any, tuple[str, int, str]] = {}
    for i, r in enumerate(records):
        if datetime.fromisoformat(r["timestamp"]).date() > until:
            continue
        value = None
        if r["type"] == "identify":
            value = scalar((r.get("traits") or {}).get(trait))
        if value is None:
            value = scalar(((r.get("context") or {}).get("traits") or {}).get(trait))
        if value is None:
            continue
        stamp = datetime.fromisoformat(r["timestamp"]).isoformat()
        person = persons.of(r)
        if person not in latest or (stamp, i) > latest[person][:2]:
            latest[person] = (stamp, i, value)
    return {person: value for person, (_, _, value) in latest.items()}


def naive_traits(records: list[dict[str, Any]], month: Month, trait: str) -> dict[str | None, int]:
    _, active = naive_active(records, month)
    latest = naive_latest(records, month.last_day(), trait)
    return dict(Counter(latest.get(p) for p in active))


def naive_devices(records: list[dict[str, Any]], month: Month) -> dict[str | None, int]:
    persons, _ = naive_active(records, month)
    kinds = {
        (persons.of(r), device_type_of_context(r.get("context")))
        for r in records
        if r["type"] in ACTIVE and month_of(r) == month
    }
    return dict(Counter(kind for _, kind in kinds))


# ---- traits ----------------------------------------------------------------------------------


def test_latest_identify_value_as_of_the_month_end(meter: Meter) -> None:
    records = [
        ev("identify", at("02-02"), userId="ada", traits={"country": "FR"}),
        ev("page", at("02-03"), userId="ada"),
        ev("page", at("03-01"), userId="ada"),
        ev("identify", at("03-10"), userId="ada", traits={"country": "ES"}),
        ev("identify", at("04-02"), userId="ada", traits={"country": "DE"}),  # after March
        ev("page", at("03-05"), userId="bob"),
    ]
    setup(meter, records)
    segments = Segments(meter)
    assert cells(segments.traits("o", FEB, "country")) == {"FR": 1}
    march = segments.traits("o", MARCH, "country")
    assert march.cells == (("ES", 1), (None, 1))
    assert march.mau == meter.mau("o", MARCH).mau == 2
    for month in (FEB, MARCH, APRIL):
        expected = naive_traits(records, month, "country")
        assert cells(segments.traits("o", month, "country")) == expected


def test_context_traits_count_and_identify_traits_win_on_the_same_event(meter: Meter) -> None:
    records = [
        ev("track", at("03-01"), userId="a", event="X", context={"traits": {"plan": "pro"}}),
        ev("page", at("03-02"), userId="b", context={"traits": {"plan": "free"}}),
        ev(
            "identify",
            at("03-03"),
            userId="b",
            traits={"plan": "team"},
            context={"traits": {"plan": "ignored"}},
        ),
        ev("group", at("03-04"), userId="a", groupId="g", traits={"plan": "enterprise"}),
    ]
    setup(meter, records)
    breakdown = Segments(meter).traits("o", MARCH, "plan")
    assert cells(breakdown) == {"pro": 1, "team": 1} == naive_traits(records, MARCH, "plan")


def test_a_merge_joins_the_anonymous_ids_traits(meter: Meter) -> None:
    records = [
        ev("page", at("03-01"), anonymousId="v", context={"traits": {"plan": "free"}}),
        ev("identify", at("03-02"), anonymousId="v", userId="ada", traits={"country": "FR"}),
        ev("page", at("03-03"), userId="ada"),
    ]
    setup(meter, records)
    segments = Segments(meter)
    assert meter.mau("o", MARCH).mau == 1
    assert segments.traits("o", MARCH, "plan").cells == (("free", 1),)
    assert segments.traits("o", MARCH, "country").cells == (("FR", 1),)
    later = [
        ev("track", at("03-04"), anonymousId="v", event="Y", context={"traits": {"plan": "pro"}})
    ]
    setup(meter, later)
    assert segments.traits("o", MARCH, "plan").cells == (("pro", 1),)
    assert segments.persons("o", MARCH, "trait:plan", "pro").persons == ("ada",)


def test_a_later_merge_is_retroactive(meter: Meter) -> None:
    """Two persons become one when the anonymous id is identified: counted once, one value."""
    records = [
        ev("page", at("03-01"), anonymousId="v", context={"traits": {"country": "FR"}}),
        ev("page", at("03-02"), userId="ada", context={"traits": {"country": "ES"}}),
    ]
    setup(meter, records)
    segments = Segments(meter)
    assert cells(segments.traits("o", MARCH, "country")) == {"FR": 1, "ES": 1}
    more = [ev("identify", at("03-03"), anonymousId="v", userId="ada")]
    setup(meter, more)
    assert segments.traits("o", MARCH, "country").cells == (("ES", 1),)
    assert naive_traits(records + more, MARCH, "country") == {"ES": 1}


def test_values_are_stringified_scalars(meter: Meter) -> None:
    records = [
        ev("identify", at("03-01"), userId="n", traits={"seats": 42, "x": 1e20, "f": 1.5}),
        ev("identify", at("03-01"), userId="b", traits={"seats": True}),
        ev("identify", at("03-01"), userId="s", traits={"seats": "42"}),
        ev("identify", at("03-01"), userId="o", traits={"seats": {"n": 1}}),
        ev("identify", at("03-01"), userId="l", traits={"seats": [1]}),
        ev("identify", at("03-01"), userId="z", traits={"seats": "7"}),
        ev("identify", at("03-02"), userId="z", traits={"seats": None}),  # no value: 7 stays
    ]
    records += [ev("page", at("03-05"), userId=u) for u in "nbsolz"]
    setup(meter, records)
    segments = Segments(meter)
    breakdown = segments.traits("o", MARCH, "seats")
    assert breakdown.cells == (("42", 2), (None, 2), ("7", 1), ("true", 1))
    assert sum(n for _, n in breakdown.cells) == breakdown.mau == 6
    assert cells(segments.traits("o", MARCH, "x"))[json.dumps(1e20)] == 1
    assert cells(segments.traits("o", MARCH, "f"))["1.5"] == 1
    assert cells(breakdown) == naive_traits(records, MARCH, "seats")


def test_trait_names_are_taken_literally(meter: Meter) -> None:
    odd = ["a/b", "x.y", "t~1", 'q"', "with space", "ünï"]
    traits = {name: name.upper() for name in odd}
    setup(
        meter,
        [
            ev("identify", at("03-01"), userId="u", traits=traits),
            ev("page", at("03-01"), userId="u"),
        ],
    )
    segments = Segments(meter)
    for name in odd:
        assert segments.traits("o", MARCH, name).cells == ((name.upper(), 1),)
    assert segments.traits("o", MARCH, "x").cells == ((None, 1),)


def test_newest_billing_time_wins_over_a_later_import(meter: Meter) -> None:
    """History imported after newer events does not overwrite their values."""
    setup(meter, [ev("identify", at("03-10"), userId="u", traits={"country": "ES"})])
    setup(meter, [ev("identify", at("03-01"), userId="u", traits={"country": "FR"})])
    setup(meter, [ev("page", at("03-02"), userId="u")])
    assert Segments(meter).traits("o", MARCH, "country").cells == (("ES", 1),)


def test_month_end_is_in_the_orgs_time_zone(meter: Meter) -> None:
    meter.create_org("ny", timezone="America/New_York")
    records = [
        ev("page", "2024-03-20T12:00:00Z", userId="u"),
        ev("identify", "2024-04-01T02:00:00Z", userId="u", traits={"c": "late-march"}),
    ]
    setup(meter, records, org="ny")
    assert Segments(meter).traits("ny", MARCH, "c").cells == (("late-march", 1),)


def test_to_dict_and_an_empty_month(meter: Meter) -> None:
    records = [
        ev("identify", at("03-01"), userId=u, traits={"country": c})
        for u, c in [("a", "FR"), ("b", "FR"), ("c", "ES")]
    ] + [ev("page", at("03-02"), userId=u) for u in "abcd"]
    setup(meter, records)
    segments = Segments(meter)
    assert segments.traits("o", MARCH, "country").to_dict() == {
        "org": "o",
        "month": "2024-03",
        "project": None,
        "dimension": "trait:country",
        "mau": 4,
        "cells": [
            {"value": "FR", "persons": 2, "share": 0.5},
            {"value": "ES", "persons": 1, "share": 0.25},
            {"value": None, "persons": 1, "share": 0.25},
        ],
    }
    empty = segments.traits("o", Month(2023, 1), "country")
    assert (empty.mau, empty.cells) == (0, ())
    assert segments.devices("o", Month(2023, 1)).to_dict()["cells"] == []


def test_latest_values_lists_every_person_with_a_value(meter: Meter) -> None:
    """For series: every person with a value as of a day, counted this month or not."""
    records = [
        ev("identify", at("02-02"), userId="old", traits={"country": "FR"}),  # not active
        ev("page", at("03-01"), anonymousId="v", context={"traits": {"country": "ES"}}),
        ev("identify", at("03-20"), anonymousId="v", userId="ada", traits={"country": "DE"}),
        ev("page", at("03-02"), userId="none"),
    ]
    setup(meter, records)
    segments = Segments(meter)
    graph = meter.store.counts(meter.org("o")).graph

    def latest(until: date | None) -> dict[str, str]:
        roots, values = segments.latest_values("o", MARCH, "country", until=until)
        assert list(roots) == sorted(roots)
        return {graph.values[r]: v for r, v in zip(roots.tolist(), values, strict=True)}

    assert latest(None) == {"old": "FR", "ada": "DE"}
    assert latest(date(2024, 3, 10)) == {"old": "FR", "ada": "ES"}
    assert latest(date(2024, 2, 1)) == {}
    with pytest.raises(InvalidInput):
        segments.latest_values("o", MARCH, "")


# ---- devices ---------------------------------------------------------------------------------


def test_devices_from_form_factor_and_user_agents(meter: Meter) -> None:
    records = [
        ev("page", at("03-01"), userId="phone", context={"device": {"type": "Mobile"}}),
        ev("screen", at("03-01"), userId="app", context={"device": {"type": "ios"}}),
        ev("page", at("03-01"), userId="pad", context={"userAgent": UA["ipad"]}),
        ev("page", at("03-01"), userId="both", context={"userAgent": UA["iphone"]}),
        ev("page", at("03-02"), userId="both", context={"userAgent": UA["windows"]}),
        ev("page", at("03-03"), userId="both", context={"userAgent": UA["windows"]}),
        ev("page", at("03-01"), userId="bare"),
        # not activity: an identify from a desktop does not make "phone" a desktop user
        ev("identify", at("03-04"), userId="phone", context={"userAgent": UA["windows"]}),
        ev("page", at("02-04"), userId="pad", context={"userAgent": UA["windows"]}),  # February
    ]
    setup(meter, records)
    breakdown = Segments(meter).devices("o", MARCH)
    assert breakdown.dimension == "device"
    assert breakdown.mau == meter.mau("o", MARCH).mau == 5
    assert breakdown.cells == (("mobile", 3), ("desktop", 1), ("tablet", 1), ("unknown", 1))
    assert sum(n for _, n in breakdown.cells) == 6 > breakdown.mau  # "both" is in two cells
    assert cells(breakdown) == naive_devices(records, MARCH)
    assert Segments(meter).devices("o", FEB).cells == (("desktop", 1),)
    segments = Segments(meter)
    assert segments.persons("o", MARCH, "device", "mobile").persons == ("app", "both", "phone")
    assert segments.persons("o", MARCH, "device", "desktop").persons == ("both",)


def test_devices_follow_merges_and_project_scope(meter: Meter) -> None:
    setup(meter, [ev("page", at("03-01"), anonymousId="v", context={"userAgent": UA["iphone"]})])
    setup(
        meter,
        [ev("track", at("03-02"), userId="ada", event="E", context={"userAgent": UA["windows"]})],
        project="api",
    )
    setup(meter, [ev("identify", at("03-03"), anonymousId="v", userId="ada")])
    segments = Segments(meter)
    assert cells(segments.devices("o", MARCH)) == {"mobile": 1, "desktop": 1}
    assert segments.devices("o", MARCH).mau == 1
    assert segments.devices("o", MARCH, project="web").cells == (("mobile", 1),)
    assert segments.devices("o", MARCH, project="api").cells == (("desktop", 1),)


# ---- scope, exclusions, persons ---------------------------------------------------------------


def test_project_scope_and_traits_from_any_project(meter: Meter) -> None:
    setup(meter, [ev("page", at("03-01"), userId=u) for u in "ab"], project="web")
    setup(
        meter,
        [
            ev("track", at("03-02"), userId="c", event="E"),
            ev("identify", at("03-02"), userId="a", traits={"country": "FR"}),
        ],
        project="api",
    )
    segments = Segments(meter)
    web = segments.traits("o", MARCH, "country", project="web")
    assert (web.project, web.mau, web.cells) == ("web", 2, (("FR", 1), (None, 1)))
    api = segments.traits("o", MARCH, "country", project="api")
    assert (api.mau, api.cells) == (1, ((None, 1),))
    assert segments.traits("o", MARCH, "country").mau == 3
    assert segments.persons("o", MARCH, "trait:country", None, project="web").persons == ("b",)


def test_internal_persons_are_not_broken_down(meter: Meter) -> None:
    meter.create_org("o")
    rule = replace(preset("any-activity"), internal_user_ids=frozenset({"staff"}))
    meter.create_project("o", "web", rule)
    records = [
        ev("page", at("03-01"), userId="staff", context={"userAgent": UA["ipad"]}),
        ev("identify", at("03-01"), userId="staff", traits={"country": "FR"}),
        ev("page", at("03-01"), userId="u", context={"userAgent": UA["iphone"]}),
    ]
    setup(meter, records)
    setup(
        meter,
        [ev("page", at("03-02"), userId="staff", context={"userAgent": UA["windows"]})],
        project="api",
    )
    segments = Segments(meter)
    assert meter.mau("o", MARCH, "web").mau == 1
    assert segments.traits("o", MARCH, "country", project="web").cells == ((None, 1),)
    assert segments.devices("o", MARCH, project="web").cells == (("mobile", 1),)
    # the org's pool counts staff through "api": its "web" events (an iPad) are not looked at
    pool = segments.devices("o", MARCH)
    assert (pool.mau, cells(pool)) == (2, {"mobile": 1, "desktop": 1})
    assert cells(segments.traits("o", MARCH, "country")) == {"FR": 1, None: 1}


def test_persons_lists_each_cell_and_pages(meter: Meter) -> None:
    countries = {f"u{i:02d}": ("FR" if i % 3 else "ES") if i % 5 else None for i in range(20)}
    records = [
        ev("identify", at("03-01"), userId=u, traits={"country": c})
        for u, c in countries.items()
        if c is not None
    ] + [ev("page", at("03-02"), userId=u) for u in countries]
    setup(meter, records)
    segments = Segments(meter)
    breakdown = segments.traits("o", MARCH, "country")
    seen: list[str] = []
    for value, n in breakdown.cells:
        page = segments.persons("o", MARCH, "trait:country", value)
        expected = sorted(u for u, c in countries.items() if c == value)
        assert (page.total, list(page.persons)) == (n, expected)
        seen += page.persons
    assert sorted(seen) == sorted(countries)
    page = segments.persons("o", MARCH, "trait:country", "FR", limit=3, offset=2)
    fr = sorted(u for u, c in countries.items() if c == "FR")
    assert (page.persons, page.total) == (tuple(fr[2:5]), len(fr))
    assert page.to_dict() == {
        "org": "o",
        "month": "2024-03",
        "project": None,
        "dimension": "trait:country",
        "value": "FR",
        "total": len(fr),
        "limit": 3,
        "offset": 2,
        "persons": fr[2:5],
    }
    assert segments.persons("o", MARCH, "trait:country", "XX").total == 0


def test_validation(meter: Meter) -> None:
    setup(meter, [ev("page", at("03-01"), userId="u")])
    segments = Segments(meter)
    with pytest.raises(NotFound):
        segments.traits("nope", MARCH, "country")
    with pytest.raises(NotFound):
        segments.devices("o", MARCH, project="nope")
    with pytest.raises(NotFound):
        segments.persons("o", MARCH, "device", "mobile", project="nope")
    for bad in ("", "x" * (MAX_TRAIT_CHARS + 1)):
        with pytest.raises(InvalidInput) as caught:
            segments.traits("o", MARCH, bad)
        assert caught.value.problems[0].field == "trait"
    assert segments.traits("o", MARCH, "x" * MAX_TRAIT_CHARS).mau == 1
    for by in ("color", "trait:", "Device", None):
        with pytest.raises(InvalidInput) as caught:
            segments.persons("o", MARCH, by, "x")  # type: ignore[arg-type]
        assert caught.value.problems[0].field == "by"
    cases = [
        ({"by": "device", "value": "phone"}, "value"),
        ({"by": "device", "value": None}, "value"),
        ({"by": "device", "value": "mobile", "limit": 0}, "limit"),
        ({"by": "device", "value": "mobile", "offset": -1}, "offset"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidInput) as caught:
            segments.persons("o", MARCH, **kwargs)
        assert caught.value.problems[0].field == field


# ---- property: random small logs against the naive recount ------------------------------------

USERS, ANONS = ["u0", "u1", "u2"], ["a0", "a1", "a2", "a3"]
VALUES = st.one_of(
    st.none(), st.sampled_from(["FR", "ES", "42"]), st.integers(40, 43), st.booleans(),
    st.just({"nested": 1}), st.just([1]),
)  # fmt: skip
STAMPS = [
    at("02-28", 23),
    at("03-01", 0),
    at("03-01", 0),
    at("03-15"),
    at("03-31", 23),
    at("04-01"),
]


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["identify", "track", "page", "alias", "group"]))
        ids: dict[str, Any] = {}
        who = draw(st.sampled_from(["user", "anon", "both"]))
        if who != "anon" or kind == "alias":
            ids["userId"] = draw(st.sampled_from(USERS))
        if who != "user" and kind != "alias":
            ids["anonymousId"] = draw(st.sampled_from(ANONS))
        if kind == "alias":
            ids["previousId"] = draw(st.sampled_from(USERS + ANONS))
        if kind == "track":
            ids["event"] = "E"
        if kind == "group":
            ids["groupId"] = "g"
        for where in ("traits", "context"):
            value = draw(VALUES)
            if draw(st.booleans()):
                trait = {"country": value} if value is not None or draw(st.booleans()) else {}
                ids[where] = trait if where == "traits" else {"traits": trait}
        if kind != "identify" and kind != "group":
            ids.pop("traits", None)
        out.append(ev(kind, draw(st.sampled_from(STAMPS)), **ids))
    return out


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Meter]:
    path: Path = tmp_path_factory.mktemp("segments") / "p.duckdb"
    with Meter.open(path, clock=lambda: datetime(2024, 3, 15, tzinfo=UTC)) as meter:
        yield meter


_orgs = count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=records())
def test_traits_and_devices_match_the_naive_recount(
    shared: Meter, log: list[dict[str, Any]]
) -> None:
    org = f"p{next(_orgs)}"
    setup(shared, log, org=org)
    segments = Segments(shared)
    for month in (FEB, MARCH):
        breakdown = segments.traits(org, month, "country")
        assert cells(breakdown) == naive_traits(log, month, "country")
        assert breakdown.mau == shared.mau(org, month).mau == sum(n for _, n in breakdown.cells)
        assert cells(segments.devices(org, month)) == naive_devices(log, month)
        listed: list[str] = []
        for value, n in breakdown.cells:
            page = segments.persons(org, month, "trait:country", value)
            assert page.total == n == len(page.persons)
            listed += page.persons
        assert sorted(listed) == [p.person for p in shared.active_persons(org, month)]
    for until in (date(2024, 2, 29), date(2024, 3, 1), date(2024, 4, 30)):
        roots, values = segments.latest_values(org, MARCH, "country", until=until)
        assert len(set(roots.tolist())) == len(roots) == len(values)
        assert Counter(values) == Counter(naive_latest(log, until, "country").values())
