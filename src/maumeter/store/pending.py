"""What the open write group holds until it is sealed: admissions decided and refused (see
store.admission) and appended batches, which are written together, one batch per project."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from maumeter.core.events import Event

IdKey = tuple[int, str]


@dataclass(slots=True)
class Pending:
    """Admissions of the open group: counted ids per month, and events to write per project."""

    ids: dict[int, set[IdKey]] = field(default_factory=dict)
    new: dict[int, int] = field(default_factory=dict)
    events: dict[int, list[tuple[Event, datetime, str]]] = field(default_factory=dict)
    """Admitted events per project: (event, received at, its verdict)."""
    appends: dict[int, list[Append]] = field(default_factory=dict)
    refusals: list[tuple[int, int, int, str, datetime]] = field(default_factory=list)
    """(project, month, id kind, id value, refused at) of the group's new refusals."""

    def clear(self) -> None:
        self.ids.clear()
        self.new.clear()
        self.events.clear()
        self.appends.clear()
        self.refusals.clear()


@dataclass(slots=True)
class Append:
    """A batch waiting for its group's commit, and (once written) what became of it."""

    batch: pa.Table
    accepted: int = 0
    duplicate_rows: list[int] = field(default_factory=list)
