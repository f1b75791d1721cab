"""Account health: one 0–100 score per org, with the reasons behind it, for customer success.

The score is a weighted mean of five components, each mapped to 0..1 by a clamped linear ramp
between two documented breakpoints (below the first 0, above the second 1, a straight line
between), so that every point of the score can be traced to an input:

===========  ======  ======================================================  ============
component    weight  input                                                   0 → 1
===========  ======  ======================================================  ============
trend        30      OLS slope of the last 3 complete months' MAU, per       −10 % → +5 %
                     month, as a share of their mean
at_risk      25      at-risk persons / persons of the last 90 days           50 % → 0 %
stickiness   20      mean DAU/MAU (last complete month or last 28 days)      0 → 25 %
growth       15      month-over-month MAU growth                             −15 % → +5 %
utilisation  10      MAU / effective cap (see below)                         20 % → 50 %
===========  ======  ======================================================  ============

**Utilisation** uses the month-end projection when there is one, else the last complete month
(MAU so far is an under-count early in a month and would read as a downgrade signal), and
never less than MAU so far. An account using under 20 % of its cap is paying for a plan it does
not need: a downgrade or churn signal. At or above the cap under a *hard* policy new persons are
being refused: friction, scored 0.5 whatever the ramp says. Over the cap under a soft policy is
overage, not a health problem (1).

**Missing inputs** (no cap, fewer than 3 complete months, no stickiness yet) are left out and
the weights of the others renormalised, so that a young account is not punished for being
young; a reason says which were left out. An org with no input at all scores a neutral 50. Three
months of no MAU at all score the trend 0.

**Reasons**: one sentence per component scoring under 0.6, the most damaging first (weight ×
shortfall from 1, after renormalisation).

**Churn risk**: score under 50, or MAU falling 10 % a month or faster while 30 % or more of the
persons are at risk (a steep decline that the other components could mask).

Monotone by construction: a worse input never raises the score. Pure: numbers in, numbers out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from maumeter.core.errors import InvalidInput, Problem

__all__ = ["WEIGHTS", "Health", "HealthInputs", "health", "ramp", "rank", "trend_slope"]

WEIGHTS: dict[str, int] = {
    "trend": 30,
    "at_risk": 25,
    "stickiness": 20,
    "growth": 15,
    "utilisation": 10,
}
REASON_BELOW = 0.6  # components under this get a sentence
CHURN_SCORE = 50
CHURN_SLOPE, CHURN_AT_RISK = -0.10, 0.3
HARD_CAP_FRICTION = 0.5
TREND_MONTHS = 3


def ramp(value: float, zero_at: float, one_at: float) -> float:
    """0 at ``zero_at``, 1 at ``one_at``, linear between and clamped outside (either order)."""
    t = (value - zero_at) / (one_at - zero_at)
    return min(1.0, max(0.0, t))


def trend_slope(monthly: Sequence[int]) -> float | None:
    """OLS slope over the last 3 values (x = 0, 1, 2) divided by their mean: the relative
    change per month. None with fewer than 3 values or a zero mean."""
    if len(monthly) < TREND_MONTHS:
        return None
    a, _, c = monthly[-TREND_MONTHS:]
    mean = sum(monthly[-TREND_MONTHS:]) / TREND_MONTHS
    return None if mean == 0 else (c - a) / 2 / mean  # OLS on x = 0, 1, 2 is (y2 - y0) / 2


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f} %"


@dataclass(frozen=True, slots=True)
class HealthInputs:
    """What the score reads for one org; None (or no months) means not known."""

    org: str
    monthly_mau: tuple[int, ...] = ()
    mau: int | None = None
    projected_mau: int | None = None
    cap: int | None = None
    hard_cap: bool = False
    stickiness: float | None = None
    at_risk_share: float | None = None
    growth_mom: float | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not isinstance(self.org, str) or not self.org:
            problems.append(Problem("org", f"expected an org name, got {self.org!r}"))
        if isinstance(self.monthly_mau, list):
            object.__setattr__(self, "monthly_mau", tuple(self.monthly_mau))
        if not isinstance(self.monthly_mau, tuple) or not all(_whole(v) for v in self.monthly_mau):
            problems.append(
                Problem("monthly_mau", f"expected whole numbers from 0, got {self.monthly_mau!r}")
            )
        for name in ("mau", "projected_mau"):
            value = getattr(self, name)
            if value is not None and not _whole(value):
                problems.append(Problem(name, f"expected a whole number from 0, got {value!r}"))
        if self.cap is not None and not (_whole(self.cap) and self.cap >= 1):
            problems.append(Problem("cap", f"expected a whole number from 1, got {self.cap!r}"))
        if not isinstance(self.hard_cap, bool):
            problems.append(Problem("hard_cap", f"expected true or false, got {self.hard_cap!r}"))
        for name in ("stickiness", "at_risk_share"):
            value = getattr(self, name)
            if value is not None and not (_number(value) and 0 <= value <= 1):
                problems.append(Problem(name, f"expected a fraction from 0 to 1, got {value!r}"))
        g = self.growth_mom
        if g is not None and not (_number(g) and g >= -1):
            problems.append(
                Problem("growth_mom", f"expected a fraction from -1 such as 0.05, got {g!r}")
            )
        if problems:
            raise InvalidInput(problems)

    @property
    def usage(self) -> int | None:
        """The MAU the cap utilisation is measured with (see the module docstring)."""
        if self.projected_mau is not None:
            usage = self.projected_mau
        elif self.monthly_mau:
            usage = self.monthly_mau[-1]
        else:
            usage = self.mau
        if usage is None:
            return None
        return max(usage, self.mau or 0)


def _whole(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 0


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class Health:
    """An org's score (0–100, higher is healthier), churn flag, reasons and components (0..1).

    ``weights`` are the renormalised weights actually used (summing to 1)."""

    org: str
    score: int
    churn_risk: bool
    reasons: list[str]
    components: dict[str, float]
    weights: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "score": self.score,
            "churn_risk": self.churn_risk,
            "reasons": list(self.reasons),
            "components": {k: round(v, 4) for k, v in self.components.items()},
            "weights": {k: round(v, 4) for k, v in self.weights.items()},
        }


def _components(inputs: HealthInputs) -> dict[str, tuple[float, str]]:
    """Each known component's value and the sentence said when it is low."""
    found: dict[str, tuple[float, str]] = {}
    recent = inputs.monthly_mau[-TREND_MONTHS:]
    slope = trend_slope(inputs.monthly_mau)
    if slope is not None:
        verb = "fell" if slope < 0 else "grew"
        found["trend"] = (
            ramp(slope, -0.10, 0.05),
            f"MAU {verb} {_pct(slope)} a month over the last {TREND_MONTHS} months",
        )
    elif len(recent) == TREND_MONTHS:  # three complete months, none with MAU
        found["trend"] = (0.0, f"no MAU in the last {TREND_MONTHS} months")
    if inputs.at_risk_share is not None:
        found["at_risk"] = (
            ramp(inputs.at_risk_share, 0.5, 0.0),
            f"{_pct(inputs.at_risk_share)} of persons are at risk",
        )
    if inputs.stickiness is not None:
        found["stickiness"] = (
            ramp(inputs.stickiness, 0.0, 0.25),
            f"stickiness is low: DAU/MAU {_pct(inputs.stickiness)}",
        )
    if inputs.growth_mom is not None:
        verb = "fell" if inputs.growth_mom < 0 else "grew only"
        found["growth"] = (
            ramp(inputs.growth_mom, -0.15, 0.05),
            f"MAU {verb} {_pct(inputs.growth_mom)} month over month",
        )
    usage = inputs.usage
    if inputs.cap is not None and usage is not None:
        share = usage / inputs.cap
        if inputs.hard_cap and share >= 1:
            found["utilisation"] = (
                HARD_CAP_FRICTION,
                f"at its hard cap of {inputs.cap:,} MAU (demand projected at {usage:,}): "
                "new persons are refused",
            )
        else:
            found["utilisation"] = (
                ramp(share, 0.2, 0.5),
                f"uses {_pct(share)} of its cap ({usage:,} of {inputs.cap:,} MAU): "
                "a downgrade candidate",
            )
    return found


def health(inputs: HealthInputs) -> Health:
    """Score one org (see the module docstring for the components and breakpoints)."""
    found = _components(inputs)
    total = sum(WEIGHTS[name] for name in found)
    weights = {name: WEIGHTS[name] / total for name in found}
    components = {name: value for name, (value, _) in found.items()}
    if found:
        raw = 100 * sum(weights[name] * value for name, value in components.items())
        score = min(100, max(0, math.floor(raw + 0.5 + 1e-9)))  # half up, float noise forgiven
    else:
        score = 50
    damage = sorted(
        (-weights[name] * (1 - value), list(WEIGHTS).index(name), sentence)
        for name, (value, sentence) in found.items()
        if value < REASON_BELOW
    )
    reasons = [sentence for _, _, sentence in damage]
    missing = [name for name in WEIGHTS if name not in found]
    if not found:
        reasons.append("no usage data to score yet")
    elif missing:
        reasons.append(f"not scored (no data): {', '.join(missing)}; the other weights rescaled")
    slope = trend_slope(inputs.monthly_mau)
    steep = (
        slope is not None
        and slope <= CHURN_SLOPE
        and inputs.at_risk_share is not None
        and inputs.at_risk_share >= CHURN_AT_RISK
    )
    churn = score < CHURN_SCORE or steep
    return Health(inputs.org, score, churn, reasons, components, weights)


def rank(healths: Iterable[Health]) -> list[Health]:
    """Riskiest first: churn risks, then by score ascending, then by org name."""
    return sorted(healths, key=lambda h: (not h.churn_risk, h.score, h.org))
