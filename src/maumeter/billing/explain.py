"""Explain: why a person was, or was not, counted in a month.

The id asked about is resolved through the identity graph (a user id first, else an anonymous
id), so any id of a person explains the whole person. Counted: the first qualifying event of
the month (time, project, event, and the matcher of the project's activity rule that matched
it, found by evaluating the rule on that event in Python), the number of qualifying events and
the projects that count them. Not counted, the first reason that applies, in this order:

``unknown-id`` no such id in the org; ``internal`` qualifying events only in projects that
exclude the person as internal; ``refused`` the admission gate refused them at the cap;
``bot`` / ``url-excluded`` their events were excluded by the rule's bot or URL filters;
``not-activity`` they had events but none the rule counts; ``no-activity`` no event that
month. For a closed month it also says whether the frozen statement lists the person.

Bounded work: the person's ids come from one scan of the parent array, their events from one
filtered scan of the month's rows; no per-person Python loop over the org.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

import numpy as np

from maumeter.core.activity import ActivityRule, Verdict
from maumeter.core.events import ADMIT, STORED_TYPES, parse_event
from maumeter.core.identity import IdKind
from maumeter.core.months import Month, epoch_day
from maumeter.store.duckdb import DuckDBStore, month_index

__all__ = ["REASONS", "Explanation", "explain", "matched_by"]

if TYPE_CHECKING:
    from maumeter.meter import Meter

REASONS = (
    "counted",
    "unknown-id",
    "internal",
    "refused",
    "bot",
    "url-excluded",
    "not-activity",
    "no-activity",
)
_FILTERS = {
    Verdict.BOT.value: "bot",
    Verdict.URL_EXCLUDED.value: "url-excluded",
    Verdict.NOT_ACTIVITY.value: "not-activity",
}
_EVENT_COLUMNS = (
    "type, message_id AS messageId, user_id AS userId, anonymous_id AS anonymousId, "
    "previous_id AS previousId, event, name, strftime(\"timestamp\", '%Y-%m-%dT%H:%M:%S.%fZ') "
    'AS "timestamp", properties, traits, context, extra'
)


@dataclass(frozen=True, slots=True)
class Explanation:
    """The answer to "why was this person (not) counted in this month?"."""

    org: str
    month: Month
    asked: str
    reason: str
    detail: str
    person: str | None = None
    identified: bool = False
    ids: tuple[tuple[str, str], ...] = ()
    qualifying_events: int = 0
    projects: tuple[str, ...] = ()
    first: dict[str, Any] | None = None
    events_by_verdict: dict[str, int] = field(default_factory=dict)
    in_statement: bool | None = None  # closed months: listed in the frozen statement?

    @property
    def counted(self) -> bool:
        return self.reason == "counted"

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "month": str(self.month),
            "asked": self.asked,
            "counted": self.counted,
            "reason": self.reason,
            "detail": self.detail,
            "person": self.person,
            "identified": self.identified,
            "ids": [{"kind": k, "id": v} for k, v in self.ids],
            "qualifying_events": self.qualifying_events,
            "projects": list(self.projects),
            "first": self.first,
            "events_by_verdict": self.events_by_verdict,
            "in_statement": self.in_statement,
        }


def _members(parent: np.ndarray, root: int) -> np.ndarray:
    """Every index whose root is ``root``: the subtree under it, a few vector passes deep."""
    found = np.array([root], dtype=np.int32)
    frontier = found
    while True:
        children = np.flatnonzero(np.isin(parent, frontier)).astype(np.int32)
        children = children[children != root] if len(children) else children
        fresh = np.setdiff1d(children, found, assume_unique=False)
        if not len(fresh):
            return found
        found = np.union1d(found, fresh)
        frontier = fresh


def _root(parent: np.ndarray, idx: int) -> int:
    while parent[idx] != idx:
        idx = int(parent[idx])
    return idx


def matched_by(rule: ActivityRule, event: Any) -> dict[str, Any]:
    """Which part of ``rule`` made ``event`` count: the first matcher that matches it."""
    found: dict[str, Any] = {"preset": rule.preset, "verdict": rule.evaluate(event).value}
    if event.type == ADMIT:
        found["matcher"] = {"type": ADMIT}
        found["why"] = "an admission (the SDK loading) is activity under every rule"
        return found
    for i, matcher in enumerate(rule.matchers):
        if matcher.matches(event):
            found["matcher"] = matcher.to_json()
            found["matcher_index"] = i
            return found
    found["matcher"] = None
    found["why"] = "no matcher of the current rule matches: the rule changed since"
    return found


def explain(meter: Meter, org: str, person_id: str, month: Month) -> Explanation:
    store = meter.store
    if not isinstance(store, DuckDBStore):
        raise TypeError("explain needs the DuckDB store")
    info = store.org(org)
    counts = store.counts(info)
    index = month_index(month)
    privacy = getattr(meter, "privacy", None)  # ids may be stored as keyed HMACs
    stored = person_id if privacy is None else privacy.pseudonym(org, person_id)
    with store.lock():
        graph = counts.graph
        idx = graph.lookup(IdKind.USER, stored)
        if idx is None:
            idx = graph.lookup(IdKind.ANONYMOUS, stored)
    if idx is None:  # a person refused at the cap never had an event stored
        asked = (("user", stored), ("anonymous", stored))
        refusal = _refusal(store.cursor(), info.id, index, asked)
        if refusal is not None:
            return Explanation(org, month, person_id, "refused", refusal)
        return Explanation(
            org, month, person_id, "unknown-id", f"no user id or anonymous id {person_id!r}"
        )
    with store.lock():
        graph = counts.graph
        parent = np.frombuffer(graph.parent.tobytes(), dtype=np.int32)
        root = _root(parent, idx)
        members = _members(parent, root)
        ids = tuple(
            ("user" if graph.kinds[i] == IdKind.USER else "anonymous", graph.values[i])
            for i in members.tolist()
        )
        key = graph.values[root]
        identified = graph.kinds[root] == IdKind.USER
        counted_in = sorted(
            p
            for (p, m), persons in counts.months.items()
            if m == index and p is not None and root in persons
        )
        internal = {p for p, bm in counts.internal.items() if root in bm}
    ids = tuple(sorted(ids, key=lambda kv: (kv[0] != "user", kv[1])))
    names = {p.id: p.name for p in store.projects(org)}
    rules = {p.id: p.activity for p in store.projects(org)}
    counting = [p for p in counted_in if p not in internal]
    con = store.cursor()
    first_day, last_day = epoch_day(month.first_day()), epoch_day(month.last_day())
    actors = ", ".join(str(int(a)) for a in members.tolist())
    where = f"org_id = {int(info.id)} AND day BETWEEN {first_day} AND {last_day} "
    where += f"AND actor IN ({actors})"
    groups = con.execute(
        "SELECT verdict, project_id, count(*), arg_min(seq, struct_pack(t := billing_time, "
        f"s := seq)), min(day) FROM events WHERE {where} GROUP BY ALL"
    ).fetchall()
    by_verdict: dict[str, int] = {}
    for verdict, _, n, _, _ in groups:
        by_verdict[verdict] = by_verdict.get(verdict, 0) + n
    qualifying = [g for g in groups if g[0] == Verdict.QUALIFIES.value and g[1] not in internal]
    base = {
        "person": key,
        "identified": identified,
        "ids": ids,
        "events_by_verdict": by_verdict,
        "in_statement": _listed(con, info.id, index, key),
    }
    if counting and qualifying:
        return _counted(con, org, month, person_id, base, qualifying, names, rules, info.id)
    reason, detail = _why_not(con, info.id, index, ids, groups, internal, names, month)
    return Explanation(org, month, person_id, reason, detail, **base)


def _counted(
    con: Any,
    org: str,
    month: Month,
    asked: str,
    base: dict[str, Any],
    qualifying: list[tuple[Any, ...]],
    names: dict[int, str],
    rules: dict[int, ActivityRule],
    org_id: int,
) -> Explanation:
    # the earliest of each project's first qualifying events, by (billing time, seq)
    candidates = [(g[3], g[4]) for g in qualifying]
    found = con.execute(
        f"SELECT project_id, billing_time, seq, {_EVENT_COLUMNS} FROM events WHERE org_id = ? "
        f"AND seq IN ({', '.join(str(int(s)) for s, _ in candidates)}) "
        f"AND day IN ({', '.join(str(int(d)) for _, d in candidates)}) "
        "ORDER BY billing_time, seq LIMIT 1",
        [org_id],
    ).fetchall()[0]
    project_id, billing_time = found[0], found[1]
    record = dict(
        zip(
            (
                "type",
                "messageId",
                "userId",
                "anonymousId",
                "previousId",
                "event",
                "name",
                "timestamp",
                "properties",
                "traits",
                "context",
                "extra",
            ),
            found[3:],
            strict=True,
        )
    )
    extra = record.pop("extra")
    for name in ("properties", "traits", "context"):
        if record[name] is not None:
            record[name] = json.loads(record[name])
    if extra is not None:
        record.update(json.loads(extra))
    event = parse_event({k: v for k, v in record.items() if v is not None}, types=STORED_TYPES)
    rule = rules[project_id]
    first = {
        "time": billing_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "project": names[project_id],
        "event_type": event.type,
        "event": event.event if event.type == "track" else event.name,
        "message_id": event.message_id,
        "rule": matched_by(rule, event),
    }
    total = sum(g[2] for g in qualifying)
    projects = tuple(sorted({names[g[1]] for g in qualifying}))
    detail = (
        f"counted: first qualifying event {first['event'] or first['event_type']!r} in "
        f"{first['project']} at {first['time']}; {total} qualifying events this month"
    )
    return Explanation(
        org,
        month,
        asked,
        "counted",
        detail,
        qualifying_events=total,
        projects=projects,
        first=first,
        **base,
    )


def _why_not(
    con: Any,
    org_id: int,
    index: int,
    ids: tuple[tuple[str, str], ...],
    groups: list[tuple[Any, ...]],
    internal: set[int],
    names: dict[int, str],
    month: Month,
) -> tuple[str, str]:
    if any(g[0] == Verdict.QUALIFIES.value and g[1] in internal for g in groups):
        where = ", ".join(sorted(names[p] for p in internal))
        return "internal", f"excluded as an internal user in {where}"
    refusal = _refusal(con, org_id, index, ids)
    if refusal is not None:
        return "refused", refusal
    seen = {g[0] for g in groups}
    for verdict, reason in _FILTERS.items():
        if verdict in seen:
            n = sum(g[2] for g in groups if g[0] == verdict)
            if reason == "bot":
                return reason, f"excluded as a bot: {n} events from a bot user agent"
            if reason == "url-excluded":
                return reason, f"{n} events on URLs the rule excludes, none elsewhere"
            return reason, f"{n} events this month, none that the activity rule counts"
    return "no-activity", f"no event in {month}"


def _refusal(con: Any, org_id: int, index: int, ids: tuple[tuple[str, str], ...]) -> str | None:
    """When the admission gate refused any of these ids this month, saying so."""
    pairs = [f"{int(IdKind.USER if k == 'user' else IdKind.ANONYMOUS)}:{v}" for k, v in ids]
    refused = con.execute(
        "SELECT min(refused_at) FROM admission_refusals WHERE org_id = ? AND month = ? "
        "AND list_contains(?::VARCHAR[], kind::VARCHAR || ':' || value)",
        [org_id, index, pairs],
    ).fetchall()[0][0]
    if refused is None:
        return None
    at = refused.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"refused by the admission gate at the cap (first at {at})"


def _listed(con: Any, org_id: int, index: int, key: str) -> bool | None:
    closed = con.execute(
        "SELECT 1 FROM statements WHERE org_id = ? AND month = ?", [org_id, index]
    ).fetchall()
    if not closed:
        return None
    found = con.execute(
        "SELECT 1 FROM statement_persons WHERE org_id = ? AND month = ? AND person_key = ?",
        [org_id, index, key],
    ).fetchall()
    return bool(found)
