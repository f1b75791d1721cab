"""Usage alerts: thresholds of the effective cap, and "projected to exceed this month".

Each alert fires once per org, month and key (``threshold:80``, ``projected``). This module
decides which alerts are *due*; exactly-once is the caller's part: it records the key of an
alert in the same transaction that queues its webhook, and passes the recorded keys back as
``already_fired``. The event id is derived from (org, month, key), so an alert computed twice
(two workers, a restart between deciding and recording) has one id, and receivers can drop
duplicates by id.

The payload is a function of the alert alone, so every retry of a delivery sends the same body.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from maumeter.core.accrual import Projection
from maumeter.core.errors import InvalidInput, Problem
from maumeter.core.months import Month

__all__ = [
    "DEFAULT_THRESHOLDS",
    "NAMESPACE",
    "PROJECTED_KEY",
    "Alert",
    "Kind",
    "Threshold",
    "due",
    "event_id",
    "parse_thresholds",
    "payload",
    "trusted_projection",
]

# Fixed forever: event ids of alerts already delivered must not change across versions.
NAMESPACE = uuid.UUID("3f0c2a86-6d1e-5b57-9a43-4d2f6c1b8e70")
PROJECTED_KEY = "projected"
MAX_PERCENT = 1000


class Kind(StrEnum):
    THRESHOLD = "threshold"
    PROJECTED = "projected"


@dataclass(frozen=True, slots=True, order=True)
class Threshold:
    """A share of the effective cap, in whole percent (100 = the cap itself; above 100 is
    overage under a soft cap)."""

    percent: int

    def __post_init__(self) -> None:
        p = self.percent
        if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= MAX_PERCENT:
            raise InvalidInput.field(
                "thresholds", f"expected whole percents from 1 to {MAX_PERCENT}, got {p!r}"
            )

    @property
    def key(self) -> str:
        return f"threshold:{self.percent}"

    def reached(self, mau: int, cap: int | None) -> bool:
        """Whether ``mau`` is at least ``percent`` % of ``cap``, in exact integer arithmetic."""
        return bool(cap) and mau * 100 >= self.percent * cap  # type: ignore[operator]


DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (Threshold(80), Threshold(90), Threshold(100))


def parse_thresholds(data: Any, field_name: str = "thresholds") -> tuple[Threshold, ...]:
    """From configuration JSON: a list of percents such as ``[80, 90, 100]``; sorted, unique."""
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise InvalidInput.field(field_name, "expected a list of percents such as [80, 90, 100]")
    problems: list[Problem] = []
    found: set[Threshold] = set()
    for i, value in enumerate(data):
        try:
            found.add(Threshold(value))
        except InvalidInput as e:
            problems.extend(Problem(f"{field_name}[{i}]", p.message) for p in e.problems)
    if problems:
        raise InvalidInput(problems)
    return tuple(sorted(found))


def event_id(org: str, month: Month, key: str) -> str:
    """The one id of alert ``key`` of ``org`` in ``month``: a UUID v5, stable across restarts."""
    return str(uuid.uuid5(NAMESPACE, f"{org}\x00{month}\x00{key}"))


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert that is due: what was crossed, and the figures at that moment."""

    org: str
    month: Month
    kind: Kind
    threshold: int | None  # percent, for threshold alerts
    mau: int
    cap: int
    projected: int | None

    @property
    def key(self) -> str:
        return PROJECTED_KEY if self.kind is Kind.PROJECTED else f"threshold:{self.threshold}"

    @property
    def event_id(self) -> str:
        return event_id(self.org, self.month, self.key)

    @property
    def type(self) -> str:
        """The webhook event type: ``mau.threshold`` or ``mau.projected``."""
        return f"mau.{self.kind}"


def due(
    thresholds: Iterable[Threshold],
    mau: int,
    effective_cap: int | None,
    projected: int | None,
    already_fired: Iterable[str],
    *,
    org: str,
    month: Month,
) -> list[Alert]:
    """Alerts crossed now and not fired yet, thresholds in ascending order, then "projected".

    A jump past several thresholds at once (a bulk import, a restart) makes each of them due.
    Without a cap (None or 0) nothing is due. "projected" is due when the projected month-end
    MAU exceeds the effective cap while the MAU has not yet gone past it: once it has, the
    100 % threshold says more.
    """
    if not effective_cap:
        return []
    fired = set(already_fired)
    alerts = [
        Alert(org, month, Kind.THRESHOLD, t.percent, mau, effective_cap, projected)
        for t in sorted(set(thresholds))
        if t.key not in fired and t.reached(mau, effective_cap)
    ]
    if PROJECTED_KEY not in fired and projected is not None and projected > effective_cap >= mau:
        alerts.append(Alert(org, month, Kind.PROJECTED, None, mau, effective_cap, projected))
    return alerts


def trusted_projection(projection: Projection | None, min_day: int = 7) -> int | None:
    """The projection worth alerting on: the expected month-end MAU when it rests on earlier
    months, or on at least ``min_day`` days of this one; None before that, so that a linear
    extrapolation of the first days (which overshoots) does not alert every org each month."""
    if projection is None:
        return None
    if projection.method == "accrual" or projection.day >= min_day:
        return projection.expected
    return None


def payload(alert: Alert) -> dict[str, Any]:
    """The webhook body: JSON-ready, and the same for every delivery attempt of the alert."""
    return {
        "id": alert.event_id,
        "type": alert.type,
        "org": alert.org,
        "month": str(alert.month),
        "threshold": alert.threshold,
        "mau": alert.mau,
        "cap": alert.cap,
        "projection": alert.projected,
    }
