"""Admissions decided in the open write group and not yet committed (see store.admission)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from maumeter.core.events import Event

IdKey = tuple[int, str]


@dataclass(slots=True)
class Pending:
    """Admissions of the open group: counted ids per month, and events to write per project."""

    ids: dict[int, set[IdKey]] = field(default_factory=dict)
    new: dict[int, int] = field(default_factory=dict)
    events: dict[int, list[tuple[Event, datetime]]] = field(default_factory=dict)

    def clear(self) -> None:
        self.ids.clear()
        self.new.clear()
        self.events.clear()
