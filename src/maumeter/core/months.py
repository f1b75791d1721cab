"""Periods: calendar months in an org's time zone (billing), days, ISO weeks, rolling windows.

This module is the scalar reference for every period computation: the stores' vectorized code
(``maumeter.store.localtime``) is tested against it. It reads no clock: instants come in as
parameters, and they must be timezone-aware so that "which month" never depends on the machine.

The period of an instant is the local calendar date of that instant in the org's zone; bounds
(``Month.start``/``Month.end``, ``day_bounds``) are derived from that definition, and they stay
right on DST days (23 or 25 hours), in zones with :30/:45 offsets and on days a zone skipped.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maumeter.core.errors import InvalidInput

__all__ = [
    "UNITS",
    "Month",
    "Period",
    "Unit",
    "day_bounds",
    "epoch_day",
    "from_epoch_day",
    "iso_week_label",
    "local_date",
    "months_between",
    "period_label",
    "period_of",
    "periods_in_range",
    "rolling_window",
    "week_start",
    "zone",
]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_US = timedelta(microseconds=1)
_MONTH_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})")
# Files found under the zoneinfo search path that are not IANA zones an org can pick: the
# machine's own zone, zic's template, and the leap-second ("right/") and duplicate trees.
_NOT_ZONES = frozenset({"localtime", "posixrules"})
_NOT_ZONE_PREFIXES = ("right/", "posix/")

Unit = Literal["day", "week", "month"]
UNITS: tuple[Unit, ...] = ("day", "week", "month")


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; anything else is an input error the user can fix.

    Machine-dependent names (``localtime``) and leap-second variants (``right/...``) are
    refused: an org's months must not depend on where the meter runs.
    """
    if isinstance(name, str) and name not in _NOT_ZONES and not name.startswith(_NOT_ZONE_PREFIXES):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # ValueError: a malformed key or not a TZif file; OSError: 'America' (a folder)
    raise InvalidInput.field(
        "timezone",
        f"unknown time zone {name!r}; expected an IANA name such as 'Europe/Paris' or 'UTC'",
    )


def _require_aware(instant: datetime) -> None:
    """Reject naive datetimes: their month would depend on an unknown zone."""
    if not isinstance(instant, datetime):
        raise TypeError(f"expected a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: instants must be timezone-aware")


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar date of ``instant`` on a wall clock in ``tz``: the definition of its day."""
    _require_aware(instant)
    return instant.astimezone(tz).date()


def _day_start(d: date, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) whose local date in ``tz`` is ``d`` or later.

    Usually local midnight. If midnight was skipped (a DST gap at or across midnight, or a
    whole skipped day such as Pacific/Apia's 2011-12-30) the day starts at the transition. If
    midnight happened twice (clocks set back across midnight, e.g. America/Goose_Bay
    1987-2010) this is its first occurrence; local dates are then not monotonic around it, and
    ``local_date`` stays the definition of an instant's day.
    """
    wall = datetime.combine(d, time(0), tzinfo=tz)
    first = wall.astimezone(UTC)  # fold=0: the earlier instant, or the pre-transition offset
    if first.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return first
    # Midnight is in a gap: fold=1 maps it before the transition, fold=0 after. Bisect for the
    # transition itself, to the microsecond (transitions can fall at :30, :45 or odd seconds).
    before = wall.replace(fold=1).astimezone(UTC)
    lo, hi = 0, (first - before) // _ONE_US  # local date < d at lo, >= d at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if (before + mid * _ONE_US).astimezone(tz).date() < d:
            lo = mid
        else:
            hi = mid
    return before + hi * _ONE_US


def day_bounds(d: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants ``[start, end)`` of local day ``d``: 23 or 25 hours on DST days, and
    empty for a day the zone skipped."""
    return _day_start(d, tz), _day_start(d + timedelta(days=1), tz)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month, the billing period; ordered chronologically."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if type(self.year) is not int or type(self.month) is not int:
            raise TypeError(f"Month fields must be ints, got {self.year!r}, {self.month!r}")
        if not 1 <= self.year <= 9999 or not 1 <= self.month <= 12:
            raise ValueError(f"no such month: year {self.year}, month {self.month}")

    @classmethod
    def optional(cls, text: str | None) -> Month | None:
        """:meth:`parse`, or None for a month not given (None or an empty form field)."""
        return cls.parse(text) if text else None

    @classmethod
    def parse(cls, text: str) -> Month:
        """Strict ``YYYY-MM``, the one spelling used in URLs, statements and the CLI."""
        match = _MONTH_TEXT.fullmatch(text) if isinstance(text, str) else None
        if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
            raise InvalidInput.field(
                "month", f"invalid month {text!r}; expected YYYY-MM such as '2024-03'"
            )
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, instant: datetime, tz: ZoneInfo) -> Month:
        """The month of ``instant`` on a wall clock in ``tz`` (the org's billing zone)."""
        return cls.of_date(local_date(instant, tz))

    @classmethod
    def of_date(cls, d: date) -> Month:
        """The month containing calendar date ``d``."""
        if isinstance(d, datetime):
            raise TypeError("Month.of_date takes a date; use Month.of(instant, tz) for instants")
        return cls(d.year, d.month)

    @classmethod
    def from_index(cls, index: int) -> Month:
        """Inverse of ``index``: lets vectorized code carry months as plain integers."""
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    @property
    def index(self) -> int:
        """``year * 12 + month - 1``: consecutive months have consecutive indices."""
        return self.year * 12 + self.month - 1

    def next(self) -> Month:
        return Month.from_index(self.index + 1)

    def prev(self) -> Month:
        return Month.from_index(self.index - 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def days(self) -> list[date]:
        first = self.first_day()
        return [first + timedelta(days=i) for i in range(self.last_day().day)]

    def start(self, tz: ZoneInfo) -> datetime:
        """First instant (UTC) of the month in ``tz``, inclusive."""
        return _day_start(self.first_day(), tz)

    def end(self, tz: ZoneInfo) -> datetime:
        """First instant (UTC) of the next month in ``tz``: the exclusive end of this one."""
        return _day_start(self.next().first_day(), tz)

    def contains(self, instant: datetime, tz: ZoneInfo) -> bool:
        """Whether ``instant`` belongs to this month in ``tz`` (same rule as ``Month.of``)."""
        return Month.of(instant, tz) == self

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months_between(a: Month, b: Month) -> list[Month]:
    """Every month from ``a`` to ``b``, both included; empty when ``a`` is after ``b``."""
    return [Month.from_index(i) for i in range(a.index, b.index + 1)]


def week_start(d: date) -> date:
    """The Monday of ``d``'s ISO week."""
    return d - timedelta(days=d.weekday())


def iso_week_label(d: date) -> str:
    """``YYYY-Www`` with the ISO week-numbering year: 2024-12-30 is in ``2025-W01``."""
    year, week, _ = d.isocalendar()
    return f"{year:04d}-W{week:02d}"


def rolling_window(d: date, days: int = 30) -> tuple[date, date]:
    """The ``days`` dates ending on ``d``, as ``(first, last)`` both inclusive."""
    if type(days) is not int or days < 1:
        raise InvalidInput.field("days", f"invalid window {days!r}; expected a positive integer")
    return d - timedelta(days=days - 1), d


def epoch_day(d: date) -> int:
    """Days since 1970-01-01: how stores keep dates as integers."""
    return d.toordinal() - _EPOCH_ORDINAL


def from_epoch_day(n: int) -> date:
    """Inverse of ``epoch_day``."""
    return date.fromordinal(n + _EPOCH_ORDINAL)


class Period(NamedTuple):
    """One labelled period of a series: ``first`` and ``last`` are both inclusive."""

    label: str
    first: date
    last: date


def _unit(unit: str) -> Unit:
    if unit not in UNITS:
        raise InvalidInput.field(
            "unit", f"unknown period unit {unit!r}; expected one of day, week, month"
        )
    return unit  # type: ignore[return-value]


def period_label(d: date, unit: str) -> str:
    """Label of the period containing ``d``: ``2024-03-01``, ``2024-W09`` or ``2024-03``."""
    return period_of(d, unit).label


def period_of(d: date, unit: str) -> Period:
    """The whole day, ISO week or calendar month containing ``d``."""
    match _unit(unit):
        case "day":
            return Period(d.isoformat(), d, d)
        case "week":
            first = week_start(d)
            return Period(iso_week_label(d), first, first + timedelta(days=6))
        case "month":
            month = Month.of_date(d)
            return Period(str(month), month.first_day(), month.last_day())


def periods_in_range(start: date, end: date, unit: str) -> list[Period]:
    """Every period overlapping ``[start, end]`` (inclusive), in order.

    Periods are whole, not clipped to the range: a series from Wednesday to Wednesday has two
    weeks running Monday to Sunday, so the first and last points may cover days outside the
    range. Empty when ``start`` is after ``end``.
    """
    _unit(unit)
    periods: list[Period] = []
    d = start
    while d <= end:
        period = period_of(d, unit)
        periods.append(period)
        if period.last >= end:
            break
        d = period.last + timedelta(days=1)
    return periods
