"""Optimizely's MAU worksheet as an estimator: arithmetic, rounding up, tiers, validation."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.plans import DEFAULT_TIERS
from maumeter.core.worksheet import Channel, Worksheet, estimate

ANSWERS = {
    "channels": [
        {
            "name": "web",
            "monthly_visitors": 10_000,
            "peak_visitors": 14_000,
            "coverage": 0.9,
            "bot_share": 0.1,
        },
        {"name": "ios", "monthly_visitors": 3_000},
    ],
    "annual_growth": 0.2,
    "overlap": 0.1,
}


def test_the_worksheet_arithmetic() -> None:
    e = estimate(Worksheet.parse(ANSWERS), DEFAULT_TIERS)
    web, ios = e.channels
    assert (web.mau, web.peak) == (8_100, 11_340)  # 10,000 × 0.9 × 0.9; 14,000 × 0.9 × 0.9
    assert (ios.mau, ios.peak) == (3_000, 3_000)  # no peak given: the average
    assert e.mau == 9_990  # (8,100 + 3,000) × 0.9: persons in both channels count once
    assert e.peak == 12_906  # (11,340 + 3,000) × 0.9
    assert len(e.projection) == 12
    assert e.projection[11].mau == 11_988 and e.projection[11].peak == math.ceil(12_906 * 1.2)
    assert e.projection[5].mau == math.ceil(9_990 * 1.2**0.5)  # half a year: (1 + g) ** (6/12)
    assert e.horizon_peak == e.projection[-1].peak
    assert e.tier_now.name == "pro"  # 9,990 MAU now
    assert e.recommended.name == "business"  # a peak of 15,488 within the year


def test_to_dict_carries_the_answers_and_the_figures() -> None:
    d = estimate(Worksheet.parse(ANSWERS), DEFAULT_TIERS).to_dict()
    assert set(d) == {
        "channels",
        "overlap",
        "annual_growth",
        "mau",
        "peak",
        "projection",
        "horizon_peak",
        "tier_now",
        "recommended_tier",
    }
    assert d["channels"][0] == {
        "name": "web",
        "monthly_visitors": 10_000,
        "peak_visitors": 14_000,
        "coverage": 0.9,
        "bot_share": 0.1,
        "mau": 8_100,
        "peak": 11_340,
    }
    assert d["projection"][0] == {"month": 1, "mau": 10_143, "peak": 13_104}
    assert d["recommended_tier"]["name"] == "business" and d["tier_now"]["allotment"] == 10_000


def test_rounding_goes_up_but_not_for_float_noise() -> None:
    assert 400 * (1 - 0.0) * 0.55 == 220.00000000000003  # binary floating point
    noisy = Worksheet((Channel("a", 400, coverage=0.55),))
    assert estimate(noisy, DEFAULT_TIERS).mau == 220
    assert estimate(Worksheet((Channel("a", 1_001, coverage=0.5),)), DEFAULT_TIERS).mau == 501


def test_a_shrinking_prospect_is_not_sold_a_tier_below_its_peak_today() -> None:
    sheet = Worksheet((Channel("web", 4_000, peak_visitors=5_100),), annual_growth=-0.5)
    e = estimate(sheet, DEFAULT_TIERS)
    assert e.projection[-1].peak < e.peak == 5_100
    assert e.horizon_peak == 5_100 and e.recommended.name == "pro"


def test_every_problem_is_reported_with_its_path() -> None:
    data = {
        "channels": [
            {"name": "web", "monthly_visitors": -1, "coverage": 90},
            {"name": "web", "monthly_visitors": 5, "colour": "red"},
            {"name": "", "monthly_visitors": 2.5, "peak_visitors": 1, "bot_share": 1},
            "ios",
        ],
        "overlap": 1,
        "months": 0,
        "annual_growth": -1,
        "currency": "EUR",
    }
    with pytest.raises(InvalidInput) as e:
        Worksheet.parse(data)
    fields = {p.field for p in e.value.problems}
    assert fields == {
        "currency",
        "channels[0].monthly_visitors",
        "channels[0].coverage",
        "channels[1].colour",
        "channels[1].name",  # duplicate
        "channels[2].name",
        "channels[2].monthly_visitors",
        "channels[2].bot_share",
        "channels[3]",
        "overlap",
        "months",
        "annual_growth",
    }
    assert "such as 0.9, got 90" in str(e.value)  # a percentage is not a fraction


def test_other_shape_errors() -> None:
    with pytest.raises(InvalidInput, match="worksheet"):
        Worksheet.parse([])
    with pytest.raises(InvalidInput, match="channels"):
        Worksheet.parse({"channels": []})
    with pytest.raises(InvalidInput, match="with one channel"):
        Worksheet.parse({"channels": [{"name": "web", "monthly_visitors": 1}], "overlap": 0.2})
    with pytest.raises(InvalidInput) as e:
        Channel("web", 100, peak_visitors=50)
    assert e.value.problems[0].field == "peak_visitors"
    with pytest.raises(InvalidInput, match="coverage"):
        Channel("web", 100, coverage=0)


def test_defaults_err_towards_over_counting() -> None:
    sheet = Worksheet.parse({"channels": [{"name": "web", "monthly_visitors": 1_234}]})
    assert (sheet.annual_growth, sheet.overlap, sheet.months) == (0.0, 0.0, 12)
    e = estimate(sheet, DEFAULT_TIERS)
    assert e.mau == e.peak == e.horizon_peak == 1_234
    assert sheet.to_dict()["channels"][0]["coverage"] == 1.0


fractions = st.integers(min_value=0, max_value=1000).map(lambda k: k / 1000)


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**8),
            st.integers(min_value=0, max_value=10**7),
            fractions.filter(lambda c: c > 0),
            fractions.filter(lambda b: b < 1),
        ),
        min_size=1,
        max_size=5,
    ),
    fractions.filter(lambda o: o < 1),
)
def test_never_under_counts_and_channels_add_up(
    rows: list[tuple[int, int, float, float]], overlap: float
) -> None:
    channels = tuple(
        Channel(f"c{i}", v, v + extra, coverage, bots)
        for i, (v, extra, coverage, bots) in enumerate(rows)
    )
    sheet = Worksheet(channels, overlap=overlap if len(channels) > 1 else 0.0)
    e = estimate(sheet, DEFAULT_TIERS)
    for c in e.channels:
        exact = Fraction(c.channel.monthly_visitors) * (1 - Fraction(str(c.channel.bot_share)))
        exact *= Fraction(str(c.channel.coverage))
        assert exact <= c.mau < exact + 1  # rounded up, by less than one person
        assert c.mau <= c.peak
    unique = 1 - Fraction(str(sheet.overlap))
    assert (
        sum(c.mau for c in e.channels) * unique
        <= e.mau
        < sum(c.mau for c in e.channels) * unique + 1
    )
    if sheet.overlap == 0:
        assert e.mau == sum(c.mau for c in e.channels)
    assert e.peak >= e.mau and e.horizon_peak >= e.peak
    assert e.recommended.allotment is None or e.recommended.allotment >= e.horizon_peak
