"""The admission decision: may this person be served now, and are they counted?

It is the question an SDK asks before it loads (Jimo's hard cap). The rules, in order:

1. a person the rules exclude (a bot, an internal user, an excluded URL) is served and never
   counted — the cap is about billable persons;
2. a person already counted this month is always served (the cap never takes access away);
3. otherwise, by the org's policy: ``none`` serves and counts; ``soft`` serves and counts, past
   the cap as overage; ``hard`` serves and counts while the month's count is below the cap, and
   refuses (not served, not counted) once it has reached it.

Pure: the caller supplies the month's count and whether the person is counted, under whatever
lock makes the decision atomic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    ALREADY_COUNTED = "already-counted"
    WITHIN_CAP = "within-cap"
    CAP_REACHED = "cap-reached"
    OVERAGE = "overage"
    EXCLUDED = "excluded"


@dataclass(frozen=True, slots=True)
class Decision:
    admitted: bool
    counted: bool
    reason: Reason
    mau: int  # the month's count after this decision
    cap: int | None

    @property
    def new_person(self) -> bool:
        return self.counted and self.reason is not Reason.ALREADY_COUNTED

    def to_dict(self) -> dict[str, Any]:
        return {
            "admitted": self.admitted,
            "counted": self.counted,
            "reason": str(self.reason),
            "mau": self.mau,
            "cap": self.cap,
        }


def decide(
    policy: str, cap: int | None, mau: int, already_counted: bool, excluded: bool
) -> Decision:
    """The decision for one person, given the month's count ``mau`` before it."""
    if excluded:
        return Decision(True, False, Reason.EXCLUDED, mau, cap)
    if already_counted:
        return Decision(True, True, Reason.ALREADY_COUNTED, mau, cap)
    if policy == "hard" and cap is not None and mau >= cap:
        return Decision(False, False, Reason.CAP_REACHED, mau, cap)
    over = policy == "soft" and cap is not None and mau >= cap
    return Decision(True, True, Reason.OVERAGE if over else Reason.WITHIN_CAP, mau + 1, cap)
