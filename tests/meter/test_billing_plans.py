"""Plans through `Meter`: defaults, rollover chains across a term, the hard cap raised by
rollover at the admission gate, soft-cap overage, and the live usage projection checked against
a naive recount of the accrual curves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import Clock

from maumeter.core.accrual import project
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month
from maumeter.meter import Meter


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def send(meter: Meter, clock: Clock, when: datetime, users: list[str], tag: str = "") -> None:
    clock.now = when
    project = meter.store.project("acme", "web")
    records = [
        {"type": "track", "userId": u, "event": "Logged In", "messageId": f"{tag}{when}-{u}"}
        for u in users
    ]
    result = meter.ingest_project(project, records)
    assert result.accepted == len(users)


@pytest.fixture
def acme(meter: Meter) -> Meter:
    meter.create_org("acme")
    meter.create_project("acme", "web")
    return meter


def naive_chain(
    allotment: int, mau: list[int], term_months: int, max_carried: int | None
) -> list[tuple[int, int]]:
    """(effective cap, carried out) of each month from the start of the first term."""
    out, carried = [], 0
    for i, used in enumerate(mau):
        carried_in = 0 if i % term_months == 0 else carried
        cap = allotment + carried_in
        carried = max(0, cap - used)
        if max_carried is not None:
            carried = min(carried, max_carried)
        if i % term_months == term_months - 1:
            carried = 0
        out.append((cap, carried))
    return out


def test_an_org_without_a_plan_is_on_the_default_tier(acme: Meter) -> None:
    plan = acme.plan("acme")
    assert (plan.tier, plan.allotment, str(plan.policy)) == ("starter", 2500, "none")
    assert acme.mau("acme").cap == 2500


def test_an_org_created_with_a_cap_keeps_it_as_its_allotment(meter: Meter) -> None:
    meter.create_org("capped", cap=10_000, policy="hard")
    plan = meter.plan("capped")
    assert (plan.tier, plan.allotment, str(plan.policy)) == ("pro", 10_000, "hard")
    meter.create_org("odd", cap=77, policy="soft")
    assert (meter.plan("odd").tier, meter.plan("odd").allotment) == ("custom", 77)


def test_setting_a_plan_is_checked_field_by_field(acme: Meter) -> None:
    with pytest.raises(InvalidInput) as bad:
        acme.set_plan("acme", {"tier": "growth", "allotment": 7, "policy": "sometimes"})
    assert {p.field for p in bad.value.problems} == {"policy"}
    with pytest.raises(InvalidInput, match="allots 5,000"):
        acme.set_plan("acme", {"tier": "growth", "allotment": 7})
    with pytest.raises(InvalidInput) as zone:
        acme.set_plan("acme", {"tier": "growth", "timezone": "Europe/Paris"})
    assert zone.value.problems[0].field == "timezone"
    with pytest.raises(InvalidInput) as unknown:
        acme.set_plan("acme", {"tier": "growth", "seats": 3})
    assert unknown.value.problems[0].field == "seats"


def test_rollover_chains_across_a_term_and_stops_at_its_end(acme: Meter, clock: Clock) -> None:
    acme.set_plan(
        "acme",
        {
            "tier": "custom",
            "allotment": 10,
            "policy": "soft",
            "term": {"start": "2024-01", "months": 3},
            "rollover": {"enabled": True, "max_carried": 8},
        },
    )
    mau = [4, 15, 2, 1, 0, 12]  # Jan..Jun 2024: two terms of three months
    for i, n in enumerate(mau):
        month = Month(2024, i + 1)
        send(acme, clock, at(month.first_day()), [f"u{i}-{k}" for k in range(n)])
    clock.now = at(date(2024, 7, 2))
    expected = naive_chain(10, mau, 3, 8)
    for i, (cap, carried_out) in enumerate(expected):
        link = acme.month_cap("acme", Month(2024, i + 1))
        assert (link.mau, link.effective_cap, link.carried_out) == (mau[i], cap, carried_out)
        assert link.overage == max(0, mau[i] - cap)
    assert acme.month_cap("acme", Month(2024, 4)).carried_in == 0  # a new term starts clean


def test_rollover_raises_the_hard_cap_at_the_admission_gate(acme: Meter, clock: Clock) -> None:
    acme.set_plan(
        "acme",
        {
            "tier": "custom",
            "allotment": 5,
            "policy": "hard",
            "term": {"start": "2024-01", "months": 12},
            "rollover": {"enabled": True},
        },
    )
    send(acme, clock, at(date(2024, 1, 10)), ["a", "b"])  # 3 unused roll into February
    clock.now = at(date(2024, 2, 3))
    project = acme.store.project("acme", "web")
    decisions = [acme.admit(project, {"userId": f"p{i}"}) for i in range(10)]
    assert [d.admitted for d in decisions] == [True] * 8 + [False] * 2
    assert decisions[0].cap == 8
    assert acme.mau("acme").mau == 8
    assert acme.live_usage("acme").refused == 2


def test_soft_cap_overage_shows_in_live_usage(acme: Meter, clock: Clock) -> None:
    acme.set_plan(
        "acme",
        {
            "tier": "custom",
            "allotment": 3,
            "policy": "soft",
            "monthly_price": "49.00",
            "overage_price": "0.25",
        },
    )
    send(acme, clock, at(date(2024, 3, 5)), ["a", "b", "c", "d", "e"])
    live = acme.live_usage("acme")
    assert (live.mau, live.effective_cap, live.overage) == (5, 3, 2)
    assert live.percent_used == pytest.approx(166.67)
    shown = live.to_dict()
    assert shown["overage"] == 2
    assert shown["charges_so_far"]["overage_amount"] == "0.50"
    assert shown["charges_so_far"]["total"] == "49.50"
    assert shown["recommended_tier"] == "starter"


def naive_curve(days: dict[date, set[str]], month: Month, last: date) -> list[int]:
    seen: set[str] = set()
    curve = []
    for d in month.days():
        if d > last:
            break
        seen |= days.get(d, set())
        curve.append(len(seen))
    return curve


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 89), st.integers(0, 30)),  # (day offset from Jan 1, person)
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 30),
)
def test_live_projection_matches_a_naive_recount(
    tmp_path_factory: pytest.TempPathFactory, visits: list[tuple[int, int]], today: int
) -> None:
    """The projection is core.accrual.project over curves recounted naively from the events."""
    clock = Clock(datetime(2024, 1, 1, tzinfo=UTC))
    with Meter.open(tmp_path_factory.mktemp("p") / "m.duckdb", clock=clock) as meter:
        meter.create_org("acme")
        meter.create_project("acme", "web")
        days: dict[date, set[str]] = {}
        april = date(2024, 4, 1)
        current = set(visits)
        for offset, person in sorted(current):
            day = date(2024, 1, 1) + timedelta(days=offset)
            days.setdefault(day, set()).add(f"u{person}")
            send(meter, clock, at(day), [f"u{person}"], tag=f"{offset}-")
        # today in April: a few visits so far
        for d in range(1, today + 1):
            if d % 3 == 0:
                day = april.replace(day=d)
                days.setdefault(day, set()).add(f"u{d}")
                send(meter, clock, at(day), [f"u{d}"], tag="apr-")
        clock.now = at(april.replace(day=today), 18)
        live = meter.live_usage("acme")
        month = Month(2024, 4)
        current_curve = naive_curve(days, month, april.replace(day=today))
        earlier = [
            naive_curve(days, m, m.last_day())
            for m in (Month(2024, 3), Month(2024, 2), Month(2024, 1))
        ]
        earlier = [c for c in earlier if c[-1] > 0]
        expected = project(month, current_curve, earlier)
        assert live.projection == expected
        assert live.mau == current_curve[-1]


def test_a_statement_freezes_rollover_overage_and_amounts(acme: Meter, clock: Clock) -> None:
    """Soft cap with rollover and prices: the closed months' statements carry the chain's
    figures, the exact amounts and the tier to recommend; a closed month's MAU feeds the next
    month's carried-in even after late events change its live count."""
    acme.set_plan(
        "acme",
        {
            "tier": "custom",
            "allotment": 3,
            "policy": "soft",
            "term": {"start": "2024-01", "months": 12},
            "rollover": {"enabled": True, "max_carried": 2},
            "monthly_price": "10.00",
            "overage_price": "0.50",
        },
    )
    send(acme, clock, at(date(2024, 1, 10)), ["a"])  # Jan: cap 3, carries out min(2, 2) = 2
    send(acme, clock, at(date(2024, 2, 10)), [f"f{i}" for i in range(8)])  # Feb: cap 5, 3 over
    clock.now = at(date(2024, 3, 9))
    jan = acme.statements.close("acme", Month(2024, 1))
    feb = acme.statements.close("acme", Month(2024, 2))
    assert (jan.figures["effective_cap"], jan.figures["carried_out"]) == (3, 2)
    assert jan.figures["charges"]["total"] == "10.00"
    f = feb.figures
    assert (f["carried_in"], f["effective_cap"], f["overage"]) == (2, 5, 3)
    assert f["charges"]["overage_amount"] == "1.50" and f["charges"]["total"] == "11.50"
    assert f["recommended_tier"]["name"] == "starter"  # the smallest tier that holds 8 MAU

    late = {"type": "track", "userId": "late", "event": "x", "messageId": "late-1"}
    acme.import_records([[{**late, "timestamp": "2024-01-20T10:00:00Z"}]], "acme", "web")
    assert acme.mau("acme", Month(2024, 1)).mau == 2  # live, restated
    assert acme.statements.get("acme", Month(2024, 1)).mau == 1  # frozen
    assert acme.month_cap("acme", Month(2024, 2)).carried_in == 2  # billed on the frozen MAU
