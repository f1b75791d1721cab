"""The rollover chain across contract terms, overage and charges."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.caps import Charges, MonthCap, caps, chain_start, charges, overage
from maumeter.core.months import Month, months_between
from maumeter.core.plans import Plan, Policy, Rollover, Term

JAN = Month(2024, 1)


def plan(
    allotment: int = 1000,
    term: Term | None = None,
    enabled: bool = True,
    max_carried: int | None = None,
    **options: object,
) -> Plan:
    return Plan(None, allotment, term=term, rollover=Rollover(enabled, max_carried), **options)  # type: ignore[arg-type]


def test_unused_allotment_rolls_over_within_the_term() -> None:
    p = plan(1000, Term(JAN, 3))
    mau = {JAN: 600, Month(2024, 2): 1100, Month(2024, 3): 900, Month(2024, 4): 100}
    chain = caps(p, mau, months_between(JAN, Month(2024, 4)))
    got = [(c.carried_in, c.effective_cap, c.carried_out) for c in chain]
    assert got == [
        (0, 1000, 400),
        (400, 1400, 300),
        (300, 1300, 0),  # the term's last month carries nothing out: 400 forfeited
        (0, 1000, 900),  # a new term starts from nothing
    ]
    assert chain[2].forfeited == 400
    assert [c.overage for c in chain] == [0, 0, 0, 0]


def test_max_carried_bounds_the_balance() -> None:
    p = plan(1000, Term(JAN, 12), max_carried=500)
    chain = caps(p, {}, months_between(JAN, Month(2024, 3)))
    assert [(c.carried_in, c.carried_out) for c in chain] == [(0, 500), (500, 500), (500, 500)]
    assert chain[1].forfeited == 1000


def test_without_rollover_the_cap_is_the_allotment() -> None:
    p = plan(1000, Term(JAN, 12), enabled=False)
    chain = caps(p, {JAN: 10}, [JAN, Month(2024, 2)])
    assert [(c.effective_cap, c.carried_out) for c in chain] == [(1000, 0), (1000, 0)]


def test_without_a_term_rollover_chains_over_the_months_given() -> None:
    p = plan(100)
    chain = caps(p, {JAN: 50}, months_between(JAN, Month(2024, 3)))
    assert [c.effective_cap for c in chain] == [100, 150, 250]
    assert [c.effective_cap for c in caps(p, {JAN: 50}, [Month(2024, 2)])] == [100]


def test_chain_starts_at_the_term_start_even_when_asked_mid_term() -> None:
    p = plan(1000, Term(JAN, 12))
    mau = {JAN: 0, Month(2024, 2): 500}
    (march,) = caps(p, mau, [Month(2024, 3)])
    assert march.carried_in == 1500
    assert chain_start(p, Month(2024, 3)) == JAN
    assert chain_start(p, Month(2025, 3)) == Month(2025, 1)
    assert chain_start(p, Month(2023, 3)) == Month(2023, 3)
    assert chain_start(plan(1000, Term(JAN, 12), enabled=False), Month(2024, 3)) == Month(2024, 3)


def test_months_before_the_first_term_roll_nothing() -> None:
    p = plan(1000, Term(Month(2024, 3), 12))
    chain = caps(p, {}, months_between(JAN, Month(2024, 4)))
    assert [(c.carried_in, c.carried_out) for c in chain] == [
        (0, 0),
        (0, 0),
        (0, 1000),
        (1000, 2000),
    ]


def test_caps_wants_consecutive_months() -> None:
    with pytest.raises(ValueError):
        caps(plan(), {}, [JAN, Month(2024, 3)])
    with pytest.raises(ValueError):
        caps(plan(), {}, [Month(2024, 2), JAN])
    assert caps(plan(), {}, []) == []


def test_hard_cap_with_rollover_raises_the_effective_cap() -> None:
    p = plan(1000, Term(JAN, 12), policy=Policy.HARD)
    (feb,) = caps(p, {JAN: 700, Month(2024, 2): 1200}, [Month(2024, 2)])
    assert feb.effective_cap == 1300 and feb.overage == 0


# --- properties of the chain -------------------------------------------------------------------

chains = st.tuples(
    st.integers(0, 5000),  # allotment
    st.integers(1, 13),  # term length
    st.integers(0, 24),  # term start offset (months before JAN)
    st.none() | st.integers(0, 8000),  # max carried
    st.lists(st.integers(0, 9000), min_size=1, max_size=40),  # MAU per month from JAN
)


@given(chains)
def test_chain_properties(args: tuple[int, int, int, int | None, list[int]]) -> None:
    allotment, length, back, max_carried, maus = args
    term = Term(Month.from_index(JAN.index - back), length)
    p = plan(allotment, term, max_carried=max_carried)
    months = [Month.from_index(JAN.index + i) for i in range(len(maus))]
    mau = dict(zip(months, maus, strict=True))
    chain = caps(p, mau, months)
    assert [c.month for c in chain] == months
    for c in chain:
        t = term.covering(c.month)
        assert t is not None
        assert c.effective_cap >= c.allotment == allotment
        assert c.effective_cap == c.allotment + c.carried_in
        assert 0 <= c.carried_out <= c.unused
        if max_carried is not None:
            assert c.carried_out <= max_carried
        if c.month == t.start:
            assert c.carried_in == 0  # nothing crosses into a term
        if c.month == t.end:
            assert c.carried_out == 0  # nothing leaves a term
    for a, b in pairwise(chain):
        assert b.carried_in == (
            a.carried_out if term.covering(a.month) == term.covering(b.month) else 0
        )
    # Over each whole term seen: allotments = capacity used + capacity forfeited.
    for t in {term.covering(c.month) for c in chain}:
        assert t is not None
        inside = [c for c in chain if t.contains(c.month)]
        if inside[0].month == t.start and inside[-1].month == t.end:
            assert sum(c.allotment for c in inside) == sum(c.used + c.forfeited for c in inside)
    # Asking for any suffix gives the same links: the chain restarts at the term start.
    k = len(chain) // 2
    assert caps(p, mau, months[k:]) == chain[k:]


@given(st.integers(0, 5000), st.lists(st.integers(0, 9000), min_size=1, max_size=24))
def test_chain_without_rollover_is_flat(allotment: int, maus: list[int]) -> None:
    months = [Month.from_index(JAN.index + i) for i in range(len(maus))]
    chain = caps(plan(allotment, enabled=False), dict(zip(months, maus, strict=True)), months)
    assert all(c.effective_cap == allotment and c.carried_out == 0 for c in chain)
    assert all(c.overage == max(0, m - allotment) for c, m in zip(chain, maus, strict=True))


def test_month_cap_to_dict() -> None:
    c = MonthCap(JAN, 1300, 1000, 200, 0)
    assert c.to_dict() == {
        "month": "2024-01",
        "mau": 1300,
        "allotment": 1000,
        "carried_in": 200,
        "effective_cap": 1200,
        "carried_out": 0,
        "forfeited": 0,
        "overage": 100,
    }


# --- overage and charges ---------------------------------------------------------------------


def test_overage() -> None:
    assert overage(2600, 2500) == 100
    assert overage(2400, 2500) == 0
    assert overage(10**6, None) == 0


def test_soft_cap_overage_is_priced_exactly() -> None:
    p = plan(
        2500, policy=Policy.SOFT, monthly_price=Decimal("49.00"), overage_price=Decimal("0.015")
    )
    got = charges(p, 2_733, 2500)
    assert got == Charges(Decimal("49.00"), 233, Decimal("3.495"), Decimal("52.495"))
    assert got.to_dict() == {
        "base": "49.00",
        "overage_units": 233,
        "overage_amount": "3.495",
        "total": "52.495",
    }


def test_charges_without_prices_are_none() -> None:
    assert charges(plan(100), 150, 100) == Charges(None, 50, None, None)
    only_overage = plan(100, overage_price=Decimal("0.5"))
    assert charges(only_overage, 150, 100) == Charges(None, 50, Decimal("25.0"), Decimal("25.0"))
    only_base = plan(100, monthly_price=Decimal("9"))
    assert charges(only_base, 50, 100) == Charges(Decimal("9"), 0, None, Decimal("9"))
