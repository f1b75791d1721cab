"""Account health: components, renormalised weights, reasons, churn flag, monotonicity, rank."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.health import WEIGHTS, Health, HealthInputs, health, ramp, rank, trend_slope

HEALTHY = HealthInputs(
    "acme",
    monthly_mau=(1_000, 1_050, 1_100),
    mau=600,
    projected_mau=1_150,
    cap=2_000,
    stickiness=0.3,
    at_risk_share=0.05,
    growth_mom=0.05,
)


def test_a_healthy_account_scores_high_without_reasons() -> None:
    h = health(HEALTHY)
    assert h.score == 97  # at-risk 5 % costs 10 % of its 25 points: 2.5, rounded half up
    assert not h.churn_risk and h.reasons == []
    assert set(h.components) == set(WEIGHTS)
    assert sum(h.weights.values()) == pytest.approx(1.0)


def test_a_declining_account_with_its_reasons_most_damaging_first() -> None:
    h = health(
        HealthInputs(
            "globex",
            monthly_mau=(1_000, 880, 780),
            cap=5_000,
            stickiness=0.05,
            at_risk_share=0.41,
            growth_mom=-0.11,
        )
    )
    assert h.churn_risk and h.score < 50
    assert h.reasons == [
        "MAU fell 12 % a month over the last 3 months",  # 30 points, all lost
        "41 % of persons are at risk",  # 25 points, 82 % lost
        "stickiness is low: DAU/MAU 5 %",  # 20 points, 80 % lost
        "MAU fell 11 % month over month",  # 15 points, 80 % lost
        "uses 16 % of its cap (780 of 5,000 MAU): a downgrade candidate",  # 10 points, all lost
    ]
    assert h.components["trend"] == 0.0 and h.components["utilisation"] == 0.0


def test_missing_inputs_are_left_out_and_the_weights_rescaled() -> None:
    h = health(HealthInputs("young", monthly_mau=(10, 20), stickiness=0.25))
    assert h.components == {"stickiness": 1.0} and h.weights == {"stickiness": 1.0}
    assert h.score == 100
    assert h.reasons == [
        "not scored (no data): trend, at_risk, growth, utilisation; the other weights rescaled"
    ]
    nothing = health(HealthInputs("new"))
    assert (nothing.score, nothing.churn_risk) == (50, False)
    assert nothing.reasons == ["no usage data to score yet"]


def test_three_months_without_mau_score_the_trend_zero() -> None:
    h = health(HealthInputs("ghost", monthly_mau=(0, 0, 0)))
    assert h.components == {"trend": 0.0} and h.score == 0 and h.churn_risk
    assert h.reasons[0] == "no MAU in the last 3 months"


def test_utilisation_uses_the_projection_and_a_hard_cap_is_friction() -> None:
    early = HealthInputs("a", monthly_mau=(900,), mau=100, cap=1_000)  # day 3: 100 so far
    assert health(early).components["utilisation"] == 1.0  # judged on last month's 900
    assert health(replace(early, projected_mau=150)).components["utilisation"] == 0.0
    full = HealthInputs("b", mau=1_000, projected_mau=1_400, cap=1_000, hard_cap=True)
    h = health(full)
    assert h.components["utilisation"] == 0.5
    assert h.reasons[0] == (
        "at its hard cap of 1,000 MAU (demand projected at 1,400): new persons are refused"
    )
    assert health(replace(full, hard_cap=False)).components["utilisation"] == 1.0  # overage


def test_a_steep_decline_with_many_at_risk_is_a_churn_risk_whatever_the_score() -> None:
    h = health(
        HealthInputs(
            "c", monthly_mau=(1_000, 900, 800), stickiness=0.5, at_risk_share=0.3, growth_mom=0.1
        )
    )
    assert h.score >= 50 and h.churn_risk


def test_trend_slope_is_ordinary_least_squares_over_the_mean() -> None:
    for ys in ([5, 9, 4], [100, 90, 70], [3, 3, 3], [7, 1, 2, 8, 20]):
        last = ys[-3:]
        ols = statistics.linear_regression([0, 1, 2], last).slope
        assert trend_slope(ys) == pytest.approx(ols / statistics.fmean(last))
    assert trend_slope([1, 2]) is None and trend_slope([0, 0, 0]) is None


def test_ramp() -> None:
    assert ramp(-0.2, -0.1, 0.05) == 0.0 and ramp(0.1, -0.1, 0.05) == 1.0
    assert ramp(0.25, 0.5, 0.0) == 0.5  # decreasing ramps: breakpoints in either order


def test_invalid_inputs_name_their_fields() -> None:
    with pytest.raises(InvalidInput) as e:
        HealthInputs(
            "",
            monthly_mau=(1, -2),
            cap=0,
            stickiness=1.5,
            at_risk_share=float("nan"),
            growth_mom=-2.0,
        )
    assert [p.field for p in e.value.problems] == [
        "org",
        "monthly_mau",
        "cap",
        "stickiness",
        "at_risk_share",
        "growth_mom",
    ]


def test_to_dict() -> None:
    d = health(HEALTHY).to_dict()
    assert set(d) == {"org", "score", "churn_risk", "reasons", "components", "weights"}
    assert d["weights"]["trend"] == 0.3 and d["org"] == "acme"


def test_rank_puts_churn_risks_first_then_low_scores_then_names() -> None:
    healths = [
        Health("b", 80, False, [], {}),
        Health("a", 80, False, [], {}),
        Health("z", 60, True, [], {}),
        Health("y", 30, True, [], {}),
        Health("c", 55, False, [], {}),
    ]
    assert [h.org for h in rank(healths)] == ["y", "z", "c", "a", "b"]


fraction = st.floats(min_value=0, max_value=1)
maybe = st.none() | fraction
mau = st.integers(min_value=0, max_value=10**6)


@st.composite
def inputs(draw: st.DrawFn) -> HealthInputs:
    return HealthInputs(
        "org",
        monthly_mau=tuple(draw(st.lists(mau, max_size=4))),
        mau=draw(st.none() | mau),
        projected_mau=draw(st.none() | mau),
        cap=draw(st.none() | st.integers(min_value=1, max_value=10**6)),
        hard_cap=draw(st.booleans()),
        stickiness=draw(maybe),
        at_risk_share=draw(maybe),
        growth_mom=draw(st.none() | st.floats(min_value=-1, max_value=2)),
    )


@given(inputs())
def test_score_is_bounded_and_components_are_fractions(i: HealthInputs) -> None:
    h = health(i)
    assert 0 <= h.score <= 100
    assert all(0 <= v <= 1 for v in h.components.values())
    assert h.churn_risk or h.score >= 50
    said = [r for r in h.reasons if not r.startswith(("not scored", "no usage data"))]
    assert len(said) == sum(v < 0.6 for v in h.components.values())


@given(inputs(), fraction, fraction, st.floats(min_value=0, max_value=1), st.integers(0, 10**6))
def test_a_worse_input_never_raises_the_score(
    i: HealthInputs, more_risk: float, less_sticky: float, less_growth: float, fewer: int
) -> None:
    before = health(i).score
    if i.at_risk_share is not None:
        worse = replace(i, at_risk_share=i.at_risk_share + (1 - i.at_risk_share) * more_risk)
        assert health(worse).score <= before
    if i.stickiness is not None:
        assert health(replace(i, stickiness=i.stickiness * less_sticky)).score <= before
    if i.growth_mom is not None:
        lower = i.growth_mom - (i.growth_mom + 1) * less_growth
        assert health(replace(i, growth_mom=lower)).score <= before
    if i.monthly_mau:  # a lower last complete month: a weaker trend and, maybe, utilisation
        soft = replace(i, hard_cap=False)  # at a hard cap, fewer persons is less friction
        last = i.monthly_mau[-1] - min(fewer, i.monthly_mau[-1])
        lower = replace(soft, monthly_mau=(*i.monthly_mau[:-1], last))
        assert health(lower).score <= health(soft).score
