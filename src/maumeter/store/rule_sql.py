"""The activity rule as DuckDB SQL: the vectorised twin of :meth:`ActivityRule.evaluate`.

:func:`verdict_sql` gives one SQL expression that computes, per row, exactly the verdict the
Python evaluator gives for the same event; a property test holds the two together. The row
shape is the event log's: ``type``, ``event``, ``name`` (VARCHAR) and ``properties``,
``context`` (JSON, or VARCHAR holding JSON text; possibly NULL).

How exactness is kept:

* property paths become JSON Pointers (``/a/b``, ``~`` and ``/`` escaped), never JSONPath,
  whose ``*`` is a wildcard even inside quotes; a pointer would index an array on an all-digit
  segment where Python only walks objects, so such segments also require their parent to be
  an object;
* equality is by JSON type, then value: strings through ``json_extract_string``; integers by
  their exact decimal text (DuckDB keeps integers beyond 64 bits as their raw text, typed
  DOUBLE); doubles as doubles, and only when the rule's number is exactly a double;
* the bot regex is the very string the Python side compiles (:attr:`ActivityRule.bot_regex`,
  in the dialect RE2 and Python agree on, ASCII case spelt out), over the same first
  ``MAX_USER_AGENT_CHARS`` characters; URL globs and e-mail domains use the rule's regexes
  (:attr:`ActivityRule.url_include_regex`, ...), which the tests hold equal to the linear-time
  matchers Python uses for them;
* every literal goes through :func:`sql_string` (quotes doubled, NUL as ``chr(0)``): nothing
  in a rule can change the shape of the SQL.
"""

from __future__ import annotations

from typing import Any

from maumeter.core.activity import (
    MAX_USER_AGENT_CHARS,
    ActivityRule,
    Matcher,
    Predicate,
    Verdict,
)
from maumeter.core.events import ADMIT

PAGE_URL_SQL = (
    "CASE WHEN json_type(context, '/page/url') = 'VARCHAR'"
    " THEN json_extract_string(context, '/page/url')"
    " WHEN json_type(properties, '/url') = 'VARCHAR'"
    " THEN json_extract_string(properties, '/url') END"
)
"""``Event.page_url``: ``context.page.url``, else ``properties.url``; strings only."""

USER_AGENT_SQL = (
    "CASE WHEN json_type(context, '/userAgent') = 'VARCHAR'"
    f" THEN substring(json_extract_string(context, '/userAgent'), 1, {MAX_USER_AGENT_CHARS}) END"
)
"""``Event.user_agent``, cut to the characters bot patterns look at."""

_INTEGER_TEXT = "'-?[0-9]+'"


def sql_string(text: str) -> str:
    """A SQL string literal for any text: quotes doubled, NUL characters as ``chr(0)``."""
    if "\x00" in text:
        return "(" + " || chr(0) || ".join(sql_string(p) for p in text.split("\x00")) + ")"
    return "'" + text.replace("'", "''") + "'"


def json_pointer(path: tuple[str, ...]) -> str:
    """RFC 6901 pointer of an object path: ``("a", "b/c")`` → ``/a/b~1c``."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)


def matched_sql(rule: ActivityRule) -> str:
    """A non-NULL BOOLEAN expression: the row is activity by the rule's matchers (an admission
    always is); the exclusions are not looked at."""
    return " OR ".join([f"type = {sql_string(ADMIT)}", *(matcher_sql(m) for m in rule.matchers)])


def verdict_sql(rule: ActivityRule) -> str:
    """A VARCHAR expression: the :class:`Verdict` value of each row, as ``rule.evaluate``."""
    matched = matched_sql(rule)
    branches = [f"WHEN NOT ({matched}) THEN {sql_string(Verdict.NOT_ACTIVITY)}"]
    url_tests = []  # a NULL url (no URL on the event) leaves both tests NULL: not filtered
    if rule.url_include_regex is not None:
        regex = sql_string(rule.url_include_regex)
        url_tests.append(f"NOT regexp_full_match({PAGE_URL_SQL}, {regex})")
    if rule.url_exclude_regex is not None:
        url_tests.append(f"regexp_full_match({PAGE_URL_SQL}, {sql_string(rule.url_exclude_regex)})")
    if url_tests:
        test = " OR ".join(url_tests)
        branches.append(f"WHEN coalesce({test}, false) THEN {sql_string(Verdict.URL_EXCLUDED)}")
    if rule.bot_regex is not None:
        bot = f"regexp_matches({USER_AGENT_SQL}, {sql_string(rule.bot_regex)})"
        branches.append(f"WHEN coalesce({bot}, false) THEN {sql_string(Verdict.BOT)}")
    return f"(CASE {' '.join(branches)} ELSE {sql_string(Verdict.QUALIFIES)} END)"


def qualifies_sql(rule: ActivityRule) -> str:
    """A BOOLEAN expression: the row's event qualifies."""
    return f"({verdict_sql(rule)} = {sql_string(Verdict.QUALIFIES)})"


def matcher_sql(matcher: Matcher) -> str:
    """A non-NULL BOOLEAN expression: the row matches ``matcher``."""
    parts = [f"type = {sql_string(matcher.type)}"]
    if matcher.events is not None:
        column = "event" if matcher.type == "track" else "name"
        names = ", ".join(sql_string(n) for n in sorted(matcher.events))
        parts.append(f"{column} IN ({names})")
    parts.extend(predicate_sql(p) for p in matcher.where)
    return f"coalesce({' AND '.join(parts)}, false)"


def predicate_sql(predicate: Predicate, document: str = "properties") -> str:
    """A non-NULL BOOLEAN expression: ``predicate`` holds on the JSON column ``document``."""
    path = predicate.path
    pointer = sql_string(json_pointer(path))
    kind = f"json_type({document}, {pointer})"
    tests = [
        f"json_type({document}, {sql_string(json_pointer(path[:i]))}) = 'OBJECT'"
        for i in range(1, len(path))
        if path[i].isdigit()  # a pointer would index an array here; Python walks objects only
    ]
    if predicate.op == "exists":
        tests.append(f"{kind} <> 'NULL'")
    else:
        values = predicate.value if predicate.op == "in" else (predicate.value,)
        tests.append(_one_of(document, pointer, kind, values))
    held = f"coalesce({' AND '.join(tests)}, false)"
    return f"(NOT {held})" if predicate.negate else held


def _one_of(document: str, pointer: str, kind: str, values: tuple[Any, ...]) -> str:
    """The JSON value at ``pointer`` equals one of ``values`` (JSON scalars), by type and value."""
    raw = f"CAST(json_extract({document}, {pointer}) AS VARCHAR)"
    alternatives = []
    strings = sorted({v for v in values if isinstance(v, str)})
    if strings:
        text = f"json_extract_string({document}, {pointer})"
        listed = ", ".join(sql_string(s) for s in strings)
        alternatives.append(f"({kind} = 'VARCHAR' AND {text} IN ({listed}))")
    if any(v is None for v in values):
        alternatives.append(f"{kind} = 'NULL'")
    for flag in sorted({v for v in values if isinstance(v, bool)}):
        alternatives.append(f"({kind} = 'BOOLEAN' AND {raw} = {sql_string(str(flag).lower())})")
    numbers = {v for v in values if isinstance(v, int | float) and not isinstance(v, bool)}
    for number in sorted(numbers):
        alternatives.append(_number_equals(document, pointer, kind, raw, number))
    return "(" + " OR ".join(alternatives) + ")"


def _number_equals(document: str, pointer: str, kind: str, raw: str, number: float) -> str:
    """Exact equality with a JSON number, as Python compares int and float (no rounding)."""
    integral = isinstance(number, int) or number.is_integer()
    integer_test = f"{raw} = {sql_string(str(int(number)))}" if integral else "false"
    try:
        as_double = float(number)
    except OverflowError:
        as_double = None
    if as_double is not None and as_double == number:
        value = f"CAST({sql_string(repr(as_double))} AS DOUBLE)"
        double_test = f"TRY_CAST(json_extract({document}, {pointer}) AS DOUBLE) = {value}"
    else:
        double_test = "false"
    return (
        f"(CASE WHEN {kind} IN ('BIGINT', 'UBIGINT')"
        f" OR ({kind} = 'DOUBLE' AND regexp_full_match({raw}, {_INTEGER_TEXT}))"
        f" THEN {integer_test} WHEN {kind} = 'DOUBLE' THEN {double_test} ELSE false END)"
    )


def internal_id_sql(rule: ActivityRule, column: str = "user_id") -> str | None:
    """A non-NULL BOOLEAN expression: ``column`` is a listed internal user id (None: no ids)."""
    if not rule.internal_user_ids:
        return None
    ids = ", ".join(sql_string(i) for i in sorted(rule.internal_user_ids))
    return f"coalesce({column} IN ({ids}), false)"


def email_sql(traits: str = "traits", context: str = "context") -> tuple[str, str]:
    """VARCHAR expressions for ``traits.email`` and ``context.traits.email`` (NULL if absent).

    The twin of :func:`maumeter.core.activity.emails_of`: only string values count.
    """
    return (
        f"CASE WHEN json_type({traits}, '/email') = 'VARCHAR'"
        f" THEN json_extract_string({traits}, '/email') END",
        f"CASE WHEN json_type({context}, '/traits/email') = 'VARCHAR'"
        f" THEN json_extract_string({context}, '/traits/email') END",
    )


def internal_email_sql(rule: ActivityRule, email: str) -> str | None:
    """A non-NULL BOOLEAN expression: the e-mail ``email`` is in an internal domain."""
    if rule.internal_email_regex is None:
        return None
    return f"coalesce(regexp_full_match({email}, {sql_string(rule.internal_email_regex)}), false)"
