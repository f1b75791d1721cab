"""The reference count: distinct persons per scope and period, plainly.

This is the oracle. It shares no code with the fast path beyond the event model, the activity
rule and the calendar: identities are resolved here with plain Python sets rather than the
union-find of :mod:`maumeter.core.identity`, and every count is a ``len(set(...))``. Tests and
``maumeter verify`` compare the store's live counts against it. It is meant to be obviously
right, not fast.

Semantics (DESIGN.md):

* events are deduplicated by ``messageId``: the first occurrence wins;
* identity links are applied in log order, then every event is attributed to its person's final
  identity (merges are retroactive);
* an event qualifies when its project's rule says so; a person is internal in a project when any
  of their user ids is listed there or any e-mail seen on any of their events has a listed domain;
  internal persons are never counted in that project;
* an event's period is the calendar month / local day of its billing time in the org's zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from maumeter.core.activity import ActivityRule, Verdict, emails_of
from maumeter.core.events import Event
from maumeter.core.months import Month, local_date

POOL = None  # the scope of the org as a whole


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as the log holds it: which project, and the time that bills it."""

    project: str
    billing_time: datetime
    event: Event


@dataclass(frozen=True, slots=True)
class FirstActivity:
    """The event that counted a person in a scope and month."""

    billing_time: datetime
    project: str
    message_id: str
    event_name: str | None


@dataclass(slots=True)
class ReferenceCount:
    """Every figure of the log, keyed by (scope, period) with scope a project name or POOL."""

    months: dict[tuple[str | None, Month], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    days: dict[tuple[str | None, date], set[str]] = field(default_factory=lambda: defaultdict(set))
    impressions: dict[tuple[str | None, Month], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    first: dict[tuple[str | None, Month, str], FirstActivity] = field(default_factory=dict)
    identified: set[str] = field(default_factory=set)
    ids_of: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    duplicates: int = 0
    conflicts: int = 0
    # Persons by serial number: a user id and an anonymous id may share a value (two persons,
    # one key string), so the count is of persons, not of keys.
    serials: dict[tuple[str | None, Month], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )

    def mau(self, month: Month, project: str | None = None) -> int:
        return len(self.serials.get((project, month), ()))

    def persons(self, month: Month, project: str | None = None) -> set[str]:
        return set(self.months.get((project, month), ()))


class _Person:
    __slots__ = ("ids", "key", "serial")
    _made = 0

    def __init__(self, kind: str, value: str) -> None:
        self.ids: set[tuple[str, str]] = {(kind, value)}
        self.key = value
        _Person._made += 1
        self.serial = _Person._made


class _NaiveIdentities:
    """Persons as plain sets of ``(kind, value)`` ids; merging moves every id over."""

    def __init__(self) -> None:
        self.person: dict[tuple[str, str], _Person] = {}
        self.conflicts = 0

    def get(self, kind: str, value: str) -> _Person:
        if (kind, value) not in self.person:
            self.person[(kind, value)] = _Person(kind, value)
        return self.person[(kind, value)]

    def _merge(self, absorbed: _Person, survivor: _Person) -> None:
        for ident in absorbed.ids:
            self.person[ident] = survivor
        survivor.ids |= absorbed.ids

    def link(self, anonymous_id: str, user_id: str) -> None:
        anon = self.get("anon", anonymous_id)
        user = self.get("user", user_id)
        if anon is user:
            return
        if any(kind == "user" for kind, _ in anon.ids):
            self.conflicts += 1
            return
        self._merge(anon, user)

    def alias(self, previous_id: str, user_id: str) -> None:
        """``previousId`` is both an old user id (merged) and an anonymous id (linked)."""
        old, new = self.get("user", previous_id), self.get("user", user_id)
        if old is not new:
            self._merge(old, new)
        self.link(previous_id, user_id)


def reference_count(
    log: Iterable[LoggedEvent], rules: Mapping[str, ActivityRule], tz: ZoneInfo
) -> ReferenceCount:
    """Count ``log`` (in log order, duplicates included) the slow, obvious way."""
    result = ReferenceCount()
    seen: set[str] = set()
    people = _NaiveIdentities()
    kept: list[tuple[LoggedEvent, tuple[str, str], Verdict]] = []
    emails: list[tuple[tuple[str, str], str]] = []
    for logged in log:
        ev = logged.event
        if ev.message_id in seen:
            result.duplicates += 1
            continue
        seen.add(ev.message_id)
        if ev.type == "alias" and ev.previous_id is not None and ev.user_id is not None:
            people.alias(ev.previous_id, ev.user_id)
        elif ev.user_id is not None and ev.anonymous_id is not None:
            people.link(ev.anonymous_id, ev.user_id)
        actor = ("user", ev.user_id) if ev.user_id is not None else ("anon", ev.anonymous_id or "")
        people.get(*actor)
        kept.append((logged, actor, rules[logged.project].evaluate(ev)))
        emails.extend((actor, e) for e in emails_of(ev))
    result.conflicts = people.conflicts

    internal: dict[str, set[int]] = defaultdict(set)  # project -> ids of internal persons
    for project, rule in rules.items():
        for (kind, value), person in people.person.items():
            if kind == "user" and rule.is_internal_user_id(value):
                internal[project].add(id(person))
        for actor, email in emails:
            if rule.is_internal_email(email):
                internal[project].add(id(people.person[actor]))

    for logged, actor, verdict in kept:
        if verdict is not Verdict.QUALIFIES:
            continue
        person = people.person[actor]
        if id(person) in internal[logged.project]:
            continue
        key = person.key
        month = Month.of(logged.billing_time, tz)
        day = local_date(logged.billing_time, tz)
        for scope in (logged.project, POOL):
            result.months[(scope, month)].add(key)
            result.serials[(scope, month)].add(person.serial)
            result.days[(scope, day)].add(key)
            result.impressions[(scope, month)] += 1
            first = result.first.get((scope, month, key))
            if first is None or logged.billing_time < first.billing_time:
                result.first[(scope, month, key)] = FirstActivity(
                    logged.billing_time, logged.project, logged.event.message_id, logged.event.event
                )
        if any(kind == "user" for kind, _ in person.ids):
            result.identified.add(key)
        result.ids_of[key] = set(person.ids)
    return result
