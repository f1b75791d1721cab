"""Optimizely's MAU forecasting worksheet, as an estimator of the MAU a prospect will be billed.

Optimizely asks four questions before a contract: where the SDK will run (channels: Android,
iOS, website, regions, business units), how many unique visitors each channel has per month
(the yearly average, and the peak), how complete the implementation is (the share of visitors
who will meet the SDK) and how much annual growth to expect. Each channel becomes

    MAU = visitors × (1 − bot share) × coverage

(Optimizely's visitor figure should already exclude bots; ``bot_share`` is there for analytics
figures that do not). MAU is one pool per org (DESIGN.md: a person active in several projects
counts once), so persons present in more than one channel are counted once: the total is the
sum of the channels times ``1 − overlap``. The peak uses each channel's peak visitors, or its
average when no peak is known.

Growth compounds monthly: month ``m`` of the projection (``m = 1`` is the first month from now,
``m = 12`` a year out) is ``figure × (1 + annual_growth) ** (m / 12)``. The recommended tier
holds the largest peak of the horizon (now included, so a shrinking prospect is not sold a
tier below its current peak); ``tier_now`` holds the average MAU as it is today.

**Rounding**: every figure is rounded up to a whole person (``math.ceil``): an estimate that
under-counts leads to a plan that caps real users, one that over-counts costs a tier at most.
Channel figures are rounded first and the total is computed from the rounded channels, so
with no overlap the channels add up to the total. Float noise below a millionth of a person
is dropped before rounding up (``900.0000000000001`` is 900, not 901).

Defaults err towards over-counting: coverage 1 (the SDK on every page), no bots, no overlap,
no growth. Pure: numbers in, numbers out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maumeter.core.errors import InvalidInput, Problem
from maumeter.core.plans import Tier, TierTable, recommend

__all__ = ["Channel", "ChannelEstimate", "Estimate", "ProjectedMonth", "Worksheet", "estimate"]

MAX_MONTHS = 120
MAX_GROWTH = 100  # +10,000 % a year: beyond it the figures are not an estimate
_CHANNEL_FIELDS = {"name", "monthly_visitors", "peak_visitors", "coverage", "bot_share"}
_WORKSHEET_FIELDS = {"channels", "annual_growth", "overlap", "months"}


def _up(x: float) -> int:
    """Round up to a whole person, ignoring float noise (see the module docstring)."""
    return math.ceil(round(x, 6))


def _is_number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and abs(value) < 2**63
    )


def _visitors(value: Any, name: str, problems: list[Problem]) -> bool:
    if _whole(value) and 0 <= value < 2**63:
        return True
    problems.append(Problem(name, f"expected a whole number of visitors from 0, got {value!r}"))
    return False


def _fraction(
    value: Any, name: str, problems: list[Problem], *, zero: bool, one: bool, example: str
) -> None:
    """A fraction in [0, 1] whose ends are allowed or not; percentages (90) are refused."""
    ok = (
        _is_number(value)
        and (value >= 0 if zero else value > 0)
        and (value <= 1 if one else value < 1)
    )
    if not ok:
        span = f"{'[' if zero else '('}0, 1{']' if one else ')'}"
        problems.append(
            Problem(name, f"expected a fraction in {span} such as {example}, got {value!r}")
        )


def _whole(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


def _check_answers(
    annual_growth: Any, overlap: Any, months: Any, channels: int, problems: list[Problem]
) -> None:
    """The worksheet's scalar answers; ``channels`` is how many channels it has."""
    if not _is_number(annual_growth) or not -1 < annual_growth <= MAX_GROWTH:
        problems.append(
            Problem(
                "annual_growth",
                f"expected a fraction above -1 and up to {MAX_GROWTH} such as 0.2 (+20 % a "
                f"year), got {annual_growth!r}",
            )
        )
    _fraction(overlap, "overlap", problems, zero=True, one=False, example="0.1")
    if channels == 1 and _is_number(overlap) and overlap > 0:
        problems.append(
            Problem("overlap", "with one channel nobody is in more than one; expected 0")
        )
    if not _whole(months) or not 1 <= months <= MAX_MONTHS:
        problems.append(Problem("months", f"expected 1 to {MAX_MONTHS} months, got {months!r}"))


@dataclass(frozen=True, slots=True)
class Channel:
    """One place the SDK runs: average (and peak) unique monthly visitors, the share of them
    the SDK reaches (``coverage``) and the share that are bots."""

    name: str
    monthly_visitors: int
    peak_visitors: int | None = None
    coverage: float = 1.0
    bot_share: float = 0.0

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(Problem("name", f"expected a channel name, got {self.name!r}"))
        average_ok = _visitors(self.monthly_visitors, "monthly_visitors", problems)
        if self.peak_visitors is not None:
            peak_ok = _visitors(self.peak_visitors, "peak_visitors", problems)
            if average_ok and peak_ok and self.peak_visitors < self.monthly_visitors:
                problems.append(
                    Problem(
                        "peak_visitors",
                        f"expected at least the average monthly_visitors "
                        f"({self.monthly_visitors:,}), got {self.peak_visitors:,}",
                    )
                )
        _fraction(self.coverage, "coverage", problems, zero=False, one=True, example="0.9")
        _fraction(self.bot_share, "bot_share", problems, zero=True, one=False, example="0.05")
        if problems:
            raise InvalidInput(problems)

    def mau(self) -> float:
        return self.monthly_visitors * (1 - self.bot_share) * self.coverage

    def peak(self) -> float:
        visitors = self.monthly_visitors if self.peak_visitors is None else self.peak_visitors
        return visitors * (1 - self.bot_share) * self.coverage


@dataclass(frozen=True, slots=True)
class Worksheet:
    """The answers for one prospect: its channels, expected annual growth (0.2 is +20 % a
    year), the share of persons present in more than one channel, and the projection's length."""

    channels: tuple[Channel, ...]
    annual_growth: float = 0.0
    overlap: float = 0.0
    months: int = 12

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if isinstance(self.channels, list):
            object.__setattr__(self, "channels", tuple(self.channels))
        if not isinstance(self.channels, tuple) or not self.channels:
            problems.append(Problem("channels", "expected at least one channel"))
        else:
            seen: set[str] = set()
            for i, channel in enumerate(self.channels):
                if not isinstance(channel, Channel):
                    problems.append(
                        Problem(f"channels[{i}]", f"expected a Channel, got {channel!r}")
                    )
                elif channel.name in seen:
                    problems.append(
                        Problem(f"channels[{i}].name", f"duplicate channel {channel.name!r}")
                    )
                else:
                    seen.add(channel.name)
        count = len(self.channels) if isinstance(self.channels, tuple) else 0
        _check_answers(self.annual_growth, self.overlap, self.months, count, problems)
        if problems:
            raise InvalidInput(problems)

    @classmethod
    def parse(cls, data: Any) -> Worksheet:
        """From API/CLI JSON: ``{"channels": [{"name", "monthly_visitors", "peak_visitors"?,
        "coverage"?, "bot_share"?}], "annual_growth"?, "overlap"?, "months"?}``. Every problem
        is reported at once, named by its path (``channels[1].coverage``)."""
        if not isinstance(data, Mapping):
            raise InvalidInput.field("worksheet", f"expected an object, got {type(data).__name__}")
        problems = [
            Problem(k, "unknown field") for k in sorted(set(data) - _WORKSHEET_FIELDS, key=str)
        ]
        raw = data.get("channels")
        channels: list[Channel] = []
        names: set[str | None] = set()
        if isinstance(raw, str | bytes) or not isinstance(raw, Sequence) or not raw:
            problems.append(
                Problem("channels", f"expected a list of at least one channel, got {raw!r}")
            )
            raw = []
        for i, item in enumerate(raw):
            path = f"channels[{i}]"
            if not isinstance(item, Mapping):
                problems.append(Problem(path, "expected an object with name and monthly_visitors"))
                continue
            unknown = sorted(set(item) - _CHANNEL_FIELDS, key=str)
            problems.extend(Problem(f"{path}.{k}", "unknown field") for k in unknown)
            options = {k: item[k] for k in ("coverage", "bot_share") if k in item}
            try:
                channel = Channel(
                    item.get("name"),  # type: ignore[arg-type]
                    item.get("monthly_visitors"),  # type: ignore[arg-type]
                    item.get("peak_visitors"),
                    **options,
                )
            except InvalidInput as e:
                problems.extend(Problem(f"{path}.{p.field}", p.message) for p in e.problems)
            else:
                channels.append(channel)
            if isinstance(item.get("name"), str) and item["name"] in names:
                problems.append(Problem(f"{path}.name", f"duplicate channel {item['name']!r}"))
            names.add(item.get("name") if isinstance(item.get("name"), str) else None)
        options = {k: data[k] for k in ("annual_growth", "overlap", "months") if k in data}
        answers = {"annual_growth": 0.0, "overlap": 0.0, "months": 12} | options
        _check_answers(**answers, channels=len(raw), problems=problems)
        if problems:
            raise InvalidInput(problems)
        return cls(tuple(channels), **options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channels": [
                {
                    "name": c.name,
                    "monthly_visitors": c.monthly_visitors,
                    "peak_visitors": c.peak_visitors,
                    "coverage": c.coverage,
                    "bot_share": c.bot_share,
                }
                for c in self.channels
            ],
            "annual_growth": self.annual_growth,
            "overlap": self.overlap,
            "months": self.months,
        }


@dataclass(frozen=True, slots=True)
class ChannelEstimate:
    """A channel's estimated MAU, average and peak, before the overlap is taken out."""

    channel: Channel
    mau: int
    peak: int

    def to_dict(self) -> dict[str, Any]:
        c = self.channel
        return {
            "name": c.name,
            "monthly_visitors": c.monthly_visitors,
            "peak_visitors": c.peak_visitors,
            "coverage": c.coverage,
            "bot_share": c.bot_share,
            "mau": self.mau,
            "peak": self.peak,
        }


@dataclass(frozen=True, slots=True)
class ProjectedMonth:
    """Month ``offset`` from now (1 is the next month): average and peak MAU with growth."""

    offset: int
    mau: int
    peak: int

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.offset, "mau": self.mau, "peak": self.peak}


@dataclass(frozen=True, slots=True)
class Estimate:
    """The worksheet's answer: MAU now (average and peak), the projection, and two tiers."""

    worksheet: Worksheet
    channels: tuple[ChannelEstimate, ...]
    mau: int
    peak: int
    projection: tuple[ProjectedMonth, ...]
    horizon_peak: int
    tier_now: Tier
    recommended: Tier

    def to_dict(self) -> dict[str, Any]:
        return {
            "channels": [c.to_dict() for c in self.channels],
            "overlap": self.worksheet.overlap,
            "annual_growth": self.worksheet.annual_growth,
            "mau": self.mau,
            "peak": self.peak,
            "projection": [p.to_dict() for p in self.projection],
            "horizon_peak": self.horizon_peak,
            "tier_now": self.tier_now.to_dict(),
            "recommended_tier": self.recommended.to_dict(),
        }


def estimate(worksheet: Worksheet, tiers: TierTable) -> Estimate:
    """Estimate MAU from ``worksheet``'s answers and pick tiers of ``tiers`` for it."""
    channels = tuple(ChannelEstimate(c, _up(c.mau()), _up(c.peak())) for c in worksheet.channels)
    unique = 1 - worksheet.overlap
    mau = _up(sum(c.mau for c in channels) * unique)
    peak = _up(sum(c.peak for c in channels) * unique)
    projection = tuple(
        ProjectedMonth(m, _up(mau * factor), _up(peak * factor))
        for m in range(1, worksheet.months + 1)
        for factor in [(1 + worksheet.annual_growth) ** (m / 12)]
    )
    horizon_peak = max([peak, *(p.peak for p in projection)])
    return Estimate(
        worksheet,
        channels,
        mau,
        peak,
        projection,
        horizon_peak,
        recommend(tiers, mau),
        recommend(tiers, horizon_peak),
    )
