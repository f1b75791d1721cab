"""The verdicts of a batch on the ingest path, in Python over the batch's columns.

:meth:`ActivityRule.evaluate` decides one event; here the same matchers decide a whole batch:
type and name tests are Arrow compute over the columns; property predicates, the page URL and
the user agent are read from the stored JSON text only for the rows and rules that need them
(with ``Predicate.holds``, ``Event.page_url`` and ``Event.user_agent``'s own rules); URL globs
and bot patterns run once per *distinct* value, remembered across batches. No SQL: a statement
costs a fixed few hundred microseconds, most of a small write group (an admission group, say).
The property test in ``tests/store/test_verdicts.py`` holds the result equal to ``evaluate`` and
to the SQL twin ``verdict_sql``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from maumeter.core.activity import MAX_USER_AGENT_CHARS, ActivityRule, Matcher, Verdict
from maumeter.core.events import ADMIT

REMEMBERED = 20_000  # distinct URLs or user agents kept per rule before starting afresh
_CODES = np.array(
    [Verdict.QUALIFIES.value, Verdict.NOT_ACTIVITY.value, Verdict.URL_EXCLUDED.value, Verdict.BOT],
    dtype=object,
)
_NOT_ACTIVITY, _URL_EXCLUDED, _BOT = 1, 2, 3


class _Context(msgspec.Struct):
    """The two fields of ``context`` a verdict looks at; the rest is skipped unread."""

    userAgent: Any = None  # the wire's name
    page: Any = None


_context = msgspec.json.Decoder(_Context).decode
_contexts = msgspec.json.Decoder(list[_Context | None]).decode


class Verdicts:
    """One project rule's verdict evaluator, with what it learnt of URLs and user agents."""

    __slots__ = ("_agents", "_bots", "_rule", "_urls")

    def __init__(self, rule: ActivityRule) -> None:
        self._rule = rule
        self._bots = rule.bot_regex is not None  # a property that joins the patterns
        self._urls: dict[str, bool] = {}
        self._agents: dict[str, bool] = {}

    def of(self, batch: pa.Table) -> pa.Array:
        """The verdict of each row of a batch (columns ``type``, ``event``, ``name``,
        ``properties`` and ``context``, the last two JSON text or NULL)."""
        rule = self._rule
        types = batch.column("type")
        matched = _filled(pc.equal(types, ADMIT))
        for matcher in rule.matchers:
            matched |= _matches(matcher, batch)
        code = np.where(matched, 0, _NOT_ACTIVITY)
        urls = bool(rule.url_include or rule.url_exclude)
        if not (urls or self._bots):
            return pa.array(_CODES[code], pa.string())
        rows = np.flatnonzero(code == 0)  # only activity is looked at further
        agents, pages = _read_contexts(_texts(batch.column("context"), rows))
        if urls:
            properties = _texts(batch.column("properties"), rows)
            page = [
                url if url is not None else _property_url(props)
                for url, props in zip(pages, properties, strict=True)
            ]
            hit = _distinct(page, self._urls, rule.is_url_excluded)
            code[rows[hit]] = _URL_EXCLUDED
        if self._bots:
            agents = [agent[:MAX_USER_AGENT_CHARS] if agent else agent for agent in agents]
            hit = _distinct(agents, self._agents, rule.is_bot) & (code[rows] == 0)
            code[rows[hit]] = _BOT
        return pa.array(_CODES[code], pa.string())


def _filled(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _matches(matcher: Matcher, batch: pa.Table) -> np.ndarray:
    """``Matcher.matches`` over a batch."""
    mask = _filled(pc.equal(batch.column("type"), matcher.type))
    if matcher.events is not None:
        names = batch.column("event" if matcher.type == "track" else "name")
        wanted = pa.array(sorted(matcher.events), pa.string())
        mask &= _filled(pc.is_in(names, value_set=wanted))
    if matcher.where and mask.any():
        rows = np.flatnonzero(mask)
        for row, text in zip(rows, _texts(batch.column("properties"), rows), strict=True):
            properties = _object(text)
            mask[row] = all(p.holds(properties) for p in matcher.where)
    return mask


def _texts(column: pa.ChunkedArray | pa.Array, rows: np.ndarray) -> list[str | None]:
    return column.take(pa.array(rows, pa.int64())).to_pylist() if len(rows) else []


def _object(text: str | None) -> dict[str, Any]:
    """A JSON object column's value as the event held it (exact numbers: the stdlib parser)."""
    if text is None:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _read_contexts(texts: list[str | None]) -> tuple[list[str | None], list[str | None]]:
    """The user agents and ``context.page.url`` of each (None unless a string), decoded in
    one call as one JSON array when all are objects (the everyday case)."""
    try:
        decoded = _contexts("[" + ",".join("null" if t is None else t for t in texts) + "]")
    except (msgspec.DecodeError, msgspec.ValidationError):
        decoded = []
    if len(decoded) != len(texts):  # some text is not one JSON object: each on its own
        pairs = [_read_context(text) for text in texts]
        return [agent for agent, _ in pairs], [url for _, url in pairs]
    agents = [None if c is None else c.userAgent for c in decoded]
    urls = [
        c.page.get("url") if c is not None and isinstance(c.page, dict) else None for c in decoded
    ]
    return (
        [a if isinstance(a, str) else None for a in agents],
        [u if isinstance(u, str) else None for u in urls],
    )


def _fields(agent: Any, page: Any) -> tuple[str | None, str | None]:
    url = page.get("url") if isinstance(page, dict) else None
    return (agent if isinstance(agent, str) else None), (url if isinstance(url, str) else None)


def _read_context(text: str | None) -> tuple[str | None, str | None]:
    """(user agent, ``context.page.url``): each only when it is a string."""
    if text is None:
        return None, None
    try:
        found = _context(text)
        agent, page = found.userAgent, found.page
    except (msgspec.DecodeError, msgspec.ValidationError):  # not an object, say
        try:
            context = _object(text)
        except ValueError:  # not JSON at all: nothing to read
            return None, None
        agent, page = context.get("userAgent"), context.get("page")
    return _fields(agent, page)


def _property_url(text: str | None) -> str | None:
    """``properties.url`` when it is a string (the page URL's second place)."""
    if text is None or ('"url"' not in text and "\\u" not in text):
        return None  # no such key (unless spelt with escapes): nothing to parse
    url = _object(text).get("url")
    return url if isinstance(url, str) else None


def _distinct(
    column: list[str | None], known: dict[str, bool], test: Callable[[str], bool]
) -> np.ndarray:
    """``test`` of each row's value (False where None), run once per distinct value."""
    encoded = pc.dictionary_encode(pa.array(column, pa.string()))
    values = encoded.dictionary.to_pylist()
    if len(known) > REMEMBERED:
        known.clear()
    answers = np.empty(len(values) + 1, dtype=bool)
    for i, value in enumerate(values):
        found = known.get(value)
        if found is None:
            found = known[value] = test(value)
        answers[i] = found
    answers[-1] = False  # NULL: no URL or no user agent, nothing to exclude
    rows = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return answers[rows]
