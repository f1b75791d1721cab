"""Hostile bodies against the tracking endpoints of one real `maumeter serve`, sent as raw bytes.

Segment's ``/v1/batch``, ``/v1/track``, ``/v1/identify``, ``/v1/alias``, the admission gate
``/v1/admit`` and PostHog's ``/batch/`` and ``/capture/`` get: every kind of unicode (NUL, RTL
overrides, emoji, lone surrogates escaped as ``"\\ud800"`` and as raw CESU bytes), deep nesting,
huge numbers (``1e400``, ``10**400`` as an integer literal), ``NaN``/``Infinity`` literals, null
and empty ids, bad timestamps, the wrong type in every field, huge strings, gzip bombs, truncated
gzip, unknown ``Content-Encoding``, bodies just under and over 500 KB, events over 32 KB and
batches over 2,500 events.

Every answer must come within ``TIMEOUT`` and be below 500, and a request must change exactly
what its answer says (:class:`Ledger`): after a 4xx the org's usage (MAU and impressions of the
month) and its stored events are what they were; after a 200 the store holds exactly
``accepted`` more events (an admission: one, when admitted). The project's activity rule makes
every stored event qualify, so ``verify``'s recount of the raw log counts every stored event.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import os
import subprocess
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Server, cli, start

CI = bool(os.environ.get("CI"))
TIMEOUT = 10.0  # every answer, gzip bombs included, well within this
QUICK = 2.0  # what "refused quickly" means for a bomb
MAX_BODY = 500 * 1024  # Segment's limits, as documented (not imported from the code under test)
MAX_EVENT = 32 * 1024
MAX_BATCH = 2500
SEGMENT_TYPES = ("track", "page", "screen", "identify", "group", "alias")
# Every stored event qualifies: then the recount's impressions are the stored events.
EVERYTHING = {
    "preset": "custom",
    "matchers": [{"type": t} for t in SEGMENT_TYPES],
    "exclude_bots": False,
}
# Lone surrogates were a 500 on every endpoint (fixed in core/wire.py; pinned by
# test_lone_surrogates_are_refused); the generated text includes them again.
LONE_SURROGATES_ARE_A_500 = False

# Hypothesis warns when a falsifying example's repr is huge (a 500 KB body): noise here.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=CI,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# ---- the server and what it holds ---------------------------------------------------------------


@dataclass(frozen=True)
class State:
    mau: int
    impressions: int
    events: int


class ServerLog:
    """Drains the server's output (a full pipe would block it, and it would look hung), keeping
    the last lines to show with a failure."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: deque[str] = deque(maxlen=200)
        self.thread = threading.Thread(target=self._drain, args=(process,), daemon=True)
        self.thread.start()

    def _drain(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)

    def tail(self, n: int = 40) -> str:
        return "".join(list(self.lines)[-n:])


class Ledger:
    """The server, and what the org must hold: every request is checked against it.

    The store outlives each example, so a request that breaks it would make every later one fail
    too, and Hypothesis would report a shrunk example that has nothing to do with the cause: the
    first breakage is kept (``broken``) and named by every later failure.
    """

    def __init__(self, server: Server, log: ServerLog) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.url, timeout=TIMEOUT)
        self.log = log
        self.broken: str | None = None
        self.sent = 0
        self.took = 0.0  # seconds the last request took
        usage = self.client.get("/api/v1/orgs/acme/usage", headers=server.secret)
        assert usage.status_code == 200, usage.text
        self.month = usage.json()["month"]  # fixed: a month turning mid-run changes nothing
        self.expected = self.read()

    def read(self, cause: str = "the start") -> State:
        """The org's usage of the month and its stored events (the recount of its raw log)."""
        usage = self.client.get(
            "/api/v1/orgs/acme/usage", params={"month": self.month}, headers=self.server.secret
        )
        assert usage.status_code == 200, usage.text
        verify = self.client.post("/api/v1/orgs/acme/verify", headers=self.server.secret)
        assert verify.status_code == 200, verify.text
        for check in verify.json()["checks"]:
            # `live > reference` alone is the open bug test_same_value_as_user_and_anonymous_id
            # pins (xfail); anything else is the live counts drifting from the raw log.
            if (
                check["missing"]
                or check["extra"]
                or check["live_impressions"] != check["reference_impressions"]
                or check["live"] < check["reference"]
            ):
                self.broken = self.broken or f"verify {check} after {cause}"
                raise AssertionError(f"live counts differ from the raw log: {self.broken}")
        events = sum(
            c["reference_impressions"] for c in verify.json()["checks"] if c["project"] is None
        )
        return State(usage.json()["mau"], usage.json()["impressions"], events)

    def post(
        self,
        path: str,
        body: bytes | Iterator[bytes],
        headers: dict[str, str] | None = None,
        *,
        auth: bool = True,
        params: dict[str, str] | None = None,
        retried_admission: bool = False,
    ) -> httpx.Response:
        """POST raw bytes; check the time, the status and that the store changed as answered.

        An admission stores one event when admitted, none when its ``messageId`` repeats an
        earlier one's (``retried_admission``: the body names one)."""
        assert self.broken is None, f"the store was broken earlier: {self.broken}"
        sent = {"Content-Type": "application/json", **(headers or {})}
        if auth and path.startswith("/v1/"):
            token = base64.b64encode(f"{self.server.write_key}:".encode()).decode()
            sent.setdefault("Authorization", f"Basic {token}")
        shown = body[:300] if isinstance(body, bytes) else b"<streamed>"
        what = f"POST {path} {params or ''} {sent} body[:300]={shown!r}"
        started = time.monotonic()
        try:
            response = self.client.post(path, content=body, headers=sent, params=params)
        except httpx.TimeoutException as exc:
            raise AssertionError(f"no answer within {TIMEOUT} s: {what}") from exc
        self.took = time.monotonic() - started
        self.sent += 1
        if response.status_code >= 500:
            # uvicorn drops the connection after an unhandled error without saying so
            # (no `Connection: close`): read the state over a new one.
            self.client.close()
            self.client = httpx.Client(base_url=self.server.url, timeout=TIMEOUT)
        what += f" -> {response.status_code} {response.text[:300]}"
        after = self.read(what)
        before, self.expected = self.expected, after  # in step, whatever is asserted below
        assert self.took < TIMEOUT, f"{self.took:.1f} s for {what}"
        if response.status_code >= 400:
            assert after == before, f"changed {before} to {after}: {what}"
        assert response.status_code < 500, f"{what}\nserver log:\n{self.log.tail()}"
        if response.status_code >= 400:
            return response
        answer = response.json()
        stored = after.events - before.events
        if path == "/v1/admit":
            allowed = {0, 1} if retried_admission else {1}
            assert stored in (allowed if answer["admitted"] else {0}), (before, after, what)
        else:
            assert stored == answer["accepted"], (before, after, what)
        if stored == 0:
            assert after == before, (before, after, what)
        return response


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    db = tmp_path_factory.mktemp("fuzz-hostile") / "hostile.duckdb"
    org = cli(db, "org", "create", "acme", "--json")
    assert org.returncode == 0, org.stderr
    rule = json.dumps(EVERYTHING)
    created = cli(db, "project", "create", "acme", "web", "--activity-json", rule, "--json")
    assert created.returncode == 0, created.stderr
    process, url = start(db, "--no-demo")
    server = Server(
        url,
        db,
        process,
        json.loads(created.stdout)["write_key"],
        json.loads(org.stdout)["secret_key"],
    )
    log = ServerLog(process)
    try:
        ledger = Ledger(server, log)
        try:
            yield ledger
        finally:
            ledger.client.close()
    finally:
        server.stop()


# ---- raw JSON: what json.dumps cannot write -----------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text written as is: ``1e400``, ``NaN``, a 400-digit integer, deep nesting."""

    text: str


def dump(value: Any, ascii_only: bool) -> str:
    """``value`` as JSON text; :class:`Raw` leaves verbatim. Lone surrogates come out escaped
    (``"\\ud800"``) when ``ascii_only``, else as themselves (raw CESU bytes once encoded)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{dump(k, ascii_only)}:{dump(v, ascii_only)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(dump(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def encode(value: Any, ascii_only: bool = True) -> bytes:
    return dump(value, ascii_only).encode("utf-8", "surrogatepass")


# ---- strategies ---------------------------------------------------------------------------------

SPECIAL_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # RTL override
    "\u200f\u05e9\u05dc\u05d5\u05dd",  # RTL mark, Hebrew
    "\u0645\u0631\u062d\u0628\u0627",  # Arabic
    "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # ZWJ family emoji
    "\U0001f4a9",
    "e\u0301\u0301\u0301",  # combining marks
    "\ufeff",  # BOM
    "\uffff\ufffe",  # noncharacters
    "\U0010ffff",
    "\u2028\u2029",  # JS line separators
    "\\",
    '"',
    "null",
    "undefined",
    "../../etc/passwd",
    "'; DROP TABLE events; --",
    "%00%ff",
    "$pageview",
    "x" * 255,
    "x" * 256,
    "y" * 5000,
]
LONE_SURROGATES = ["\ud800", "\udfff", "a\ud83d", "\udc00b"]


@functools.cache
def texts() -> st.SearchStrategy[str]:
    categories = ["L", "M", "N", "P", "S", "Z", "C"]
    if LONE_SURROGATES_ARE_A_500:
        categories.remove("C")
        chars = st.characters(categories=categories) | st.characters(categories=["Cc", "Cf", "Co"])
        special = SPECIAL_TEXT
    else:
        chars = st.characters(categories=categories)
        special = SPECIAL_TEXT + LONE_SURROGATES
    return st.sampled_from(special) | st.text(chars, max_size=40)


HUGE_NUMBERS = [
    Raw("1e400"),  # a float: inf once parsed
    Raw("-1e400"),
    Raw("1e-400"),
    Raw("1" + "0" * 400),  # 10**400 as an integer literal
    Raw("-" + "9" * 400),
    Raw("0." + "0" * 1000 + "1"),
    Raw("-0"),
    Raw("1E+2"),
    2**63,
    -(2**63) - 1,
    2**64,
]


def deep(kind: str, depth: int) -> Raw:
    if kind == "list":
        return Raw("[" * depth + "1" + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


# Not JSON, or past what any parser should take: anywhere in a body, the whole body is a 400.
POISON = [
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("undefined"),
    Raw("01"),
    Raw("+1"),
    Raw("'single'"),
    Raw("1" + "0" * 5000),  # past Python's int-string limit
    deep("list", 100_000),
    deep("object", 20_000),
]


@functools.cache
def poisons() -> st.SearchStrategy[Raw | None]:
    """Mostly nothing; else one value that makes the whole body unreadable."""
    return st.sampled_from([None] * len(POISON) * 3 + POISON)


def poisoned(payload: Any, poison: Raw | None) -> Any:
    if poison is None:
        return payload
    if isinstance(payload, dict):
        return {**payload, "properties": {"poison": poison}}
    return {"poison": poison, "payload": payload}


@functools.cache
def numbers() -> st.SearchStrategy[Any]:
    return (
        st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.sampled_from(HUGE_NUMBERS)
    )


@functools.cache
def nested() -> st.SearchStrategy[Raw]:
    """Arrays or objects nested deep, short of the parser's limit."""
    depth = st.integers(1, 60) | st.sampled_from([500, 900])
    return st.builds(deep, st.sampled_from(["list", "object"]), depth)


@functools.cache
def values() -> st.SearchStrategy[Any]:
    """Any JSON value, hostile or not."""
    leaves = texts() | numbers() | st.booleans() | st.none() | nested()
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts(), inner, max_size=4),
        max_leaves=12,
    )


@functools.cache
def objects() -> st.SearchStrategy[Any]:
    """Mostly JSON objects (what properties, traits and context should be), else anything."""
    return st.dictionaries(texts(), values(), max_size=5) | values()


POOL = [f"user-{i}" for i in range(6)] + [f"anon-{i}" for i in range(4)]


@functools.cache
def ids() -> st.SearchStrategy[Any]:
    """Ids: a few real ones (so persons merge and messages repeat), then everything else."""
    return st.sampled_from(POOL) | st.integers(-5, 10**30) | values()


@functools.cache
def timestamps() -> st.SearchStrategy[Any]:
    good = st.datetimes().map(lambda d: d.isoformat() + "Z")
    bad = st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2024-02-30T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "2016-12-31T23:59:60Z",
            "2024-01-01T00:00:00+99:00",
            "2024-01-01",
            "yesterday",
            "",
            "T",
            "1700000000000",
        ]
    )
    return good | bad | numbers() | values()


@functools.cache
def events(types: tuple[str, ...] = SEGMENT_TYPES) -> st.SearchStrategy[dict[str, Any]]:
    """A valid event, then (mostly) one to three of its fields replaced by something hostile."""
    valid = st.builds(
        lambda t, user, anon, name: {
            "type": t,
            "userId": user,
            "anonymousId": anon,
            "previousId": anon,
            "event": name,
            "name": name,
            "groupId": "g-1",
            "properties": {"plan": "pro"},
            "context": {"library": {"name": "fuzz"}},
        },
        st.sampled_from(types),
        st.sampled_from(POOL[:6]),
        st.sampled_from(POOL[6:]),
        st.sampled_from(["Signed Up", "Logged In"]),
    )
    hostile = {
        "type": st.sampled_from(["", "TRACK", "admit", "unknown", *SEGMENT_TYPES]) | values(),
        "userId": ids(),
        "anonymousId": ids(),
        "previousId": ids(),
        "groupId": ids(),
        "messageId": ids(),
        "event": texts() | values(),
        "name": texts() | values(),
        "timestamp": timestamps(),
        "sentAt": timestamps(),
        "originalTimestamp": timestamps(),
        "receivedAt": timestamps(),
        "properties": objects(),
        "traits": objects(),
        "context": objects(),
        "integrations": objects(),
        "writeKey": values(),
    }
    keys = sorted(hostile)
    changes = st.lists(st.sampled_from(keys), max_size=3, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({k: hostile[k] for k in chosen})
    )
    dropped = st.lists(st.sampled_from(["type", "userId", "anonymousId", "event"]), max_size=2)
    extra = st.dictionaries(texts(), values(), max_size=2)

    def make(base: dict[str, Any], change: dict[str, Any], drop: list[str], more: dict) -> Any:
        record = {**more, **base, **change}
        for key in drop:
            record.pop(key, None)
        return record

    return st.builds(make, valid, changes, dropped, extra)


@functools.cache
def posthog_events() -> st.SearchStrategy[Any]:
    valid = st.builds(
        lambda name, who: {
            "event": name,
            "distinct_id": who,
            "properties": {"$current_url": "https://x.test/", "$lib": "fuzz"},
        },
        st.sampled_from(["$pageview", "$screen", "$identify", "clicked", "$create_alias"]),
        st.sampled_from(POOL),
    )
    hostile = {
        "event": st.sampled_from(["$pageview", "$set", "$groupidentify", ""]) | texts() | values(),
        "distinct_id": ids(),
        "uuid": ids(),
        "timestamp": timestamps(),
        "sent_at": timestamps(),
        "properties": objects(),
        "$set": objects(),
        "$set_once": objects(),
        "api_key": values(),
        "token": values(),
    }
    keys = sorted(hostile)
    changes = st.lists(st.sampled_from(keys), max_size=3, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({k: hostile[k] for k in chosen})
    )
    return st.builds(lambda base, change: {**base, **change}, valid, changes) | values()


@functools.cache
def encodings() -> st.SearchStrategy[str]:
    """Mostly plain; otherwise gzip (with and without a header), deflate, and unknown."""
    return st.sampled_from(["identity"] * 6 + ["gzip", "gzip-no-header", "deflate", "br", "zstd"])


def packed(body: bytes, how: str) -> tuple[bytes, dict[str, str]]:
    if how == "gzip":
        return gzip.compress(body), {"Content-Encoding": "gzip"}
    if how == "gzip-no-header":
        return gzip.compress(body), {}
    if how == "deflate":
        return zlib.compress(body), {"Content-Encoding": "deflate"}
    if how in ("br", "zstd"):
        return body, {"Content-Encoding": how}
    return body, {}


# ---- fuzzing ------------------------------------------------------------------------------------


def check(response: httpx.Response, how: str, poison: Raw | None) -> None:
    """What the encoding or a poisoned body imposes (a body too large is a 413 first)."""
    if how in ("br", "zstd"):
        assert response.status_code in (413, 415), response.text
    elif poison is not None:
        assert response.status_code in (400, 413), response.text


@FUZZ
@given(
    records=st.lists(events(), max_size=8),
    context=st.none() | objects(),
    top=st.dictionaries(st.sampled_from(["integrations", "writeKey", "sentAt"]), values()),
    poison=poisons(),
    ascii_only=st.booleans(),
    how=encodings(),
)
def test_batch(
    ledger: Ledger,
    records: list[Any],
    context: Any,
    top: dict[str, Any],
    poison: Raw | None,
    ascii_only: bool,
    how: str,
) -> None:
    payload: dict[str, Any] = {**top, "batch": records}
    if context is not None:
        payload["context"] = context
    body, headers = packed(encode(poisoned(payload, poison), ascii_only), how)
    check(ledger.post("/v1/batch", body, headers), how, poison)


@FUZZ
@given(
    data=st.data(),
    path=st.sampled_from(["/v1/track", "/v1/identify", "/v1/alias"]),
    key_in_body=st.booleans(),
    poison=poisons(),
    ascii_only=st.booleans(),
    how=encodings(),
)
def test_single_events(
    ledger: Ledger,
    data: st.DataObject,
    path: str,
    key_in_body: bool,
    poison: Raw | None,
    ascii_only: bool,
    how: str,
) -> None:
    kind = path.rsplit("/", 1)[1]
    record = data.draw(events((kind,)) | values(), label="record")
    if key_in_body and isinstance(record, dict):
        record = {**record, "writeKey": ledger.server.write_key}
    body, headers = packed(encode(poisoned(record, poison), ascii_only), how)
    check(ledger.post(path, body, headers, auth=not key_in_body), how, poison)


@FUZZ
@given(
    who=st.sampled_from(["userId", "anonymousId"]),
    value=ids(),
    extra=st.dictionaries(st.sampled_from(["context", "messageId", "type", "traits"]), values()),
    poison=poisons(),
    ascii_only=st.booleans(),
    how=encodings(),
)
def test_admission(
    ledger: Ledger,
    who: str,
    value: Any,
    extra: dict[str, Any],
    poison: Raw | None,
    ascii_only: bool,
    how: str,
) -> None:
    payload = poisoned({who: value, **extra}, poison)
    body, headers = packed(encode(payload, ascii_only), how)
    response = ledger.post("/v1/admit", body, headers, retried_admission="messageId" in extra)
    check(response, how, poison)


@FUZZ
@given(
    path=st.sampled_from(["/batch/", "/capture/"]),
    items=st.lists(posthog_events(), max_size=6),
    shape=st.sampled_from(["batch", "array", "single"]),
    key=st.sampled_from(["body", "event", "header", "none"]),
    poison=poisons(),
    ascii_only=st.booleans(),
    how=encodings(),
)
def test_posthog(
    ledger: Ledger,
    path: str,
    items: list[Any],
    shape: str,
    key: str,
    poison: Raw | None,
    ascii_only: bool,
    how: str,
) -> None:
    write_key = ledger.server.write_key
    if key == "event":
        items = [{**i, "api_key": write_key} if isinstance(i, dict) else i for i in items]
    payload: Any
    if shape == "batch":
        payload = {"batch": items, **({"api_key": write_key} if key == "body" else {})}
    elif shape == "array":
        payload = items
    else:
        payload = items[0] if items else {}
        if key == "body" and isinstance(payload, dict):
            payload = {**payload, "api_key": write_key}
    body, headers = packed(encode(poisoned(payload, poison), ascii_only), how)
    if key == "header":
        headers["Authorization"] = f"Bearer {write_key}"
    check(ledger.post(path, body, headers), how, poison)


@FUZZ
@given(
    path=st.sampled_from(["/v1/batch", "/v1/track", "/v1/admit", "/batch/", "/capture/"]),
    body=st.binary(max_size=300)
    | st.sampled_from([b"", b" ", b"\n\t", b"null", b"[]", b"{}", b'""', b"0", b"\xef\xbb\xbf{}"])
    | st.sampled_from([b"[" * 100_000, b"{" * 100_000, b'{"batch":' * 50_000])
    | st.sampled_from(
        [
            b"\xff\xfe{}",  # invalid UTF-8
            '{"userId":"u","event":"e"}'.encode("utf-16"),
            b'{"userId":"u","event":"e"}garbage',
            b'{"userId":"u","event":"e"',
            b'{"userId":"u","event":"e",}',
            b'{"userId":"u","userId":"v","event":"e"}',  # duplicate keys
        ]
    ),
    media=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
)
def test_garbage_bodies(ledger: Ledger, path: str, body: bytes, media: str) -> None:
    ledger.post(path, body, {"Content-Type": media})


@FUZZ
@given(
    authorization=st.sampled_from(
        [
            "",
            "Basic",
            "Basic !!!",
            "Basic " + base64.b64encode(b"\xff\xfe:").decode(),
            "Basic " + base64.b64encode(b"wk_nope:").decode(),
            "Bearer",
            "Bearer sk_not_a_key",
            "Token x",
            "x" * 8000,
        ]
    )
    | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60),
    path=st.sampled_from(["/v1/batch", "/v1/track", "/v1/admit"]),
)
def test_bad_credentials_change_nothing(ledger: Ledger, authorization: str, path: str) -> None:
    event = {"type": "track", "userId": "user-0", "event": "e"}
    body = encode({"batch": [event]} if path == "/v1/batch" else event)
    response = ledger.post(path, body, {"Authorization": authorization})
    assert response.status_code in (400, 401, 403, 431), response.text


# ---- limits, one by one -------------------------------------------------------------------------


def padded_event(size: int, user: str = "user-1") -> dict[str, Any]:
    """A track event whose compact JSON is exactly ``size`` bytes."""
    event: dict[str, Any] = {
        "type": "track",
        "userId": user,
        "event": "Padded",
        "properties": {"pad": ""},
    }
    short = len(json.dumps(event, separators=(",", ":")))
    event["properties"]["pad"] = "p" * (size - short)
    assert len(json.dumps(event, separators=(",", ":"))) == size
    return event


def batch_of_size(size: int, events: int = 10) -> bytes:
    """A valid batch of ``events`` small events, padded with JSON whitespace to ``size`` bytes."""
    body = json.dumps({"batch": [padded_event(200, f"user-{i % 6}") for i in range(events)]})
    assert len(body) <= size
    return body.encode() + b" " * (size - len(body))


@functools.cache
def bomb(how: str) -> tuple[bytes, dict[str, str]]:
    """20 MB of JSON (a batch of whitespace) in about 20 KB."""
    body, headers = packed(b'{"batch":[' + b" " * (20 * 1024 * 1024) + b"]}", how)
    assert len(body) < 64 * 1024
    return body, headers


@pytest.mark.parametrize("how", ["gzip", "gzip-no-header", "deflate"])
@pytest.mark.parametrize("path", ["/v1/batch", "/v1/track", "/v1/admit", "/batch/", "/capture/"])
def test_compression_bombs_are_refused_quickly(ledger: Ledger, path: str, how: str) -> None:
    response = ledger.post(path, *bomb(how))
    assert response.status_code == 413, response.text
    assert ledger.took < QUICK, f"{ledger.took:.2f} s to refuse a bomb"


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/track", "/v1/admit", "/batch/", "/capture/"])
def test_truncated_and_corrupt_gzip(ledger: Ledger, path: str) -> None:
    whole = gzip.compress(json.dumps({"userId": "user-2", "event": "e", "batch": []}).encode())
    for body in (whole[:-4], whole[:10], whole[:2], whole[:-20] + b"\x00" * 20):
        response = ledger.post(path, body, {"Content-Encoding": "gzip"})
        assert response.status_code == 400, response.text
    response = ledger.post(path, b'{"batch":[]}', {"Content-Encoding": "gzip"})
    assert response.status_code == 400, response.text  # says gzip, is not


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br", "x-unknown", "lz64"])
@pytest.mark.parametrize("path", ["/v1/batch", "/v1/track", "/v1/admit", "/batch/", "/capture/"])
def test_unknown_content_encoding(ledger: Ledger, path: str, encoding: str) -> None:
    event = {"type": "track", "userId": "user-3", "event": "e"}
    response = ledger.post(path, encode(event), {"Content-Encoding": encoding})
    assert response.status_code == 415, response.text


def test_posthog_unknown_compression(ledger: Ledger) -> None:
    body = encode({"api_key": ledger.server.write_key, "event": "e", "distinct_id": "user-3"})
    for compression in ("lz64", "br", "x"):
        response = ledger.post("/batch/", body, params={"compression": compression})
        assert response.status_code == 415, response.text


@pytest.mark.parametrize("how", ["identity", "gzip", "chunked"])
def test_body_just_under_and_over_500_kb(ledger: Ledger, how: str) -> None:
    def send(body: bytes) -> httpx.Response:
        if how == "chunked":  # no Content-Length: the limit holds while streaming
            chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
            return ledger.post("/v1/batch", iter(chunks))
        return ledger.post("/v1/batch", *packed(body, how))

    response = send(batch_of_size(MAX_BODY))
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] + response.json()["duplicates"] == 10
    response = send(batch_of_size(MAX_BODY + 1))
    assert response.status_code == 413, response.text


def test_events_over_32_kb_are_rejected_one_by_one(ledger: Ledger) -> None:
    batch = [
        padded_event(300, "user-4"),
        padded_event(MAX_EVENT + 1, "user-4"),
        padded_event(MAX_EVENT, "user-5"),
        padded_event(200 * 1024, "user-5"),
        padded_event(300, "user-5"),
    ]
    response = ledger.post("/v1/batch", encode({"batch": batch}))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] + answer["duplicates"] == 3
    assert [r["index"] for r in answer["rejected"]] == [1, 3]
    for rejection in answer["rejected"]:
        assert "32768" in json.dumps(rejection), rejection
    # One event over 32 KB alone: nothing accepted, so a 400 that names it.
    response = ledger.post("/v1/track", encode(padded_event(MAX_EVENT + 1, "user-4")))
    assert response.status_code == 400, response.text
    assert response.json()["rejected"][0]["index"] == 0


@pytest.mark.parametrize("how", ["identity", "gzip"])
def test_more_than_2500_events(ledger: Ledger, how: str) -> None:
    small = {"type": "track", "userId": "user-0", "event": "e"}
    body = encode({"batch": [small] * (MAX_BATCH + 1)})
    response = ledger.post("/v1/batch", *packed(body, how))
    assert response.status_code == 413, response.text
    ph = encode({"api_key": ledger.server.write_key, "batch": [{"event": "e"}] * (MAX_BATCH + 1)})
    response = ledger.post("/batch/", *packed(ph, how))
    assert response.status_code == 413, response.text


def test_exactly_2500_events(ledger: Ledger) -> None:
    batch = [
        {"type": "track", "userId": f"user-{i % 6}", "event": "e", "messageId": f"m2500-{i}"}
        for i in range(MAX_BATCH)
    ]
    response = ledger.post("/v1/batch", encode({"batch": batch}))
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] + response.json()["duplicates"] == MAX_BATCH


# ---- open bugs ----------------------------------------------------------------------------------

SURROGATE_BODIES = {
    "/v1/batch": {"batch": [{"type": "track", "userId": "user-0", "event": "e\ud800"}]},
    "/v1/track": {"userId": "\ud800", "event": "e"},
    "/v1/identify": {"userId": "user-0", "traits": {"name": "\udfff"}},
    "/v1/alias": {"previousId": "anon-0", "userId": "user-0", "context": {"\ud800": 1}},
    "/v1/admit": {"userId": "\ud800"},
    "/batch/": {"batch": [{"event": "e", "distinct_id": "user-0", "properties": {"x": "\ud800"}}]},
    "/capture/": {"event": "e", "distinct_id": "\udc00"},
}


@pytest.mark.parametrize("path", sorted(SURROGATE_BODIES))
@pytest.mark.parametrize("escaped", [True, False], ids=["escaped", "cesu-bytes"])
def test_lone_surrogates_are_refused(ledger: Ledger, path: str, escaped: bool) -> None:
    """Escaped (``"\\ud800"``) or as raw CESU bytes (``ED A0 80``, which ``json.loads`` lets
    through), a lone surrogate must be a 400, not a 500."""
    payload = dict(SURROGATE_BODIES[path])
    if path in ("/batch/", "/capture/"):
        payload["api_key"] = ledger.server.write_key
    ledger.post(path, encode(payload, ascii_only=escaped))


def test_same_value_as_user_and_anonymous_id(ledger: Ledger) -> None:
    """Live, a userId and an anonymousId of the same value are two persons; the recount of
    ``verify`` keys persons by the bare value and finds one, so verify says "not equal" with
    nothing missing and nothing extra."""
    ledger.post("/v1/track", encode({"userId": "same-value", "event": "e"}))
    ledger.post("/v1/track", encode({"anonymousId": "same-value", "event": "e"}))
    found = ledger.client.post("/api/v1/orgs/acme/verify", headers=ledger.server.secret).json()
    assert found["equal"], found


@pytest.mark.parametrize("literal", ["1e400", "-1e400"])
def test_a_float_out_of_range_is_refused_like_infinity(ledger: Ledger, literal: str) -> None:
    """``NaN`` and ``Infinity`` are refused (core/wire.py: not JSON, they would poison every later
    JSON query over the stored payload), but ``1e400`` parses to ``inf`` and is stored as the
    text ``{"x":Infinity}``: the same poison by another spelling."""
    body = encode({"userId": "user-0", "event": "e", "properties": {"x": Raw(literal)}})
    response = ledger.post("/v1/track", body)
    assert response.status_code == 400, response.text


def test_the_run_was_checked(ledger: Ledger) -> None:
    """Last: the live counts still agree with the recount, and the ledger is in step."""
    assert ledger.read() == ledger.expected
