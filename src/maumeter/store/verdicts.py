"""The verdicts of a batch on the ingest path: cheap SQL for the matchers, Python for regexes.

:func:`~maumeter.store.rule_sql.verdict_sql` is one expression, but DuckDB compiles its
regexes again for every statement: about 2 ms for the default bot list, which is most of the
cost of a small write group (an admission group of 32 events, say). Here one statement
computes what needs no regex, the matchers plus the page URL and user agent the regexes look
at (:data:`PAGE_URL_SQL`, :data:`USER_AGENT_SQL`, the same extraction as the SQL twin), and the
URL globs and bot patterns run in Python once per *distinct* value, with the very matchers
:meth:`ActivityRule.evaluate` uses, remembered across batches. The property test in
``tests/store/test_verdicts.py`` holds the result equal to ``verdict_sql`` and ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from maumeter.core.activity import ActivityRule, Verdict
from maumeter.store.rule_sql import PAGE_URL_SQL, USER_AGENT_SQL, matched_sql

REMEMBERED = 20_000  # distinct URLs or user agents kept per rule before starting afresh
_CODES = np.array(
    [Verdict.QUALIFIES.value, Verdict.NOT_ACTIVITY.value, Verdict.URL_EXCLUDED.value, Verdict.BOT],
    dtype=object,
)
_NOT_ACTIVITY, _URL_EXCLUDED, _BOT = 1, 2, 3


class Verdicts:
    """One project rule's verdict evaluator, with what it learnt of URLs and user agents."""

    __slots__ = ("_agents", "_bots", "_rule", "_urls", "columns_sql")

    def __init__(self, rule: ActivityRule) -> None:
        self._rule = rule
        self._bots = rule.bot_regex is not None  # a property that joins the patterns
        self._urls: dict[str, bool] = {}
        self._agents: dict[str, bool] = {}
        self.columns_sql = (
            f"({matched_sql(rule)}) AS matched, {PAGE_URL_SQL} AS url, {USER_AGENT_SQL} AS agent"
        )
        """The columns :meth:`of` reads, to select alongside anything else of a batch."""

    def of(self, found: Mapping[str, Any] | pa.Table) -> pa.Array:
        """The verdict of each row, given the ``matched``, ``url`` and ``agent`` columns (numpy
        arrays as ``fetchnumpy`` gives them, or Arrow)."""
        code = np.where(np.asarray(found["matched"], dtype=bool), 0, _NOT_ACTIVITY)
        rule = self._rule
        if rule.url_include or rule.url_exclude:
            hit = _distinct(found["url"], self._urls, rule.is_url_excluded)
            code = np.where((code == 0) & hit, _URL_EXCLUDED, code)
        if self._bots:
            hit = _distinct(found["agent"], self._agents, rule.is_bot)
            code = np.where((code == 0) & hit, _BOT, code)
        return pa.array(_CODES[code], pa.string())


def _distinct(column: Any, known: dict[str, bool], test: Callable[[str], bool]) -> np.ndarray:
    """``test`` of each row's value (False where NULL), run once per distinct value."""
    if not isinstance(column, pa.Array | pa.ChunkedArray):
        column = pa.array(column, pa.string())  # a (masked) numpy array of str
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
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
