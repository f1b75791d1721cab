"""The SQL twin of the activity rule gives exactly the Python verdict, event for event."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maumeter.core.activity import (
    DEFAULT_BOT_PATTERNS,
    MAX_USER_AGENT_CHARS,
    ActivityRule,
    Matcher,
    Predicate,
    emails_of,
    preset,
)
from maumeter.core.events import Event
from maumeter.core.patterns import glob_match, glob_to_regex, portable_regex_problem
from maumeter.store.rule_sql import (
    email_sql,
    internal_email_sql,
    internal_id_sql,
    json_pointer,
    predicate_sql,
    sql_string,
    verdict_sql,
)

# -- strategies ----------------------------------------------------------------------------------

NASTY = ["'", '"', "\\", "\x00", "~", "/", "*", "$", ".", "é", "😀", " ", "\n", "%", "_"]
KEY_PARTS = st.sampled_from(["a", "b", "plan", "0", "1", "~0", "a/b", "*", "$", "[0]", "'", '"q"'])
KEY_PARTS = KEY_PARTS | st.text(st.sampled_from([*NASTY, "a", "0"]), min_size=1, max_size=3).filter(
    lambda s: "." not in s
)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
SCALAR_POOL = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    -0.0,
    0.5,
    2**53,
    2**53 + 1,
    float(2**53),
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    1e30,
    1e16,
    "",
    "1",
    "0",
    "1.0",
    "true",
    "false",
    "null",
    "a",
    "a'b",
    "x\x00y",
    "é",
    "😀",
]
SCALARS = st.sampled_from(SCALAR_POOL) | st.integers() | TEXT
SCALARS = SCALARS | st.floats(allow_nan=False, allow_infinity=False)
DATA_SCALARS = SCALARS | st.floats()  # events may carry NaN and infinities; rules may not

JSON_VALUES = st.recursive(
    DATA_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY_PARTS, inner, max_size=3),
    max_leaves=8,
)
PROPERTIES = st.dictionaries(KEY_PARTS, JSON_VALUES, max_size=4)

GLOB_CHARS = st.sampled_from(["a", "b", "/", ".", ":", "*", "?", "%", "(", "[", "]", "+", "^"])
GLOB_CHARS = GLOB_CHARS | st.sampled_from(["$", "\\", "{", "|", "é", "\n", "'", "\x00", "A"])
GLOBS = st.text(GLOB_CHARS, min_size=1, max_size=6)
URLS = st.text(GLOB_CHARS.filter(lambda c: c not in "*?") | st.just("x"), max_size=8)

UA_PIECES = ["Mozilla/5.0 ", "Googlebot", "CUBOT", "cubot", "robot", "BOT", "crawl", "curl/8"]
UA_PIECES += ["HeadlessChrome", "\u212a", "\u017f", "\u0130", "\u0131", "K", "s", "i", "\n", "$"]
USER_AGENTS = st.lists(st.sampled_from(UA_PIECES) | TEXT, min_size=1, max_size=4).map("".join)
REGEX_TOKENS = ["k", "s", "i", "B", "o", "t", "/", " ", ".", "^", "|", r"\$", r"\.", r"\(", "é"]
REGEX_TOKENS += ["[a-z]", "[^u]", "[K-k]", "[-_]", "[^\\]]", "(?:", "(", ")", "*", "+", "?", "{2}"]
RANDOM_REGEXES = (
    st.lists(st.sampled_from(REGEX_TOKENS), min_size=1, max_size=6)
    .map("".join)
    .filter(lambda p: portable_regex_problem(p) is None)
)
BOT_PATTERNS = st.lists(
    st.sampled_from([*DEFAULT_BOT_PATTERNS, "k", "s.", "^moz", "[a-z]+bot", "i{2}", r"\$", "x|yz"])
    | RANDOM_REGEXES,
    max_size=4,
)

NAMES = st.sampled_from(["SDK Loaded", "Decision", "Message Sent", "a'b", "x\x00", "é", "Home"])
TYPES = st.sampled_from(["track", "page", "screen", "identify", "group", "alias"])


@st.composite
def predicates(draw: st.DrawFn) -> Predicate:
    key = ".".join(draw(st.lists(KEY_PARTS, min_size=1, max_size=3)))
    op = draw(st.sampled_from(["equals", "in", "exists"]))
    value: Any = None
    if op == "equals":
        value = draw(SCALARS)
    elif op == "in":
        value = draw(st.lists(SCALARS, min_size=1, max_size=4))
    return Predicate(key, op, value, draw(st.booleans()))


@st.composite
def matchers(draw: st.DrawFn) -> Matcher:
    kind = draw(TYPES)
    events = None
    if kind in ("track", "page", "screen") and draw(st.booleans()):
        events = frozenset(draw(st.lists(NAMES, min_size=1, max_size=3)))
    return Matcher(kind, events, tuple(draw(st.lists(predicates(), max_size=3))))


@st.composite
def rules(draw: st.DrawFn) -> ActivityRule:
    return ActivityRule(
        "custom",
        tuple(draw(st.lists(matchers(), min_size=1, max_size=3))),
        url_include=tuple(draw(st.lists(GLOBS, max_size=2))),
        url_exclude=tuple(draw(st.lists(GLOBS, max_size=2))),
        bot_user_agents=tuple(draw(st.just(DEFAULT_BOT_PATTERNS) | BOT_PATTERNS)),
        exclude_bots=draw(st.sampled_from([True, True, True, False])),
    )


def near(value: Any) -> list[Any]:
    """Values equal to ``value`` in Python, or of another JSON type that looks the same."""
    out = [value, str(value), json.dumps(value), [value], {"v": value}]
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            out.append(json.loads(value))  # "1" → 1, "true" → True, "null" → None
    if isinstance(value, int | float) and not isinstance(value, bool):
        out += [-value, value + 1]
        with contextlib.suppress(OverflowError):
            out.append(float(value))
        if isinstance(value, int) or value.is_integer():
            out.append(int(value))
    if isinstance(value, bool):
        out.append(int(value))
    return out


@st.composite
def events(draw: st.DrawFn, rule: ActivityRule) -> Event:
    """Events near the rule: often of a matcher's type and name, holding values it compares."""
    kind = draw(TYPES)
    name = draw(NAMES)
    properties = draw(PROPERTIES)
    matcher = draw(st.sampled_from(rule.matchers))
    if draw(st.integers(0, 9)) < 8:
        kind = matcher.type
        if matcher.events and draw(st.integers(0, 4)) < 4:
            name = draw(st.sampled_from(sorted(matcher.events)))
        for predicate in matcher.where:
            if draw(st.integers(0, 4)) == 0:
                continue  # leave the path as it is (often missing)
            node = properties
            *parents, last = predicate.path
            for part in parents:
                child = node.get(part)
                node[part] = child = child if isinstance(child, dict) else {}
                node = child
            pool = [
                v
                for x in (predicate.value if predicate.op == "in" else (predicate.value,))
                for v in near(x)
            ]
            node[last] = draw(st.sampled_from(pool) if draw(st.booleans()) else JSON_VALUES)
    context: dict[str, Any] = {}
    where = draw(st.sampled_from(["none", "context", "properties", "both", "odd"]))
    globs = [*rule.url_include, *rule.url_exclude]
    url_from_rule = st.sampled_from(globs).map(lambda g: g.replace("*", "ab").replace("?", "/"))
    urls = URLS | url_from_rule if globs else URLS
    if where in ("context", "both"):
        context["page"] = {"url": draw(urls)}
    if where in ("properties", "both", "odd"):
        properties["url"] = draw(urls)
    if where == "odd":
        context["page"] = draw(st.sampled_from([{"url": 5}, ["x"], "https://x", {"url": None}]))
    if draw(st.booleans()):
        context["userAgent"] = draw(USER_AGENTS)
    elif draw(st.booleans()):
        context["userAgent"] = draw(st.sampled_from([None, 7, ["bot"]]))
    return Event(
        type=kind,
        message_id="m",
        anonymous_id="a",
        event=name if kind == "track" else None,
        name=draw(st.sampled_from([name, name, None])) if kind in ("page", "screen") else None,
        properties=properties,
        context=context,
    )


def _relation(con: duckdb.DuckDBPyConnection, rows: list[Event], ascii_json: bool) -> None:
    def dump(obj: dict[str, Any], i: int) -> str | None:
        if not obj and i % 3 == 0:
            return None  # the log may hold NULL for an empty object
        return json.dumps(obj, ensure_ascii=ascii_json)

    table = pa.table(
        {
            "i": list(range(len(rows))),
            "type": [e.type for e in rows],
            "event": [e.event for e in rows],
            "name": [e.name for e in rows],
            "properties": [dump(e.properties, i) for i, e in enumerate(rows)],
            "context": [dump(e.context, i) for i, e in enumerate(rows)],
        }
    )
    con.register("raw_events", table)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW ev AS SELECT i, type, event, name,"
        " properties::JSON AS properties, context::JSON AS context FROM raw_events"
    )


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


# -- the property --------------------------------------------------------------------------------


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sql_verdict_equals_python_verdict(con: duckdb.DuckDBPyConnection, data: Any) -> None:
    rule = data.draw(rules())
    rows = data.draw(st.lists(events(rule), min_size=1, max_size=8))
    _relation(con, rows, data.draw(st.booleans()))
    got = con.execute(f"SELECT {verdict_sql(rule)} FROM ev ORDER BY i").fetchall()
    expected = [rule.evaluate(e).value for e in rows]
    assert [v for (v,) in got] == expected


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_predicate_sql_equals_python(con: duckdb.DuckDBPyConnection, data: Any) -> None:
    """Predicates alone, with values drawn from the rule's own pool, so equality hits often."""
    predicate = data.draw(predicates())
    own = predicate.value if predicate.op == "in" else (predicate.value,)
    values = [v for x in own for v in near(x)] + data.draw(st.lists(JSON_VALUES, max_size=2))
    rows = []
    for value in values:
        properties: dict[str, Any] = {}
        node = properties
        *parents, last = predicate.path
        for part in parents:
            shape = data.draw(st.sampled_from(["object", "object", "array", "string"]))
            node[part] = {} if shape == "object" else [{}] if shape == "array" else "x"
            if shape != "object":
                break
            node = node[part]
        else:
            node[last] = value
        rows.append(
            Event(type="track", message_id="m", anonymous_id="a", event="E", properties=properties)
        )
    _relation(con, rows, data.draw(st.booleans()))
    got = con.execute(f"SELECT {predicate_sql(predicate)} FROM ev ORDER BY i").fetchall()
    assert [v for (v,) in got] == [predicate.holds(e.properties) for e in rows]


# -- examples ------------------------------------------------------------------------------------


def test_presets_in_sql(con: duckdb.DuckDBPyConnection) -> None:
    rows = [
        Event(
            type="page", message_id="1", anonymous_id="a", context={"page": {"url": "https://x"}}
        ),
        Event(
            type="track",
            message_id="2",
            anonymous_id="a",
            event="Decision",
            properties={"enabled": False},
        ),
        Event(
            type="track",
            message_id="3",
            anonymous_id="a",
            event="SDK Loaded",
            context={"userAgent": "Mozilla/5.0 (compatible; Googlebot/2.1)"},
        ),
        Event(type="identify", message_id="4", user_id="u"),
    ]
    _relation(con, rows, True)
    for name in ("any-activity", "sdk-load", "decisions-and-tracking", "conversation"):
        rule = preset(name)
        got = [
            v for (v,) in con.execute(f"SELECT {verdict_sql(rule)} FROM ev ORDER BY i").fetchall()
        ]
        assert got == [rule.evaluate(e).value for e in rows], name
    rule = preset("decisions-and-tracking")
    assert [rule.evaluate(e).value for e in rows] == [
        "not-activity",
        "qualifies",
        "bot",
        "not-activity",
    ]


EQUAL_GROUPS = [[None], [True], [False], [0, -0.0], [1, 1.0], ["1"], ["1.0"], ["true"], ["null"]]
EQUAL_GROUPS += [[""], [2**64, float(2**64)], [2**64 + 1], [10**30], [1e300], [0.1]]


@pytest.mark.parametrize("group", EQUAL_GROUPS, ids=repr)
def test_equality_is_by_json_type(con: duckdb.DuckDBPyConnection, group: list[Any]) -> None:
    """``"1"`` is not ``1``, ``true`` is not ``1``, ``1`` is ``1.0``; ints are exact."""
    values = [v for g in EQUAL_GROUPS for v in g] + [[group[0]], {"p": group[0]}]
    values += [float("nan"), float("inf"), float("-inf")]
    rows = [
        Event(type="track", message_id="m", anonymous_id="a", event="E", properties={"p": v})
        for v in values
    ]
    _relation(con, rows, True)
    for predicate in (Predicate("p", "equals", group[0]), Predicate("p", "in", [group[0], "z"])):
        got = [
            v
            for (v,) in con.execute(
                f"SELECT {predicate_sql(predicate)} FROM ev ORDER BY i"
            ).fetchall()
        ]
        assert got == [predicate.holds(e.properties) for e in rows]
        assert [v for v, hit in zip(values, got, strict=True) if hit] == group


NASTY_STRINGS = ["'; DROP TABLE ev; --", "a'b''c", "\\'", "x\x00y", '") OR true --', "é'😀"]


@pytest.mark.parametrize("nasty", NASTY_STRINGS)
def test_nasty_rule_strings_stay_literals(con: duckdb.DuckDBPyConnection, nasty: str) -> None:
    rule = ActivityRule(
        "custom",
        (
            Matcher(
                "track", frozenset({nasty}), (Predicate(nasty.replace(".", ""), "in", [nasty, 1]),)
            ),
            Matcher("page", None, (Predicate("k", "equals", nasty),)),
        ),
        url_include=(nasty + "*",),
        url_exclude=(nasty,),
        internal_user_ids=frozenset({nasty}),
    )
    rows = [
        Event(
            type="track",
            message_id="1",
            anonymous_id="a",
            event=nasty,
            properties={nasty.replace(".", ""): nasty},
        ),
        Event(
            type="page",
            message_id="2",
            anonymous_id="a",
            properties={"k": nasty, "url": nasty + "/x"},
        ),
        Event(type="page", message_id="3", anonymous_id="a", properties={"k": nasty, "url": nasty}),
        Event(type="page", message_id="4", anonymous_id="a", properties={"k": "other"}),
    ]
    _relation(con, rows, False)
    got = [v for (v,) in con.execute(f"SELECT {verdict_sql(rule)} FROM ev ORDER BY i").fetchall()]
    assert got == [rule.evaluate(e).value for e in rows]
    assert got == ["qualifies", "qualifies", "url-excluded", "not-activity"]
    assert con.execute(f"SELECT {sql_string(nasty)}").fetchall() == [(nasty,)]
    ids = internal_id_sql(rule, "u")
    assert ids is not None
    assert con.execute(f"SELECT {ids} FROM (SELECT {sql_string(nasty)} AS u)").fetchall() == [
        (True,)
    ]
    assert con.execute("SELECT count(*) FROM ev").fetchall() == [(4,)]


def test_json_pointer_escapes() -> None:
    assert json_pointer(("a", "b/c", "~d")) == "/a/b~1c/~0d"


def test_internal_ids_and_emails_in_sql(con: duckdb.DuckDBPyConnection) -> None:
    rule = ActivityRule.from_json(
        {"internal_user_ids": ["u1", "o'neil"], "internal_email_domains": ["acme.com", "@Corp.io"]}
    )
    assert internal_id_sql(ActivityRule.from_json({})) is None
    assert internal_email_sql(ActivityRule.from_json({}), "e") is None
    user_ids = ["u1", "o'neil", "u2", None]
    ids_sql = internal_id_sql(rule)
    got = con.execute(
        f"SELECT {ids_sql} FROM (SELECT unnest(?::VARCHAR[]) AS user_id)", [user_ids]
    ).fetchall()
    assert [v for (v,) in got] == [u is not None and rule.is_internal_user_id(u) for u in user_ids]

    emails = [
        "bob@acme.com",
        "bob@eng.ACME.com",
        "bob@notacme.com",
        "x@acme.com@evil.org",
        "evil.org@acme.com",
        "acme.com",
        "a@corp.io",
        "a@corp.io.evil",
        "a@\u212aorp.io",
        "a@b\nacme.com",
    ]
    email_test = internal_email_sql(rule, "e")
    got = con.execute(
        f"SELECT {email_test} FROM (SELECT unnest(?::VARCHAR[]) AS e)", [emails]
    ).fetchall()
    assert [v for (v,) in got] == [rule.is_internal_email(e) for e in emails]
    assert [rule.is_internal_email(e) for e in emails[:6]] == [
        True,
        True,
        False,
        False,
        True,
        False,
    ]

    rows = [
        Event(
            type="identify",
            message_id="1",
            user_id="u",
            traits={"email": "a@acme.com"},
            context={"traits": {"email": "b@x.org"}},
        ),
        Event(
            type="track",
            message_id="2",
            user_id="u",
            event="E",
            traits={"email": 5},
            context={"traits": ["x"]},
        ),
        Event(type="track", message_id="3", user_id="u", event="E"),
    ]
    table = pa.table(
        {
            "i": [0, 1, 2],
            "traits": [json.dumps(e.traits) for e in rows],
            "context": [json.dumps(e.context) for e in rows],
        }
    )
    con.register("people", table)
    traits_email, context_email = email_sql()
    got = con.execute(
        f"SELECT {traits_email}, {context_email} FROM (SELECT i, traits::JSON AS traits,"
        " context::JSON AS context FROM people) ORDER BY i"
    ).fetchall()
    assert [[e for e in pair if e is not None] for pair in got] == [emails_of(e) for e in rows]


@st.composite
def glob_and_texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A glob and texts near it: its wildcards filled in randomly, plus random texts."""
    glob = draw(GLOBS)
    fill = st.text(GLOB_CHARS, max_size=3)
    near = [
        "".join(
            draw(fill)
            if c == "*"
            else draw(st.sampled_from(["a", "\n", "é", ""]))
            if c == "?"
            else c
            for c in glob
        )
        for _ in range(3)
    ]
    return glob, near + draw(st.lists(URLS, max_size=3))


@settings(max_examples=200, deadline=None)
@given(case=glob_and_texts())
def test_glob_match_equals_the_regex_in_both_engines(
    con: duckdb.DuckDBPyConnection, case: tuple[str, list[str]]
) -> None:
    """Python's linear glob matcher, Python ``re`` and DuckDB's RE2 agree on every glob."""
    glob, texts = case
    regex = glob_to_regex(glob)
    sql = f"SELECT regexp_full_match(s, {sql_string(regex)}) FROM unnest(?) AS t(s)"
    in_duckdb = [v for (v,) in con.execute(sql, [texts]).fetchall()]
    assert in_duckdb == [re.fullmatch(regex, t) is not None for t in texts]
    assert in_duckdb == [glob_match(glob, t) for t in texts]


@settings(max_examples=150, deadline=None)
@given(patterns=BOT_PATTERNS.filter(bool), agents=st.lists(USER_AGENTS, min_size=1, max_size=6))
def test_bot_regex_agrees(
    con: duckdb.DuckDBPyConnection, patterns: list[str], agents: list[str]
) -> None:
    """The bot regex means the same in Python ``re`` and DuckDB's RE2, case spelt out."""
    rule = ActivityRule("custom", (Matcher("page"),), bot_user_agents=tuple(patterns))
    assert rule.bot_regex is not None
    sql = f"SELECT regexp_matches(s, {sql_string(rule.bot_regex)}) FROM unnest(?) AS t(s)"
    assert [v for (v,) in con.execute(sql, [agents]).fetchall()] == [
        re.search(rule.bot_regex, a) is not None for a in agents
    ]


def test_only_the_head_of_a_user_agent_is_searched(con: duckdb.DuckDBPyConnection) -> None:
    head = "é😀" * (MAX_USER_AGENT_CHARS // 2)
    rows = [
        Event(type="page", message_id=str(i), anonymous_id="a", context={"userAgent": ua})
        for i, ua in enumerate([head + "Googlebot", head[:-9] + "Googlebot", "Googlebot" + head])
    ]
    _relation(con, rows, False)
    rule = preset("any-activity")
    got = [v for (v,) in con.execute(f"SELECT {verdict_sql(rule)} FROM ev ORDER BY i").fetchall()]
    assert got == [rule.evaluate(e).value for e in rows] == ["qualifies", "bot", "bot"]


def test_kelvin_sign_and_long_s_agree() -> None:
    """RE2 folds ``[kK]|[sS]`` to match U+212A and U+017F: both engines must say the same."""
    import duckdb as _duckdb

    from maumeter.core.events import parse_event
    from maumeter.store.rule_sql import verdict_sql

    rule = ActivityRule("custom", (Matcher("page"),), bot_user_agents=("k", "s"))
    agents = ["\u212a", "\u017f", "K", "x"]
    con = _duckdb.connect()
    sql = verdict_sql(rule)
    for agent in agents:
        event = parse_event({"type": "page", "userId": "u", "context": {"userAgent": agent}})
        got = con.execute(
            f"SELECT {sql} FROM (SELECT 'page' AS type, NULL AS event, NULL AS name, "
            "'{}' AS properties, ? AS context)",
            [json.dumps(event.context)],
        ).fetchall()[0][0]
        assert got == rule.evaluate(event).value, agent
