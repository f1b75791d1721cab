"""Plans: the tier table, terms renewing back to back, plans from JSON."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month
from maumeter.core.plans import (
    DEFAULT_TIERS,
    Plan,
    Policy,
    Rollover,
    Term,
    Tier,
    TierTable,
    recommend,
)


def fields(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [p.field for p in error.value.problems]


# --- tiers -----------------------------------------------------------------------------------


def test_default_tiers_follow_jimo() -> None:
    assert [t.allotment for t in DEFAULT_TIERS.tiers] == [2500, 5000, 10000, 25000, 50000, None]
    assert DEFAULT_TIERS.default.allotment == 2500
    assert DEFAULT_TIERS.tiers[-1].custom


@pytest.mark.parametrize(
    ("mau", "allotment"),
    [(0, 2500), (2500, 2500), (2501, 5000), (10_000, 10_000), (50_000, 50_000), (50_001, None)],
)
def test_fits_picks_the_smallest_tier_that_holds(mau: int, allotment: int | None) -> None:
    assert DEFAULT_TIERS.fits(mau).allotment == allotment
    assert recommend(DEFAULT_TIERS, mau) == DEFAULT_TIERS.fits(mau)


def test_fits_without_custom_tier_returns_the_largest() -> None:
    table = TierTable((Tier("small", 10), Tier("big", 100)))
    assert table.fits(1000).name == "big"


@given(st.integers(0, 200_000), st.integers(0, 200_000))
def test_fits_is_monotone(a: int, b: int) -> None:
    small, large = sorted((a, b))
    order = DEFAULT_TIERS.tiers.index
    assert order(DEFAULT_TIERS.fits(small)) <= order(DEFAULT_TIERS.fits(large))
    tier = DEFAULT_TIERS.fits(large)
    assert tier.custom or tier.allotment >= large  # type: ignore[operator]


allotment_sets = st.lists(st.integers(1, 10**9), min_size=1, max_size=8, unique=True).map(sorted)


@given(allotment_sets, st.booleans(), st.integers(0, 2 * 10**9))
def test_fits_is_the_smallest_that_holds(allotments: list[int], custom: bool, mau: int) -> None:
    tiers = [Tier(f"t{a}", a) for a in allotments] + ([Tier("custom", None)] if custom else [])
    table = TierTable(tuple(tiers))
    tier = table.fits(mau)
    holding = [t for t in tiers if t.allotment is not None and t.allotment >= mau]
    if holding:
        assert tier == holding[0]
    else:
        assert tier == tiers[-1]


def test_table_validation_names_the_field() -> None:
    with pytest.raises(InvalidInput) as e:
        TierTable((Tier("a", 10), Tier("b", 10), Tier("c", None), Tier("d", 50)))
    assert fields(e) == ["tiers[1].allotment", "tiers[2].allotment"]
    with pytest.raises(InvalidInput) as e:
        TierTable((Tier("a", 10), Tier("a", 20)))
    assert fields(e) == ["tiers[1].name"]
    with pytest.raises(InvalidInput):
        TierTable(())
    with pytest.raises(InvalidInput) as e:
        Tier("", 0, Decimal(-1))
    assert fields(e) == ["name", "allotment", "monthly_price"]


def test_table_parses_configuration_json() -> None:
    text = """[
      {"name": "starter", "allotment": 2500, "monthly_price": "49.00", "overage_price": 0.02},
      {"name": "growth", "allotment": 5000, "monthly_price": 89},
      {"name": "custom", "allotment": null}
    ]"""
    table = TierTable.parse(json.loads(text))
    assert table.tiers[0] == Tier("starter", 2500, Decimal("49.00"), Decimal("0.02"))
    assert table.tiers[1].monthly_price == Decimal(89)
    assert table.tiers[2].custom
    assert TierTable.parse(table.to_list()) == table
    assert TierTable.parse(json.loads(json.dumps(DEFAULT_TIERS.to_list()))) == DEFAULT_TIERS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "x"}, ["tiers"]),
        ([{"name": "a", "allotment": 1}, 3], ["tiers[1]"]),
        ([{"name": "a", "allotment": "10"}], ["tiers[0].allotment"]),
        ([{"name": "a", "allotment": True}], ["tiers[0].allotment"]),
        ([{"name": "a", "allotment": 0}], ["tiers[0].allotment"]),
        ([{"name": "", "allotment": 5}], ["tiers[0].name"]),
        ([{"name": "a", "allotment": 5, "overage_price": "-1"}], ["tiers[0].overage_price"]),
        ([{"name": "a", "allotment": 5, "overage_price": "NaN"}], ["tiers[0].overage_price"]),
        ([{"name": "a", "allotment": 5, "monthly_price": "ten"}], ["tiers[0].monthly_price"]),
        ([{"name": "a", "allotment": 5, "price": 1}], ["tiers[0].price"]),
        ([{"name": "a", "allotment": 5}, {"name": "b", "allotment": 4}], ["tiers[1].allotment"]),
        ([], ["tiers"]),
    ],
)
def test_table_parse_errors_name_the_field(data: object, expected: list[str]) -> None:
    with pytest.raises(InvalidInput) as e:
        TierTable.parse(data)
    assert fields(e) == expected


def test_table_parse_roots_errors_at_the_given_field() -> None:
    with pytest.raises(InvalidInput) as e:
        TierTable.parse([{"name": "a", "allotment": 5}, {"name": "a", "allotment": 9}], "billing")
    assert fields(e) == ["billing[1].name"]


# --- terms -----------------------------------------------------------------------------------


def test_term_end_and_contains() -> None:
    term = Term(Month(2024, 11), 12)
    assert term.end == Month(2025, 10)
    assert term.contains(Month(2024, 11)) and term.contains(Month(2025, 10))
    assert not term.contains(Month(2024, 10)) and not term.contains(Month(2025, 11))


def test_terms_renew_back_to_back() -> None:
    term = Term(Month(2024, 11), 12)
    assert term.covering(Month(2024, 10)) is None
    assert term.covering(Month(2025, 10)) == term
    assert term.covering(Month(2025, 11)) == Term(Month(2025, 11), 12)
    assert term.covering(Month(2027, 2)) == Term(Month(2026, 11), 12)
    assert term.renewal(2) == Term(Month(2026, 11), 12)


months = st.integers(Month(2000, 1).index, Month(2100, 12).index).map(Month.from_index)


@given(months, st.integers(1, 36), months)
def test_covering_term_contains_the_month(start: Month, length: int, month: Month) -> None:
    term = Term(start, length)
    covering = term.covering(month)
    if month < start:
        assert covering is None
    else:
        assert covering is not None and covering.contains(month)
        assert covering.months == length
        assert (covering.start.index - start.index) % length == 0


def test_term_validation() -> None:
    with pytest.raises(InvalidInput):
        Term(Month(2024, 1), 0)
    with pytest.raises(TypeError):
        Term("2024-01", 12)  # type: ignore[arg-type]


# --- plans -----------------------------------------------------------------------------------


def test_plan_from_tier_takes_allotment_and_prices() -> None:
    table = TierTable((Tier("s", 100, Decimal("10"), Decimal("0.1")), Tier("custom", None)))
    plan = Plan.build(table, "s")
    assert (plan.tier, plan.allotment, plan.monthly_price, plan.overage_price) == (
        "s",
        100,
        Decimal("10"),
        Decimal("0.1"),
    )
    assert Plan.build(table, "s", monthly_price=Decimal(5)).monthly_price == Decimal(5)
    assert Plan.build(table).tier == "s"  # the default plan
    custom = Plan.build(table, "custom", 5000)
    assert (custom.tier, custom.allotment) == ("custom", 5000)
    bare = Plan.build(table, allotment=123)
    assert (bare.tier, bare.allotment, bare.monthly_price) == (None, 123, None)


def test_plan_build_refuses_contradictions() -> None:
    with pytest.raises(InvalidInput) as e:
        Plan.build(DEFAULT_TIERS, "growth", 6000)
    assert fields(e) == ["allotment"]
    with pytest.raises(InvalidInput) as e:
        Plan.build(DEFAULT_TIERS, "custom")
    assert fields(e) == ["allotment"]
    with pytest.raises(InvalidInput) as e:
        Plan.build(DEFAULT_TIERS, "platinum")
    assert fields(e) == ["tier"]
    assert Plan.build(DEFAULT_TIERS, "growth", 5000).allotment == 5000


def test_plan_validation() -> None:
    with pytest.raises(InvalidInput) as e:
        Plan(None, -1, "strict", "Mars/Olympus")  # type: ignore[arg-type]
    assert fields(e) == ["allotment", "policy", "timezone"]
    assert Plan(None, 5, "soft").policy is Policy.SOFT  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Rollover(True, -1)
    with pytest.raises(InvalidInput):
        Rollover("yes")  # type: ignore[arg-type]


def test_plan_parse_round_trips() -> None:
    data = {
        "tier": "custom",
        "allotment": 120_000,
        "policy": "soft",
        "timezone": "Europe/Paris",
        "term": {"start": "2024-01", "months": 12},
        "rollover": {"enabled": True, "max_carried": 30_000},
        "monthly_price": "1000",
        "overage_price": 0.015,
    }
    plan = Plan.parse(data)
    assert plan == Plan(
        "custom",
        120_000,
        Policy.SOFT,
        "Europe/Paris",
        Term(Month(2024, 1), 12),
        Rollover(True, 30_000),
        Decimal(1000),
        Decimal("0.015"),
    )
    assert Plan.parse(json.loads(json.dumps(plan.to_dict()))) == plan
    default = Plan.parse({})
    assert (default.tier, default.allotment, default.policy) == ("starter", 2500, Policy.NONE)
    assert Plan.parse(default.to_dict()) == default


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], ["plan"]),
        ({"policy": "strict"}, ["policy"]),
        ({"policy": ["hard"]}, ["policy"]),
        ({"timezone": "Nowhere/City"}, ["timezone"]),
        ({"term": {"start": "2024-13", "months": 12}}, ["term.start"]),
        ({"term": {"start": "2024-01", "months": 0}}, ["term.months"]),
        ({"term": "2024-01"}, ["term"]),
        ({"rollover": {"enabled": True, "max_carried": -5}}, ["rollover.max_carried"]),
        ({"rollover": {"on": True}}, ["rollover"]),
        ({"overage_price": "free"}, ["overage_price"]),
        ({"tier": 3}, ["tier"]),
        ({"allotment": 1.5}, ["allotment"]),
        ({"cap": 3}, ["cap"]),
        ({"policy": "x", "overage_price": -1, "cap": 1}, ["cap", "policy", "overage_price"]),
    ],
)
def test_plan_parse_errors_name_the_field(data: object, expected: list[str]) -> None:
    with pytest.raises(InvalidInput) as e:
        Plan.parse(data)
    assert fields(e) == expected
