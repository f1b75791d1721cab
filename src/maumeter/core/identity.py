"""Identity: which ids are one person within an org.

Rules (DESIGN.md, "Person"):

* an event carrying both ``anonymousId`` and ``userId`` links them;
* ``alias`` links ``previousId`` to ``userId``; ``previousId`` is taken both as a user id and as
  an anonymous id (Segment does not say which it is), so the result does not depend on order;
* an anonymous id belongs to at most one user: the first link in the event log wins, later
  conflicting links are returned as conflicts (recorded, ignored);
* two user ids are merged only by an explicit alias;
* a person's key is its user id, else its anonymous id. When an alias merges two users, the
  alias target (``userId``) keeps being the key.

Ids live in two namespaces (the same string may be a user id and an anonymous id) and get dense
integer indices, so the counting state can hold persons in roaring bitmaps. Persons are the sets
of a union-find forest. Invariant: the root of a person holding a user id is a user index; so
"identified" is one byte read and the key is the root's value.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class IdKind(IntEnum):
    ANONYMOUS = 0
    USER = 1


@dataclass(frozen=True, slots=True)
class Merge:
    """Person ``absorbed`` (a root) became part of person ``survivor`` (a root)."""

    absorbed: int
    survivor: int


@dataclass(frozen=True, slots=True)
class Conflict:
    """A link refused because the anonymous id already belongs to another user."""

    anonymous_id: str
    claimed_by: str
    owner: str


LinkOutcome = Merge | Conflict | None


class IdentityGraph:
    """The ids of one org, their dense indices and the persons they form.

    ``parent`` is the union-find forest. :meth:`find` compresses paths; the store persists only
    the parent written at union time (any member of the same set is an equally good parent), so
    the persisted forest and this one describe the same persons.
    """

    __slots__ = ("_anons", "_users", "kinds", "parent", "values")

    def __init__(self) -> None:
        self._users: dict[str, int] = {}
        self._anons: dict[str, int] = {}
        self.values: list[str] = []
        self.kinds = bytearray()
        self.parent = array("i")

    @classmethod
    def from_arrays(cls, values: list[str], kinds: bytes, parent: Any) -> IdentityGraph:
        """A graph from persisted ids (in index order) and a parent per index."""
        graph = cls()
        graph.values = list(values)
        graph.kinds = bytearray(kinds)
        graph.parent = array("i", parent)
        for idx, (value, kind) in enumerate(zip(graph.values, graph.kinds, strict=True)):
            (graph._users if kind == IdKind.USER else graph._anons)[value] = idx
        return graph

    def __len__(self) -> int:
        return len(self.values)

    # ---- ids -------------------------------------------------------------------------------

    def ids(self, kind: IdKind) -> Mapping[str, int]:
        """The index of every id of a kind (read only: new ids go through :meth:`index`)."""
        return self._users if kind is IdKind.USER else self._anons

    def lookup(self, kind: IdKind, value: str) -> int | None:
        return (self._users if kind is IdKind.USER else self._anons).get(value)

    def index(self, kind: IdKind, value: str) -> int:
        """The index of an id, created (as a person of its own) when new."""
        table = self._users if kind is IdKind.USER else self._anons
        found = table.get(value)
        if found is not None:
            return found
        idx = len(self.values)
        table[value] = idx
        self.values.append(value)
        self.kinds.append(kind)
        self.parent.append(idx)
        return idx

    # ---- persons ---------------------------------------------------------------------------

    def find(self, idx: int) -> int:
        parent = self.parent
        root = idx
        while parent[root] != root:
            root = parent[root]
        while parent[idx] != root:
            parent[idx], idx = root, parent[idx]
        return root

    def is_identified(self, idx: int) -> bool:
        return self.kinds[self.find(idx)] == IdKind.USER

    def key(self, idx: int) -> str:
        """The person's key: its (canonical) user id, else its anonymous id."""
        return self.values[self.find(idx)]

    def link(self, anonymous_id: str, user_id: str) -> LinkOutcome:
        """Link an anonymous id to a user id (an event carrying both, or an alias)."""
        anon = self.find(self.index(IdKind.ANONYMOUS, anonymous_id))
        user = self.find(self.index(IdKind.USER, user_id))
        if anon == user:
            return None
        if self.kinds[anon] == IdKind.USER:
            return Conflict(anonymous_id, claimed_by=user_id, owner=self.values[anon])
        self.parent[anon] = user
        return Merge(absorbed=anon, survivor=user)

    def alias(self, previous_id: str, user_id: str) -> list[Merge | Conflict]:
        """``alias``: ``previous_id`` was an earlier id of ``user_id``'s person.

        Segment does not say whether ``previousId`` was a user id or an anonymous id, so it is
        taken as both: the user id ``previous_id`` is merged into ``user_id`` (an explicit alias
        is the one way two user ids merge), and the anonymous id ``previous_id`` is linked to it
        (first link wins, as for any link). Both ids are created if unseen, so the alias holds
        whatever order its events and the aliased id's events arrive in.
        """
        outcomes: list[Merge | Conflict] = []
        old = self.find(self.index(IdKind.USER, previous_id))
        new = self.find(self.index(IdKind.USER, user_id))
        if old != new:
            self.parent[old] = new
            outcomes.append(Merge(absorbed=old, survivor=new))
        linked = self.link(previous_id, user_id)
        if linked is not None:
            outcomes.append(linked)
        return outcomes

    def actor(self, user_id: str | None, anonymous_id: str | None) -> int:
        """The index that decides who did an event: the user id when present."""
        if user_id is not None:
            return self.index(IdKind.USER, user_id)
        if anonymous_id is None:
            raise ValueError("an event needs a userId or an anonymousId")
        return self.index(IdKind.ANONYMOUS, anonymous_id)

    def members(self, root: int) -> list[int]:
        """Every index of a person (a scan: for explanations, not for counting)."""
        return [i for i in range(len(self.values)) if self.find(i) == root]
