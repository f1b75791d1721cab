"""Activity rules: presets, predicates, URL and bot exclusions, internal users, JSON."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maumeter.core.activity import (
    DEFAULT_BOT_PATTERNS,
    DEFAULT_RULE,
    PRESET_NAMES,
    PRESETS,
    ActivityRule,
    Matcher,
    Predicate,
    Verdict,
    emails_of,
    parse_rule_arg,
    preset,
)
from maumeter.core.errors import InvalidInput
from maumeter.core.events import Event, parse_event
from maumeter.core.patterns import glob_match, glob_to_regex, portable_regex_problem

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"


def ev(kind: str, name: str | None = None, **fields: Any) -> Event:
    record: dict[str, Any] = {"type": kind, "anonymousId": "anon-1", **fields}
    if name is not None:
        record["event" if kind == "track" else "name"] = name
    return parse_event(record)


def page(url: str | None = None, ua: str | None = BROWSER, **fields: Any) -> Event:
    context: dict[str, Any] = {}
    if url is not None:
        context["page"] = {"url": url}
    if ua is not None:
        context["userAgent"] = ua
    return ev("page", context=context, **fields)


def verdicts(rule: ActivityRule, events: list[Event]) -> list[str]:
    return [rule.evaluate(e).value for e in events]


# -- presets --------------------------------------------------------------------------------------


def test_any_activity_counts_track_page_screen_only() -> None:
    rule = preset("any-activity")
    assert rule is DEFAULT_RULE
    events = [
        ev("track", "Logged In"),
        ev("page"),
        ev("screen", "Home"),
        ev("identify", traits={"email": "a@b.c"}),
        ev("group", groupId="g"),
        parse_event({"type": "alias", "userId": "u", "previousId": "anon-1"}),
    ]
    assert verdicts(rule, events) == ["qualifies"] * 3 + ["not-activity"] * 3


def test_sdk_load_counts_sdk_loaded_and_pages() -> None:
    rule = preset("sdk-load")
    events = [ev("track", "SDK Loaded"), ev("page"), ev("track", "Clicked"), ev("screen", "Home")]
    assert verdicts(rule, events) == ["qualifies", "qualifies", "not-activity", "not-activity"]


def test_decisions_count_even_when_the_flag_is_disabled() -> None:
    """Optimizely counts every decision: a Decision with enabled=false is still activity."""
    rule = preset("decisions-and-tracking")
    decision = ev(
        "track",
        "Decision",
        properties={"flag_key": "checkout", "variation": "off", "enabled": False},
    )
    assert rule.evaluate(decision) is Verdict.QUALIFIES
    assert rule.evaluate(ev("track", "Order Completed")) is Verdict.QUALIFIES


def test_an_empty_snippet_is_zero_mau() -> None:
    """The page loads, no decision is made, nothing is tracked: nobody is counted."""
    rule = preset("decisions-and-tracking")
    snippet_only = [page("https://shop.example/"), page("https://shop.example/cart")]
    assert verdicts(rule, snippet_only) == ["not-activity", "not-activity"]
    assert not any(rule.qualifies(e) for e in snippet_only)


def test_conversation_counts_messages() -> None:
    rule = preset("conversation")
    events = [ev("track", "Message Sent"), ev("track", "Message Received"), ev("track", "Opened")]
    assert verdicts(rule, events) == ["qualifies", "qualifies", "not-activity"]
    assert rule.evaluate(page()) is Verdict.NOT_ACTIVITY


def test_preset_names() -> None:
    assert set(PRESETS) | {"custom"} == set(PRESET_NAMES)
    with pytest.raises(InvalidInput) as caught:
        preset("everything")
    assert "any-activity, sdk-load, decisions-and-tracking, conversation, custom" in str(
        caught.value
    )
    with pytest.raises(InvalidInput, match="custom rule is given as JSON"):
        preset("custom")


# -- matchers and predicates ----------------------------------------------------------------------


def custom(*matchers: Matcher, **fields: Any) -> ActivityRule:
    return ActivityRule("custom", matchers, **fields)


def test_event_names_are_track_event_or_page_name() -> None:
    rule = custom(Matcher("track", frozenset({"Signed Up"})), Matcher("page", frozenset({"Home"})))
    events = [ev("track", "Signed Up"), ev("track", "Home"), ev("page", "Home"), ev("page")]
    assert verdicts(rule, events) == ["qualifies", "not-activity", "qualifies", "not-activity"]


@pytest.mark.parametrize(
    ("predicate", "properties", "holds"),
    [
        (Predicate("plan", "equals", "pro"), {"plan": "pro"}, True),
        (Predicate("plan", "equals", "pro"), {"plan": "Pro"}, False),
        (Predicate("n", "equals", 1), {"n": 1.0}, True),
        (Predicate("n", "equals", 1), {"n": "1"}, False),
        (Predicate("n", "equals", 1), {"n": True}, False),
        (Predicate("n", "equals", True), {"n": 1}, False),
        (Predicate("n", "equals", None), {"n": None}, True),
        (Predicate("n", "equals", None), {}, False),
        (Predicate("n", "equals", 2**53 + 1), {"n": float(2**53)}, False),
        (Predicate("a.b", "equals", "x"), {"a": {"b": "x"}}, True),
        (Predicate("a.b", "equals", "x"), {"a.b": "x"}, False),
        (Predicate("a.0", "equals", "x"), {"a": ["x"]}, False),
        (Predicate("a.0", "equals", "x"), {"a": {"0": "x"}}, True),
        (Predicate("plan", "in", ["pro", "team"]), {"plan": "team"}, True),
        (Predicate("plan", "in", ["pro", 1]), {"plan": 1.0}, True),
        (Predicate("plan", "in", ["pro"]), {"plan": ["pro"]}, False),
        (Predicate("plan", "exists"), {"plan": 0}, True),
        (Predicate("plan", "exists"), {"plan": None}, False),
        (Predicate("plan", "exists"), {}, False),
        (Predicate("plan", "exists", negate=True), {}, True),
        (Predicate("plan", "equals", "pro", negate=True), {}, True),
        (Predicate("plan", "equals", "pro", negate=True), {"plan": "pro"}, False),
        (Predicate("a.b", "exists"), {"a": "b"}, False),
    ],
)
def test_predicates(predicate: Predicate, properties: dict[str, Any], holds: bool) -> None:
    assert predicate.holds(properties) is holds


def test_all_predicates_must_hold() -> None:
    rule = custom(
        Matcher(
            "track",
            frozenset({"Decision"}),
            (Predicate("flag_key", "exists"), Predicate("enabled", "equals", False, negate=True)),
        )
    )
    on = ev("track", "Decision", properties={"flag_key": "f", "enabled": True})
    off = ev("track", "Decision", properties={"flag_key": "f", "enabled": False})
    unflagged = ev("track", "Decision", properties={"enabled": True})
    assert verdicts(rule, [on, off, unflagged]) == ["qualifies", "not-activity", "not-activity"]


# -- URL rules ------------------------------------------------------------------------------------


def test_url_include_and_exclude() -> None:
    rule = ActivityRule.from_json(
        {
            "preset": "sdk-load",
            "url_include": ["https://app.example.com/*"],
            "url_exclude": ["*/admin/*", "*?preview=1"],
        }
    )
    events = [
        page("https://app.example.com/dashboard"),
        page("https://www.example.com/pricing"),  # not included
        page("https://app.example.com/admin/users"),  # excluded
        page("https://app.example.com/x?preview=1"),  # excluded
        page(None),  # no URL: not URL-filtered
        ev("track", "SDK Loaded"),  # server-side call: not URL-filtered
    ]
    assert verdicts(rule, events) == [
        "qualifies",
        "url-excluded",
        "url-excluded",
        "url-excluded",
        "qualifies",
        "qualifies",
    ]


def test_url_comes_from_context_page_then_properties() -> None:
    rule = ActivityRule.from_json({"url_exclude": ["*/admin*"]})
    from_properties = ev("page", properties={"url": "https://x.io/admin"})
    context_wins = ev(
        "page",
        properties={"url": "https://x.io/admin"},
        context={"page": {"url": "https://x.io/home"}},
    )
    non_string = ev("page", properties={"url": "https://x.io/admin"}, context={"page": {"url": 3}})
    assert verdicts(rule, [from_properties, context_wins, non_string]) == [
        "url-excluded",
        "qualifies",
        "url-excluded",
    ]


@pytest.mark.parametrize(
    ("glob", "url", "matches"),
    [
        ("https://a.io/*", "https://a.io/x/y/z", True),  # * crosses /
        ("https://a.io/*", "https://a.io", False),  # whole URL
        ("*a.io*", "https://a.io/", True),
        ("https://a.io/?", "https://a.io/x", True),  # ? is one character
        ("https://a.io/?", "https://a.io/xy", False),
        ("https://a.io/?", "https://a.io/é", True),
        ("https://A.io/", "https://a.io/", False),  # case-sensitive
        ("https://a.io/[ab]", "https://a.io/a", False),  # [ ] are literal (not fnmatch)
        ("https://a.io/[ab]", "https://a.io/[ab]", True),
        ("https://a.io/x.y", "https://a.io/xzy", False),  # . is literal
        ("*/a+b(c)|$^", "/a+b(c)|$^", True),
        ("a*b*c", "a\nb\nc", True),
        ("a**b", "ab", True),
    ],
)
def test_globs(glob: str, url: str, matches: bool) -> None:
    assert glob_match(glob, url) is matches
    assert (re.fullmatch(glob_to_regex(glob), url) is not None) is matches


@settings(max_examples=300)
@given(
    glob=st.text(st.sampled_from("ab*?./\n"), max_size=8),
    text=st.text(st.sampled_from("ab./\n"), max_size=10),
)
def test_glob_match_is_the_regex(glob: str, text: str) -> None:
    assert glob_match(glob, text) is (re.fullmatch(glob_to_regex(glob), text) is not None)


def test_glob_matching_takes_linear_time() -> None:
    """``*a*a*a*b`` against a long URL backtracks exponentially in ``re``; not here."""
    rule = ActivityRule.from_json({"url_include": ["*a*a*a*a*a*a*b"], "url_exclude": ["*?*?*?c"]})
    start = time.perf_counter()
    assert rule.evaluate(page("a" * 100_000)) is Verdict.URL_EXCLUDED
    assert time.perf_counter() - start < 0.5


# -- bots -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ua", "bot"),
    [
        (BROWSER, False),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("Mozilla/5.0 (compatible; bingbot/2.0)", True),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0.0.0 Safari/537.36", True),
        ("curl/8.4.0", True),
        ("python-requests/2.31.0", True),
        ("facebookexternalhit/1.1", True),
        ("Mozilla/5.0 (Linux; Android 12; CUBOT KingKong 7) Chrome/112", False),
        ("BOT", True),
    ],
)
def test_default_bot_patterns(ua: str, bot: bool) -> None:
    verdict = DEFAULT_RULE.evaluate(page("https://a.io/", ua=ua))
    assert verdict is (Verdict.BOT if bot else Verdict.QUALIFIES)


def test_bots_need_a_user_agent_and_can_be_kept() -> None:
    assert DEFAULT_RULE.evaluate(ev("track", "Crawled")) is Verdict.QUALIFIES  # server-side
    keep = ActivityRule.from_json({"exclude_bots": False})
    assert keep.evaluate(page(ua="Googlebot")) is Verdict.QUALIFIES
    assert keep.bot_regex is None


def test_custom_bot_patterns_match_ascii_letters_in_either_case() -> None:
    rule = ActivityRule.from_json({"bot_user_agents": ["monitor/[0-9]", "^synthetic"]})
    assert rule.evaluate(page(ua="UptimeMONITOR/7")) is Verdict.BOT
    assert rule.evaluate(page(ua="Synthetic check")) is Verdict.BOT
    assert rule.evaluate(page(ua="not synthetic")) is Verdict.QUALIFIES
    assert rule.evaluate(page(ua="Googlebot")) is Verdict.QUALIFIES  # the defaults are replaced
    # Only ASCII case folds: Python and RE2 disagree beyond it (i ~ İ in Python only).
    assert ActivityRule.from_json({"bot_user_agents": ["i"]}).evaluate(page(ua="İ")).value == (
        "qualifies"
    )


def test_check_order_is_matchers_then_url_then_bot() -> None:
    rule = ActivityRule.from_json({"preset": "conversation", "url_exclude": ["*"]})
    bot_on_excluded_page = page("https://a.io/", ua="Googlebot")
    assert rule.evaluate(bot_on_excluded_page) is Verdict.NOT_ACTIVITY
    rule = ActivityRule.from_json({"url_exclude": ["*"]})
    assert rule.evaluate(bot_on_excluded_page) is Verdict.URL_EXCLUDED


UNPORTABLE = [r"\d+", r"\bbot", "bot$", "(?i)bot", "(?=bot)", "(?P<n>x)", "a*+", "[[a]", "é"]
UNPORTABLE += ["(ab)+", "a.*b.*c", "x{20}", "(", "x|", "a?"]


@pytest.mark.parametrize("pattern", UNPORTABLE)
def test_unportable_bot_patterns_are_refused(pattern: str) -> None:
    assert portable_regex_problem(pattern) is not None
    with pytest.raises(InvalidInput, match=r"bot_user_agents\[0\]"):
        ActivityRule.from_json({"bot_user_agents": [pattern]})


def test_default_bot_patterns_are_portable() -> None:
    assert all(portable_regex_problem(p) is None for p in DEFAULT_BOT_PATTERNS)


# -- internal users -------------------------------------------------------------------------------


def test_internal_ids_and_email_domains() -> None:
    rule = ActivityRule.from_json(
        {"internal_user_ids": ["qa-1"], "internal_email_domains": ["Acme.com", "@corp.io"]}
    )
    assert rule.has_internal_exclusions
    assert not DEFAULT_RULE.has_internal_exclusions
    assert rule.is_internal_user_id("qa-1") and not rule.is_internal_user_id("QA-1")
    assert rule.internal_email_domains == frozenset({"acme.com", "corp.io"})
    internal = ["bob@acme.com", "bob@ACME.COM", "bob@eng.acme.com", "x@corp.io", "a@b@acme.com"]
    external = ["bob@notacme.com", "bob@acme.com.evil.org", "acme.com", "bob@acme.co", "a@b.c"]
    assert [rule.is_internal_email(e) for e in internal] == [True] * len(internal)
    assert [rule.is_internal_email(e) for e in external] == [False] * len(external)
    assert not rule.is_internal_email("x@acme.com@evil.org")  # the last @ decides


def test_emails_of() -> None:
    event = ev(
        "identify",
        traits={"email": "a@acme.com"},
        context={"traits": {"email": "b@acme.com"}},
    )
    assert emails_of(event) == ["a@acme.com", "b@acme.com"]
    assert emails_of(ev("track", "X", traits={"email": 3}, context={"traits": "x"})) == []


# -- JSON -----------------------------------------------------------------------------------------


def round_trip(rule: ActivityRule) -> ActivityRule:
    return ActivityRule.from_json(json.loads(json.dumps(rule.to_json())))


def test_presets_round_trip_without_their_matchers() -> None:
    for rule in PRESETS.values():
        assert round_trip(rule) == rule
        assert "matchers" not in rule.to_json()
    # The verbose form (a preset with its own matchers spelled out) is accepted too.
    spelled = {"preset": "sdk-load", "matchers": [{"type": "track", "events": ["SDK Loaded"]}]}
    spelled["matchers"].append({"type": "page"})
    assert ActivityRule.from_json(spelled) == PRESETS["sdk-load"]


def test_custom_rule_round_trips() -> None:
    obj = {
        "preset": "custom",
        "matchers": [
            {
                "type": "track",
                "events": ["Signed Up"],
                "where": [{"key": "plan", "op": "in", "value": ["pro", 2, None], "not": False}],
            },
            {"type": "page", "where": [{"key": "a.b", "op": "exists", "not": True}]},
        ],
        "url_include": ["https://app.example.com/*"],
        "url_exclude": ["*/admin/*"],
        "internal_user_ids": ["qa-1"],
        "internal_email_domains": ["acme.com"],
        "bot_user_agents": ["bot", "crawl"],
        "exclude_bots": True,
    }
    rule = ActivityRule.from_json(obj)
    assert rule.to_json() == obj
    assert round_trip(rule) == rule
    assert hash(rule) == hash(round_trip(rule))


def test_a_preset_with_exclusions() -> None:
    rule = ActivityRule.from_json({"preset": "sdk-load", "url_exclude": ["*/admin/*"]})
    assert rule.preset == "sdk-load" and rule.matchers == PRESETS["sdk-load"].matchers
    assert rule.url_exclude == ("*/admin/*",)
    assert ActivityRule.from_json({}) == DEFAULT_RULE


def problems_of(obj: Any) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        ActivityRule.from_json(obj)
    return [str(p) for p in caught.value.problems]


def test_every_problem_is_reported_with_its_path() -> None:
    found = problems_of(
        {
            "preset": "custom",
            "matchers": [
                {"type": "trak", "events": "Signed Up"},
                {
                    "type": "track",
                    "where": [
                        {"key": "plan", "op": "like", "value": "pro"},
                        {"key": "plan", "op": "in", "value": "pro"},
                        {"key": "plan", "op": "equals"},
                        {"key": "", "op": "exists", "not": "yes"},
                        {"key": "plan", "op": "equals", "value": {"a": 1}, "extra": 1},
                    ],
                },
                {"type": "identify", "events": ["x"]},
            ],
            "url_include": ["https://a.io/*", "", 3],
            "internal_email_domains": ["not a domain"],
            "bot_user_agents": [r"\d"],
            "exclude_bots": "no",
            "colour": "red",
        }
    )
    fields = [p.split(":")[0] for p in found]
    assert sorted(fields) == sorted(
        [
            "colour",
            "matchers[0].type",
            "matchers[0].events",
            "matchers[1].where[0].op",
            "matchers[1].where[1].value",
            "matchers[1].where[2].value",
            "matchers[1].where[3].key",
            "matchers[1].where[3].not",
            "matchers[1].where[4].value",
            "matchers[1].where[4].extra",
            "matchers[2].events",
            "url_include[1]",
            "url_include[2]",
            "internal_email_domains[0]",
            "bot_user_agents[0]",
            "exclude_bots",
        ]
    )
    assert any(p.startswith("matchers[0].type: expected one of identify, track") for p in found)
    assert "url_include[2]: expected a non-empty string" in found


def test_preset_and_matcher_problems() -> None:
    assert problems_of({"preset": "bogus"}) == [
        "preset: expected one of any-activity, sdk-load, decisions-and-tracking, conversation,"
        " custom, got 'bogus'"
    ]
    assert problems_of({"preset": "custom"}) == [
        "matchers: required for preset custom (a list of matchers)"
    ]
    assert problems_of({"preset": "custom", "matchers": []}) == [
        "matchers: a custom rule needs at least one matcher"
    ]
    assert [
        p.split(":")[0]
        for p in problems_of({"preset": "sdk-load", "matchers": [{"type": "track"}]})
    ] == ["matchers"]
    assert problems_of([]) == ['rule: expected a JSON object such as {"preset": "sdk-load"}']
    assert [p.split(":")[0] for p in problems_of({"preset": ["x"], "matchers": "x"})] == [
        "preset",
        "matchers",
    ]
    assert problems_of({"matchers": [5]}) == [
        'matchers[0]: expected an object such as {"type": "track"}'
    ]


def test_direct_construction_is_validated() -> None:
    with pytest.raises(InvalidInput, match="op: expected one of equals, in, exists"):
        Predicate("plan", "like")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="preset sdk-load has its own matchers"):
        ActivityRule("sdk-load", (Matcher("track"),))
    assert Predicate("p", "in", ["a", "b"]).value == ("a", "b")  # hashable
    with pytest.raises(InvalidInput, match="lone surrogate"):
        Matcher("track", frozenset({"\ud800"}))  # the SQL twin could not even encode it


def test_parse_rule_arg() -> None:
    assert parse_rule_arg(None, None) is DEFAULT_RULE
    assert parse_rule_arg("conversation", None) is PRESETS["conversation"]
    rule = parse_rule_arg(None, '{"preset": "custom", "matchers": [{"type": "screen"}]}')
    assert rule.matchers == (Matcher("screen"),)
    with pytest.raises(InvalidInput) as caught:
        parse_rule_arg(None, "{not json")
    assert caught.value.problems[0].field == "activity-json"
    with pytest.raises(InvalidInput) as caught:
        parse_rule_arg("nope", None)
    assert caught.value.problems[0].field == "activity"
    with pytest.raises(InvalidInput):
        parse_rule_arg("sdk-load", "{}")


TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1)  # no lone surrogates
SCALARS = st.none() | st.booleans() | st.integers() | TEXT | st.just("")
SCALARS |= st.floats(allow_nan=False, allow_infinity=False)
KEYS = st.lists(TEXT.filter(lambda k: "." not in k), min_size=1, max_size=3)


@st.composite
def random_rules(draw: st.DrawFn) -> ActivityRule:
    def predicate() -> Predicate:
        op = draw(st.sampled_from(["equals", "in", "exists"]))
        value = {"equals": draw(SCALARS), "in": draw(st.lists(SCALARS, min_size=1)), "exists": None}
        return Predicate(".".join(draw(KEYS)), op, value[op], draw(st.booleans()))

    def matcher() -> Matcher:
        kind = draw(st.sampled_from(["track", "page", "screen", "identify"]))
        named = kind != "identify" and draw(st.booleans())
        events = frozenset(draw(st.lists(TEXT, min_size=1))) if named else None
        return Matcher(kind, events, tuple(predicate() for _ in range(draw(st.integers(0, 2)))))

    return ActivityRule(
        "custom",
        tuple(matcher() for _ in range(draw(st.integers(1, 3)))),
        url_include=tuple(draw(st.lists(TEXT, max_size=2))),
        internal_user_ids=frozenset(draw(st.lists(TEXT, max_size=2))),
        internal_email_domains=frozenset(
            draw(st.lists(st.from_regex(r"[a-z]{1,5}\.io", fullmatch=True), max_size=2))
        ),
        bot_user_agents=tuple(draw(st.lists(st.sampled_from(DEFAULT_BOT_PATTERNS), max_size=3))),
        exclude_bots=draw(st.booleans()),
    )


@settings(max_examples=150)
@given(rule=random_rules())
def test_json_round_trip(rule: ActivityRule) -> None:
    assert round_trip(rule) == rule
    assert round_trip(rule).to_json() == rule.to_json()
