"""Anonymous inflation (Jimo's warning): how much of a month's MAU anonymity costs.

An anonymous person seen on a new device, or after cookies were cleared, is a new person until
an identification links their anonymous id to a user id. maumeter merges retroactively, so a
later identification removes the extra person from open months; a meter that only knows the
links made so far counts them. For an org and month, over the qualifying events that count
(those of counted persons, outside projects where they are internal):

* ``mau``, ``identified``, ``anonymous``: the month's count and its split by whether the person
  holds a user id now; ``anonymous_share`` = anonymous / mau (0 for an empty month).
* The **link time** of an anonymous id is the earliest billing time of an event carrying it
  together with a userId, or of an alias whose previousId it is.
* An event without a userId, by an anonymous id whose person now holds a user id, was **seen
  anonymously** when its billing time is before the id's link time.
* ``mau_as_seen``: distinct persons when each event seen anonymously counts as a person of its
  own anonymous id, and every other event as its person now: the MAU of a meter that applied
  only the links known at each event's time.
* ``later_identified``: anonymous ids with an event seen anonymously in the month, i.e.
  anonymous persons identified after they were counted.
* ``mau_identified_on_first_sight``: the MAU had every anonymous id been linked to its user
  from its first event on: each event counted as its person now, which is maumeter's ``mau``.
  ``inflation`` = ``mau_as_seen`` - ``mau``: the persons that identifying late added.

Persons who are still anonymous cannot be resolved by any data; ``anonymous`` bounds what
identifying them could still remove.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maumeter.core.months import Month
from maumeter.store import statements as sql
from maumeter.store.duckdb import DuckDBStore

if TYPE_CHECKING:
    from maumeter.meter import Meter


@dataclass(frozen=True, slots=True)
class Inflation:
    org: str
    month: Month
    mau: int
    identified: int
    anonymous: int
    later_identified: int
    mau_as_seen: int

    @property
    def anonymous_share(self) -> float:
        return self.anonymous / self.mau if self.mau else 0.0

    @property
    def mau_identified_on_first_sight(self) -> int:
        return self.mau

    @property
    def inflation(self) -> int:
        return self.mau_as_seen - self.mau

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "month": str(self.month),
            "mau": self.mau,
            "identified": self.identified,
            "anonymous": self.anonymous,
            "anonymous_share": round(self.anonymous_share, 6),
            "later_identified": self.later_identified,
            "mau_as_seen": self.mau_as_seen,
            "mau_identified_on_first_sight": self.mau_identified_on_first_sight,
            "inflation": self.inflation,
        }


def inflation(meter: Meter, org: str, month: Month) -> Inflation:
    store = meter.store
    if not isinstance(store, DuckDBStore):
        raise TypeError("inflation needs the DuckDB store")
    info = store.org(org)
    snap = sql.snapshot(store, info, month)
    as_seen, later = sql.inflation_counts(store, info, snap)
    return Inflation(
        org, month, snap.mau, snap.identified, snap.mau - snap.identified, later, as_seen
    )
