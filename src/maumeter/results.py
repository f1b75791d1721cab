"""The values `Meter` returns: what happened to a batch, a month's usage, the counted persons,
a verification. Plain data with the ``to_dict`` shapes the API and ``--json`` print."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maumeter.core.errors import Problem
from maumeter.core.months import Month


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    problems: list[Problem]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "errors": [p.to_dict() for p in self.problems]}


@dataclass(slots=True)
class IngestResult:
    """What happened to a batch: valid records are kept even when others are rejected."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.to_dict() for r in self.rejected],
        }

    def merge(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)


@dataclass(frozen=True, slots=True)
class Usage:
    org: str
    project: str | None
    month: Month
    mau: int
    identified: int
    anonymous: int
    impressions: int
    cap: int | None = None
    policy: str = "none"
    refused: int = 0  # persons the admission gate refused this month (the org's pool)

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "project": self.project,
            "month": str(self.month),
            "mau": self.mau,
            "identified": self.identified,
            "anonymous": self.anonymous,
            "impressions": self.impressions,
            "cap": self.cap,
            "policy": self.policy,
            "refused": self.refused,
        }


@dataclass(frozen=True, slots=True)
class ActivePerson:
    """A counted person of a month and the event that counted them."""

    person: str
    identified: bool
    first_seen: datetime
    projects: tuple[str, ...]
    project: str
    event_type: str
    event: str | None
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "identified": self.identified,
            "first_seen": self.first_seen.isoformat().replace("+00:00", "Z"),
            "projects": list(self.projects),
            "project": self.project,
            "event_type": self.event_type,
            "event": self.event,
            "message_id": self.message_id,
        }

    def csv_row(self) -> dict[str, Any]:
        """The row of ``maumeter export`` (projects space-separated)."""
        row = self.to_dict()
        row["projects"] = " ".join(row["projects"])
        return row


PERSON_FIELDS = (
    "person",
    "identified",
    "first_seen",
    "projects",
    "project",
    "event_type",
    "event",
    "message_id",
)


@dataclass(frozen=True, slots=True)
class ScopeCheck:
    month: Month
    project: str | None
    live: int
    reference: int
    missing: list[str]
    extra: list[str]
    live_impressions: int
    reference_impressions: int

    @property
    def equal(self) -> bool:
        return (
            self.live == self.reference
            and not self.missing
            and not self.extra
            and self.live_impressions == self.reference_impressions
        )


@dataclass(frozen=True, slots=True)
class Verification:
    org: str
    checks: list[ScopeCheck]

    @property
    def equal(self) -> bool:
        return all(c.equal for c in self.checks)

    def to_dict(self, sample: int = 100) -> dict[str, Any]:
        """As ``maumeter verify --json`` prints it (at most ``sample`` ids per diff)."""
        return {
            "org": self.org,
            "equal": self.equal,
            "checks": [
                {
                    "month": str(c.month),
                    "project": c.project,
                    "equal": c.equal,
                    "live": c.live,
                    "reference": c.reference,
                    "missing": c.missing[:sample],
                    "extra": c.extra[:sample],
                    "live_impressions": c.live_impressions,
                    "reference_impressions": c.reference_impressions,
                }
                for c in self.checks
            ],
        }
