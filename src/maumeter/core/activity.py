"""Activity rules: which events make a person active in a project.

A rule is data (it round-trips through JSON and is stored with the project) and has two
evaluators that must agree event for event: :meth:`ActivityRule.evaluate` here, used by the
live path and the reference count, and :func:`maumeter.store.rule_sql.verdict_sql`, the
vectorised twin that DuckDB runs over bulk imports and recounts. Every choice below that looks
fussy (JSON-typed equality, hand-compiled glob regexes, a restricted regex dialect for bot
patterns, case spelt out for ASCII letters only) exists so both engines give the same answer
for every input — and so that no client-sent URL or user agent can make Python's backtracking
regex engine spin (globs are matched without regexes in Python; bot patterns are kept simple).

Evaluation is per event and yields a :class:`Verdict`; checks run in a fixed order: matchers
(does the event count at all?), then URL include/exclude, then bots. Internal users are a
property of a *person* (any of their ids listed, or any e-mail seen on their events in a listed
domain), so the rule only answers the id-level questions and the counter applies them per person.

Pure: standard library only, no I/O, no clock.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Literal

from maumeter.core.errors import InvalidInput, Problem
from maumeter.core.events import ADMIT, EVENT_TYPES, Event
from maumeter.core.patterns import (
    ascii_caseless,
    glob_match,
    glob_to_regex,
    portable_regex_problem,
)

Op = Literal["equals", "in", "exists"]
OPS: Final[tuple[str, ...]] = ("equals", "in", "exists")
NAMED_TYPES: Final = frozenset({"track", "page", "screen"})  # types whose events carry a name

DEFAULT_PRESET: Final = "any-activity"
PRESET_NAMES: Final = (
    "any-activity",
    "sdk-load",
    "decisions-and-tracking",
    "conversation",
    "custom",
)

# fmt: off
DEFAULT_BOT_PATTERNS: Final[tuple[str, ...]] = (
    "(?:^|[^u])bot",  # Googlebot, bingbot, robot... but not the CUBOT phone brand
    "crawl", "spider", "slurp", "headless", "lighthouse", "pagespeed", "pingdom", "phantomjs",
    "selenium", "facebookexternalhit", "python-requests", "python-urllib", "aiohttp",
    "go-http-client", "scrapy", "curl/", "wget/",
)
# fmt: on
"""Regex fragments searched anywhere in ``context.userAgent``, ASCII letters in either case.

Chosen to catch crawlers, link previewers, headless browsers and scripted HTTP clients while
leaving real browsers and mobile SDKs alone. Server-side calls normally carry no user agent and
are never bots. Written in the portable dialect of :func:`portable_regex_problem`.
"""

MAX_USER_AGENT_CHARS: Final = 512
"""Bot patterns look at the first 512 characters of a user agent (bounded work per event)."""


class Verdict(StrEnum):
    """What a rule says about one event; a closed set, reported per event in explanations."""

    QUALIFIES = "qualifies"
    NOT_ACTIVITY = "not-activity"  # no matcher matches
    URL_EXCLUDED = "url-excluded"
    BOT = "bot"


_MISSING: Final = object()


# -- values and paths ---------------------------------------------------------------------------


def lookup(properties: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` walking objects only, or the ``_MISSING`` sentinel."""
    node: Any = properties
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON scalars by type then value; arrays and objects never equal a scalar."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return False


def _text_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "expected a non-empty string"
    try:
        value.encode()  # the SQL twin needs UTF-8
    except UnicodeEncodeError:
        return "invalid Unicode (a lone surrogate)"
    return None


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return _text_problem(value) if value else None
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "expected a finite number"
    return "expected a string, number, boolean or null"


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset)


def _strings(values: Any, at: str, problems: list[Problem]) -> list[str]:
    """The non-empty strings of a list; a problem for anything else, by index."""
    if not _is_list(values):
        problems.append(Problem(at, "expected a list of strings"))
        return []
    good = []
    for i, value in enumerate(values):
        if message := _text_problem(value):
            problems.append(Problem(f"{at}[{i}]", message))
        else:
            good.append(value)
    return good


_ASCII_LOWER: Final = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_DOMAIN: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")


@dataclass(frozen=True)
class Predicate:
    """A test on ``event.properties`` at a dotted path (``"plan"``, ``"account.tier"``).

    Values compare as JSON values: by type, then value (``"1"`` is not ``1``, ``true`` is not
    ``1``, ``1`` equals ``1.0``). A missing path makes every op false, so ``negate`` makes it
    true. ``exists`` means present and not null. Only objects are walked: ``"items.0"`` never
    indexes into an array.
    """

    key: str
    op: Op
    value: Any = None
    negate: bool = False

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if _text_problem(self.key) or "" in self.key.split("."):
            problems.append(
                Problem("key", f"expected a path such as plan or a.b, got {self.key!r}")
            )
        if self.op not in OPS:
            problems.append(Problem("op", f"expected one of {', '.join(OPS)}, got {self.op!r}"))
        elif self.op == "equals" and (message := _scalar_problem(self.value)):
            problems.append(Problem("value", message))
        elif self.op == "in":
            if not _is_list(self.value) or not self.value:
                problems.append(Problem("value", "op in expects a non-empty list of values"))
            else:
                object.__setattr__(self, "value", tuple(self.value))
                for i, item in enumerate(self.value):
                    if message := _scalar_problem(item):
                        problems.append(Problem(f"value[{i}]", message))
        elif self.op == "exists" and self.value is not None:
            problems.append(Problem("value", "op exists takes no value"))
        if not isinstance(self.negate, bool):
            problems.append(Problem("not", "expected true or false"))
        if problems:
            raise InvalidInput(problems)

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))

    def holds(self, properties: Mapping[str, Any]) -> bool:
        found = lookup(properties, self.path)
        if found is _MISSING:
            result = False
        elif self.op == "exists":
            result = found is not None
        elif self.op == "equals":
            result = json_equal(found, self.value)
        else:
            result = any(json_equal(found, v) for v in self.value)
        return result != self.negate

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "op": self.op}
        if self.op != "exists":
            out["value"] = list(self.value) if self.op == "in" else self.value
        out["not"] = self.negate
        return out


@dataclass(frozen=True)
class Matcher:
    """Events of one ``type``, optionally only some names, optionally with property predicates.

    The name is ``event`` for track events and ``name`` for page and screen events; the other
    types have no name, so ``events`` may only narrow track, page and screen matchers.
    """

    type: str
    events: frozenset[str] | None = None
    where: tuple[Predicate, ...] = ()

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if self.type not in EVENT_TYPES:
            expected = ", ".join(EVENT_TYPES)
            problems.append(Problem("type", f"expected one of {expected}, got {self.type!r}"))
        if self.events is not None:
            names = _strings(self.events, "events", problems)
            if _is_list(self.events) and not self.events:
                problems.append(Problem("events", "expected a name; omit events to match all"))
            if self.type in EVENT_TYPES and self.type not in NAMED_TYPES:
                problems.append(Problem("events", f"{self.type} events have no name; omit events"))
            object.__setattr__(self, "events", frozenset(names))
        object.__setattr__(self, "where", tuple(self.where))
        if not all(isinstance(p, Predicate) for p in self.where):
            problems.append(Problem("where", "expected Predicate values"))
        if problems:
            raise InvalidInput(problems)

    def matches(self, event: Event) -> bool:
        if event.type != self.type:
            return False
        if self.events is not None:
            name = event.event if event.type == "track" else event.name
            if name not in self.events:
                return False
        return all(p.holds(event.properties) for p in self.where)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.events is not None:
            out["events"] = sorted(self.events)
        if self.where:
            out["where"] = [p.to_json() for p in self.where]
        return out


_PRESET_MATCHERS: Final[dict[str, tuple[Matcher, ...]]] = {
    # Every track, page and screen: identify, alias and group describe a person, they are not
    # activity on their own.
    "any-activity": (Matcher("track"), Matcher("page"), Matcher("screen")),
    # Jimo counts a user when its SDK loads on a page.
    "sdk-load": (Matcher("track", frozenset({"SDK Loaded"})), Matcher("page")),
    # Optimizely counts every decision, including a disabled flag (`Decision` is a track event,
    # whatever its `enabled` property says); page views alone (an empty snippet) do not count.
    "decisions-and-tracking": (Matcher("track"),),
    # Chatbots count conversations.
    "conversation": (Matcher("track", frozenset({"Message Sent", "Message Received"})),),
}


@dataclass(frozen=True)
class ActivityRule:
    """A project's activity rule: matchers plus URL, bot and internal-user exclusions.

    URL rules apply only to events that carry a page URL (``context.page.url``, else
    ``properties.url``): such an event must match an include pattern when any are given and no
    exclude pattern. Events without a URL — server-side calls — are not URL-filtered: this is the
    server-side form of Jimo's manual initialisation (the customer decides where to call). URL
    patterns are globs over the whole URL: ``*`` any run (``/`` included), ``?`` one character,
    the rest literal and case-sensitive.

    ``preset`` names where the matchers come from; a preset other than ``custom`` must carry
    exactly that preset's matchers, so the name never lies.
    """

    preset: str
    matchers: tuple[Matcher, ...]
    url_include: tuple[str, ...] = ()
    url_exclude: tuple[str, ...] = ()
    internal_user_ids: frozenset[str] = frozenset()
    internal_email_domains: frozenset[str] = frozenset()
    bot_user_agents: tuple[str, ...] = DEFAULT_BOT_PATTERNS
    exclude_bots: bool = True
    _bot_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        set_ = object.__setattr__
        if self.preset not in PRESET_NAMES:
            problems.append(Problem("preset", _preset_message(self.preset)))
        set_(self, "matchers", tuple(self.matchers))
        if self.preset == "custom" and not self.matchers:
            problems.append(Problem("matchers", "a custom rule needs at least one matcher"))
        elif self.preset in _PRESET_MATCHERS and self.matchers != _PRESET_MATCHERS[self.preset]:
            message = f"preset {self.preset} has its own matchers; use preset custom to give yours"
            problems.append(Problem("matchers", message))
        for name in ("url_include", "url_exclude", "bot_user_agents"):
            set_(self, name, tuple(_strings(getattr(self, name), name, problems)))
        ids = _strings(self.internal_user_ids, "internal_user_ids", problems)
        set_(self, "internal_user_ids", frozenset(ids))
        for i, pattern in enumerate(self.bot_user_agents):
            if message := portable_regex_problem(pattern):
                problems.append(Problem(f"bot_user_agents[{i}]", message))
        domains = _strings(self.internal_email_domains, "internal_email_domains", problems)
        for i, domain in enumerate(domains):
            if not _DOMAIN.fullmatch(domain.removeprefix("@")):
                message = f"expected a domain such as example.com, got {domain!r}"
                problems.append(Problem(f"internal_email_domains[{i}]", message))
        normalised = frozenset(d.removeprefix("@").lower() for d in domains)
        set_(self, "internal_email_domains", normalised)
        if not isinstance(self.exclude_bots, bool):
            problems.append(Problem("exclude_bots", "expected true or false"))
        if problems:
            raise InvalidInput(problems)
        set_(self, "_bot_re", None if self.bot_regex is None else re.compile(self.bot_regex))

    # -- the regexes both engines run (identical text, RE2-compatible) ------------------------

    @property
    def url_include_regex(self) -> str | None:
        """Full-match regex of the include globs, or None when there are none."""
        return "|".join(glob_to_regex(p) for p in self.url_include) or None

    @property
    def url_exclude_regex(self) -> str | None:
        return "|".join(glob_to_regex(p) for p in self.url_exclude) or None

    @property
    def bot_regex(self) -> str | None:
        """Search (not full-match) regex, ASCII-caseless; None when bots are not excluded."""
        if not self.exclude_bots or not self.bot_user_agents:
            return None
        return "(?s:" + "|".join(f"(?:{ascii_caseless(p)})" for p in self.bot_user_agents) + ")"

    @property
    def internal_email_regex(self) -> str | None:
        """Full-match regex: the part after the last ``@`` is a listed domain or a subdomain."""
        if not self.internal_email_domains:
            return None
        domains = sorted(self.internal_email_domains)
        alternatives = "|".join(ascii_caseless(re.escape(d)) for d in domains)
        return f"(?s:.*@(?:[^@]*\\.)?(?:{alternatives}))"

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self, event: Event) -> Verdict:
        """The verdict for one event: matchers, then URL, then bot (first failure wins).

        An ``admit`` (the SDK loading, through the admission gate) is activity under every
        rule; only the exclusions apply to it."""
        if event.type != ADMIT and not any(m.matches(event) for m in self.matchers):
            return Verdict.NOT_ACTIVITY
        url = event.page_url
        if url is not None and self.is_url_excluded(url):
            return Verdict.URL_EXCLUDED
        agent = event.user_agent
        if agent is not None and self.is_bot(agent):
            return Verdict.BOT
        return Verdict.QUALIFIES

    def is_url_excluded(self, url: str) -> bool:
        """The page URL fails the include globs (when any) or matches an exclude glob."""
        return bool(
            (self.url_include and not any(glob_match(g, url) for g in self.url_include))
            or any(glob_match(g, url) for g in self.url_exclude)
        )

    def is_bot(self, agent: str) -> bool:
        """A bot pattern occurs in the user agent's first ``MAX_USER_AGENT_CHARS`` characters
        (never, when bots are not excluded)."""
        bot = self._bot_re
        return bot is not None and bot.search(agent[:MAX_USER_AGENT_CHARS]) is not None

    def qualifies(self, event: Event) -> bool:
        return self.evaluate(event) is Verdict.QUALIFIES

    @property
    def has_internal_exclusions(self) -> bool:
        return bool(self.internal_user_ids or self.internal_email_domains)

    def is_internal_user_id(self, user_id: str) -> bool:
        return user_id in self.internal_user_ids

    def is_internal_email(self, email: str) -> bool:
        """Domain after the last ``@``, case-insensitive: a listed domain or a subdomain of one."""
        domain = email.rpartition("@")[2].translate(_ASCII_LOWER) if "@" in email else None
        return domain is not None and any(
            domain == d or domain.endswith("." + d) for d in self.internal_email_domains
        )

    # -- JSON ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The stored form; a preset's matchers are implied by its name and left out."""
        out: dict[str, Any] = {"preset": self.preset}
        if self.preset == "custom":
            out["matchers"] = [m.to_json() for m in self.matchers]
        out["url_include"] = list(self.url_include)
        out["url_exclude"] = list(self.url_exclude)
        out["internal_user_ids"] = sorted(self.internal_user_ids)
        out["internal_email_domains"] = sorted(self.internal_email_domains)
        out["bot_user_agents"] = list(self.bot_user_agents)
        out["exclude_bots"] = self.exclude_bots
        return out

    @classmethod
    def from_json(cls, obj: Any) -> ActivityRule:
        """A rule from its JSON form, or :class:`InvalidInput` listing every problem."""
        return _rule_from_json(obj)


PRESETS: Final[dict[str, ActivityRule]] = {
    name: ActivityRule(name, matchers) for name, matchers in _PRESET_MATCHERS.items()
}
DEFAULT_RULE: Final = PRESETS[DEFAULT_PRESET]


def preset(name: str) -> ActivityRule:
    """The preset rule called ``name`` (custom rules are given as JSON instead)."""
    if name == "custom":
        raise InvalidInput.field("preset", "a custom rule is given as JSON, with its matchers")
    if name not in PRESETS:
        raise InvalidInput.field("preset", _preset_message(name))
    return PRESETS[name]


def parse_rule_arg(preset_name: str | None, rule_json: str | None) -> ActivityRule:
    """The rule of the CLI's ``--activity PRESET`` / ``--activity-json RULE`` (default preset)."""
    if preset_name is not None and rule_json is not None:
        raise InvalidInput.field("activity", "give --activity or --activity-json, not both")
    if rule_json is not None:
        try:
            obj = json.loads(rule_json)
        except json.JSONDecodeError as exc:
            raise InvalidInput.field(
                "activity-json", f"not valid JSON: {exc.msg} (line {exc.lineno} col {exc.colno})"
            ) from None
        return ActivityRule.from_json(obj)
    if preset_name is None:
        return DEFAULT_RULE
    try:
        return preset(preset_name)
    except InvalidInput as exc:
        raise InvalidInput([Problem("activity", p.message) for p in exc.problems]) from None


def emails_of(event: Event) -> list[str]:
    """E-mail addresses an event reveals: ``traits.email`` and ``context.traits.email``."""
    found = [event.traits.get("email")]
    context_traits = event.context.get("traits")
    if isinstance(context_traits, Mapping):
        found.append(context_traits.get("email"))
    return [e for e in found if isinstance(e, str)]


def _preset_message(name: Any) -> str:
    return f"expected one of {', '.join(PRESET_NAMES)}, got {name!r}"


# -- JSON decoding that reports every problem ---------------------------------------------------

_RULE_KEYS: Final = tuple(f.name for f in dataclasses.fields(ActivityRule) if f.init)
_MATCHER_KEYS: Final = ("type", "events", "where")
_PREDICATE_KEYS: Final = ("key", "op", "value", "not")


def _prefixed(prefix: str, exc: InvalidInput) -> list[Problem]:
    return [Problem(f"{prefix}.{p.field}" if prefix else p.field, p.message) for p in exc.problems]


def _unknown_keys(obj: Mapping[str, Any], known: tuple[str, ...], at: str) -> list[Problem]:
    return [
        Problem(f"{at}.{key}" if at else str(key), f"unknown field; expected {', '.join(known)}")
        for key in obj
        if key not in known
    ]


def _predicate_from_json(obj: Any, at: str, problems: list[Problem]) -> Predicate | None:
    if not isinstance(obj, Mapping):
        problems.append(Problem(at, 'expected an object such as {"key": "plan", "op": "exists"}'))
        return None
    problems.extend(_unknown_keys(obj, _PREDICATE_KEYS, at))
    missing = [k for k in ("key", "op") if k not in obj]
    for key in missing:
        problems.append(Problem(f"{at}.{key}", "required"))
    op = obj.get("op")
    if op in ("equals", "in") and "value" not in obj:
        problems.append(Problem(f"{at}.value", f"required for op {op}"))
        return None
    if missing:
        return None
    try:
        return Predicate(obj["key"], op, obj.get("value"), obj.get("not", False))
    except InvalidInput as exc:
        problems.extend(_prefixed(at, exc))
        return None


def _matcher_from_json(obj: Any, at: str, problems: list[Problem]) -> Matcher | None:
    if not isinstance(obj, Mapping):
        problems.append(Problem(at, 'expected an object such as {"type": "track"}'))
        return None
    problems.extend(_unknown_keys(obj, _MATCHER_KEYS, at))
    before = len(problems)
    if "type" not in obj:
        problems.append(
            Problem(f"{at}.type", f"required; expected one of {', '.join(EVENT_TYPES)}")
        )
    where_raw = obj.get("where", [])
    where = []
    if not isinstance(where_raw, list):
        problems.append(Problem(f"{at}.where", "expected a list of predicates"))
    else:
        for i, p in enumerate(where_raw):
            predicate = _predicate_from_json(p, f"{at}.where[{i}]", problems)
            if predicate is not None:
                where.append(predicate)
    try:
        matcher = Matcher(obj.get("type"), obj.get("events"), tuple(where))  # type: ignore[arg-type]
    except InvalidInput as exc:
        known = {p.field for p in problems[before:]}
        problems.extend(p for p in _prefixed(at, exc) if not _covered(p.field, known))
        return None
    return matcher if len(problems) == before else None


def _rule_from_json(obj: Any) -> ActivityRule:
    if not isinstance(obj, Mapping):
        raise InvalidInput.field("rule", 'expected a JSON object such as {"preset": "sdk-load"}')
    problems = _unknown_keys(obj, _RULE_KEYS, "")
    preset_name = obj.get("preset")
    if preset_name is None:
        preset_name = "custom" if obj.get("matchers") is not None else DEFAULT_PRESET
    if preset_name not in PRESET_NAMES:
        problems.append(Problem("preset", _preset_message(preset_name)))
        preset_name = None
    matchers: list[Matcher] = []
    raw_matchers = obj.get("matchers")
    if raw_matchers is None:
        if preset_name == "custom":
            problems.append(Problem("matchers", "required for preset custom (a list of matchers)"))
        elif preset_name in _PRESET_MATCHERS:
            matchers = list(_PRESET_MATCHERS[preset_name])
    elif not isinstance(raw_matchers, list):
        problems.append(Problem("matchers", "expected a list of matchers"))
    else:
        for i, m in enumerate(raw_matchers):
            matcher = _matcher_from_json(m, f"matchers[{i}]", problems)
            if matcher is not None:
                matchers.append(matcher)
    fields = {k: obj[k] for k in _RULE_KEYS[2:] if k in obj}
    try:
        rule = ActivityRule(preset_name or "custom", tuple(matchers), **fields)
    except InvalidInput as exc:
        known = {p.field for p in problems}
        if preset_name is None:
            known.add("matchers")  # no point asking for matchers of an unknown preset
        problems.extend(p for p in exc.problems if not _covered(p.field, known))
    if problems:
        raise InvalidInput(problems)
    return rule


def _covered(field_name: str, known: set[str]) -> bool:
    """Whether a problem at ``field_name`` (or inside it) was already reported."""
    return any(k == field_name or k.startswith((f"{field_name}[", f"{field_name}.")) for k in known)
