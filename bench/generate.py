"""Deterministic benchmark data generator of Segment-tracking-API-shaped events.

Model: ``n_persons`` persons with Zipf-distributed activity weights share exactly ``n_events``
events spread over ``months`` consecutive calendar months ending with ``end_month``. About 60 %
of persons are identified (anonymous events, then an ``identify`` linking anonymousId→userId,
then userId events; ~10 % add a second device, ~1 % also have an ``alias`` from an old user
id); the rest are anonymous-only (incl. ~1 % bots). Everything is vectorized with numpy/pyarrow
and derived from ``seed`` only (never from the clock), so identical arguments give
byte-identical files.

Flat Arrow schema (:data:`SCHEMA`): all columns are strings except ``properties.enabled``
(bool); ``timestamp`` is an ISO-8601 UTC *string* with milliseconds
(``2024-03-05T12:34:56.789Z``). JSONL output nests dotted columns and omits nulls.

Files (:func:`write_dataset`): ``events-{project}.parquet`` (zstd, ~1M-row row groups),
``events-{project}.jsonl`` (and optionally ``.csv``), each ordered by timestamp, plus
``manifest.json`` with counts and ground truth (distinct persons / ids, persons per month).

CLI: ``python -m bench.generate --events 1000000 --persons 100000 --months 6 --projects 3
--out DIR --seed 42``.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = [
    "COLUMNS",
    "DICT_SCHEMA",
    "SCHEMA",
    "generate_chunks",
    "jsonl_bytes",
    "main",
    "project_names",
    "write_dataset",
    "write_jsonl",
]

COLUMNS: tuple[str, ...] = (
    "type",
    "userId",
    "anonymousId",
    "previousId",
    "event",
    "name",
    "messageId",
    "timestamp",
    "properties.experiment_id",
    "properties.variation",
    "properties.flag_key",
    "properties.enabled",
    "properties.url",
    "traits.email",
    "traits.plan",
    "traits.country",
    "context.ip",
    "context.userAgent",
    "context.page.url",
    "context.library.name",
    "context.library.version",
)
SCHEMA: pa.Schema = pa.schema(
    [pa.field(c, pa.bool_() if c == "properties.enabled" else pa.string()) for c in COLUMNS]
)
_HIGH_CARD = ("userId", "anonymousId", "previousId", "messageId", "timestamp", "traits.email")
DICT_SCHEMA: pa.Schema = pa.schema(
    [
        f
        if f.name in (*_HIGH_CARD, "context.ip", "properties.enabled")
        else pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
        for f in SCHEMA
    ]
)

# ---------------------------------------------------------------------------------------------
# Vocabulary (value, weight).

_TRACK = (
    ("SDK Loaded", 14),
    ("Decision", 18),
    ("Message Sent", 8),
    ("Logged In", 7),
    ("Button Clicked", 16),
    ("Product Viewed", 12),
    ("Product Added", 5),
    ("Checkout Started", 3),
    ("Order Completed", 2),
    ("Signed Up", 1),
    ("Feature Used", 8),
    ("Search Performed", 6),
)
_DECISION = 1  # index of "Decision" in _TRACK
_PAGES = (
    ("Home", "/", 20),
    ("Landing", "/?utm_source=google&utm_medium=cpc&utm_campaign=brand", 8),
    ("Pricing", "/pricing", 9),
    ("Docs", "/docs/getting-started", 8),
    ("Dashboard", "/dashboard", 16),
    ("Settings", "/settings/profile", 4),
    ("Checkout", "/checkout", 3),
    ("Blog", "/blog/announcing-v2", 5),
    ("Login", "/login", 7),
    ("Signup", "/signup", 3),
    ("Search", "/search?q=running+shoes", 6),
    ("Product", "/products/sku-12345", 11),
)
_BASE_URL = "https://app.example.com"
_SCREENS = (
    ("Home", 25),
    ("Feed", 25),
    ("Profile", 10),
    ("Settings", 5),
    ("Cart", 8),
    ("Product Detail", 20),
    ("Onboarding", 7),
)
_N_EXP = 20
_FLAGS = (
    "new-checkout-flow",
    "dark-mode",
    "smart-search",
    "one-click-buy",
    "onboarding-v3",
    "ai-recommendations",
    "pricing-page-b",
    "fast-login",
    "social-share",
    "referral-banner",
    "inline-help",
    "push-optin-v2",
    "bulk-export",
    "sso-button",
    "compact-feed",
    "free-shipping-bar",
    "video-autoplay",
    "new-nav",
    "usage-alerts",
    "team-invites",
)
_VARIATIONS = (("control", 45), ("treatment", 45), ("variant_b", 10))
_PLANS = (("free", 55), ("pro", 25), ("team", 15), ("enterprise", 5))
_COUNTRIES = (
    ("US", 30),
    ("IN", 10),
    ("GB", 8),
    ("DE", 8),
    ("FR", 6),
    ("BR", 6),
    ("JP", 5),
    ("CA", 5),
    ("AU", 3),
    ("NL", 3),
    ("ES", 3),
    ("MX", 3),
    ("PL", 2),
    ("SE", 2),
    ("KR", 2),
    ("IT", 4),
)
_FIRST_NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "nina",
    "oscar",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "uma",
    "victor",
    "wendy",
]
_DOMAINS = (
    ("gmail.com", 40),
    ("outlook.com", 15),
    ("yahoo.com", 10),
    ("icloud.com", 10),
    ("proton.me", 5),
    ("acme.io", 10),
    ("example.org", 10),
)
# Browser UAs 0-5 (weights for device 1), mobile-app UAs 6-7, bots 8-10.
_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.67",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.6422.113 Mobile Safari/537.36",
    "ExampleApp/5.12.0 (com.example.app; build:5120; iOS 17.5.1) Alamofire/5.9.1",
    "ExampleApp/5.12.0 (Linux; U; Android 14; SM-S918B Build/UP1A.231005.007) okhttp/4.12.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
)
_UA_DEV1_W = (35, 20, 8, 7, 18, 12)
_UA_IOS_APP, _UA_ANDROID_APP, _UA_BOT0 = 6, 7, 8
_LIBS = (
    ("analytics.js", "next-1.70.0"),
    ("analytics-swift", "1.5.11"),
    ("analytics-kotlin", "1.15.0"),
    ("analytics-python", "2.3.2"),
    ("@segment/analytics-node", "2.1.0"),
)
# Diurnal UTC hour weights (global traffic, peak in EU afternoon / US morning).
_HOUR_W = (3, 2, 2, 2, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11, 11, 11, 10, 9, 8, 7, 6, 5, 4)

_BASE_PROJECTS = ("web", "mobile", "backend")
_KIND_WEB, _KIND_MOBILE, _KIND_BACKEND = 0, 1, 2

# Event types.
_TYPE_NAMES = ("track", "page", "screen", "identify", "alias", "group")
T_TRACK, T_PAGE, T_SCREEN, T_IDENTIFY, T_ALIAS, T_GROUP = range(6)
# Regular-event type mix per project kind (out of 1024): web is page-heavy, mobile uses
# screens, backend sends tracks. With the default 3 projects the overall mix is roughly
# 55 % track / 30 % page / 8 % screen / 6 % identify / <1 % alias, group.
_TYPE_W = {
    _KIND_WEB: ((T_TRACK, 347), (T_PAGE, 672), (T_GROUP, 5)),
    _KIND_MOBILE: ((T_TRACK, 740), (T_SCREEN, 279), (T_GROUP, 5)),
    _KIND_BACKEND: ((T_TRACK, 1014), (T_GROUP, 10)),
}

# Identity roles of an event (which ids it carries).
(
    R_ANON,  # anonymousId (device 1) only
    R_IDENT,  # identify: anonymousId (device 1) + userId
    R_USER,  # userId + anonymousId (device 1)
    R_USER_NOANON,  # userId only
    R_ANON2,  # anonymousId (device 2) only
    R_IDENT2,  # identify: anonymousId (device 2) + userId
    R_USER2,  # userId + anonymousId (device 2)
    R_USER2_NOANON,  # userId only (device 2)
    R_OLD,  # old userId only (before alias)
    R_ALIAS,  # alias: previousId = old userId, userId
) = range(10)
_HAS_UID = np.array([0, 1, 1, 1, 0, 1, 1, 1, 1, 1], dtype=bool)
_HAS_ANON = np.array([1, 1, 1, 0, 1, 1, 1, 0, 0, 0], dtype=bool)
_DEV2 = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 0], dtype=bool)

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000


def project_names(n: int) -> list[str]:
    """Project names: ``web``, ``mobile``, ``backend``, then ``project4``, ``project5``..."""
    return [_BASE_PROJECTS[i] if i < 3 else f"project{i + 1}" for i in range(n)]


def _project_weights(n: int) -> np.ndarray:
    w = np.array([(5.0, 3.0, 2.0)[i] if i < 3 else 1.0 for i in range(n)])
    return w / w.sum()


# ---------------------------------------------------------------------------------------------
# Small vectorized helpers.


def _lut(weights: Sequence[float], size: int) -> np.ndarray:
    """Lookup table of ``size`` entries mapping uniform ints in [0, size) to weighted indices."""
    w = np.asarray(weights, dtype=np.float64)
    counts = np.floor(w / w.sum() * size).astype(np.int64)
    counts[np.argmax(w)] += size - counts.sum()
    return np.repeat(np.arange(len(w), dtype=np.int16), counts)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer: a bijection on uint64 (distinct inputs give distinct outputs)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _u64_bytes(u: np.ndarray) -> np.ndarray:
    return u.astype(">u8").view(np.uint8).reshape(-1, 8)


_HEX2 = (_HEX[np.arange(256) >> 4] | (_HEX[np.arange(256) & 15].astype(np.uint16) << 8)).astype(
    "<u2"
)


def _hex(b: np.ndarray) -> np.ndarray:
    """(n, m) uint8 bytes -> (n, 2m) uint8 ASCII lowercase hex."""
    return _HEX2[b].view(np.uint8).reshape(b.shape[0], 2 * b.shape[1])


def _fixed_strings(mat: np.ndarray) -> pa.StringArray:
    """(n, w) uint8 ASCII matrix -> Arrow string array of n strings of width w (zero-copy)."""
    mat = np.ascontiguousarray(mat)
    n, w = mat.shape
    if n * w >= 2**31:
        raise ValueError("string column too large for one chunk; lower chunk_rows")
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat))


def _uuid_strings(unique: np.ndarray, r1: np.ndarray, r2: np.ndarray) -> pa.StringArray:
    """uuid4-formatted strings; 64 bits come from ``unique`` (so distinct inputs stay distinct),
    the remaining bits from the uint64 arrays ``r1``/``r2``."""
    h = _hex(np.concatenate([_u64_bytes(r1), _u64_bytes(r2)], axis=1))
    hu = _hex(_u64_bytes(unique))
    h[:, 0:12] = hu[:, 0:12]
    h[:, 20:24] = hu[:, 12:16]
    h[:, 12] = ord("4")
    h[:, 16] = np.frombuffer(b"89ab", dtype=np.uint8)[r2.astype(np.uint8) & 3]
    out = np.empty((h.shape[0], 36), dtype=np.uint8)
    out[:, [8, 13, 18, 23]] = ord("-")
    out[:, 0:8] = h[:, 0:8]
    out[:, 9:13] = h[:, 8:12]
    out[:, 14:18] = h[:, 12:16]
    out[:, 19:23] = h[:, 16:20]
    out[:, 24:36] = h[:, 20:32]
    return _fixed_strings(out)


_D2 = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)
_D3 = np.array([[48 + i // 100, 48 + i // 10 % 10, 48 + i % 10] for i in range(1000)], np.uint8)


def _iso_timestamps(ts_ms: np.ndarray) -> pa.StringArray:
    """Epoch milliseconds -> ``YYYY-MM-DDTHH:MM:SS.mmmZ`` strings (vectorized)."""
    n = len(ts_ms)
    out = np.empty((n, 24), dtype=np.uint8)
    if n == 0:
        return _fixed_strings(out)
    days = ts_ms // _DAY_MS
    msd = ts_ms - days * _DAY_MS
    d0 = int(days.min())
    span = np.arange(d0, int(days.max()) + 1).astype("datetime64[D]")
    prefix = np.char.add(np.datetime_as_string(span, unit="D"), "T").astype("S11")
    out[:, 0:11] = prefix.view(np.uint8).reshape(-1, 11)[days - d0]
    out[:, 11:13] = _D2[msd // _HOUR_MS]
    out[:, [13, 16]] = ord(":")
    out[:, 14:16] = _D2[msd // 60_000 % 60]
    out[:, 17:19] = _D2[msd // 1000 % 60]
    out[:, 19] = ord(".")
    out[:, 20:23] = _D3[msd % 1000]
    out[:, 23] = ord("Z")
    return _fixed_strings(out)


def _strings(values: Sequence[str]) -> pa.StringArray:
    return pa.array(list(values), type=pa.string())


def _take(table: pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``table[idx]`` with nulls where ``valid`` is False."""
    ind = pa.array(idx.astype(np.int64, copy=False), mask=None if valid is None else ~valid)
    return table.take(ind)


def _months(end_month: str, months: int) -> np.ndarray:
    end = np.datetime64(end_month, "M")
    return np.arange(end - (months - 1), end + 2)  # months + 1 boundaries


# ---------------------------------------------------------------------------------------------
# Plan: all per-event numeric attributes (person-major), plus per-person id tables.


@dataclass
class _Plan:
    n_events: int
    n_persons: int
    month_labels: list[str]
    month_start_ms: np.ndarray  # months + 1 boundaries, epoch ms
    projects: list[str]
    counts: np.ndarray  # events per person
    person: np.ndarray  # int32, per event (person-major order)
    ts: np.ndarray  # int64 epoch ms
    role: np.ndarray  # int8 identity role
    etype: np.ndarray  # int8 event type
    proj: np.ndarray  # int8 project index
    r32: np.ndarray  # uint32 random bits for cosmetic attributes
    order: np.ndarray  # int64 event indices in output order (project, timestamp)
    bounds: np.ndarray  # project p occupies order[bounds[p]:bounds[p + 1]]
    msg_keys: np.ndarray  # uint64[3] keys for messageId derivation
    p_ident: np.ndarray
    p_bot: np.ndarray
    p_alias: np.ndarray
    p_dev2: np.ndarray
    p_ios: np.ndarray
    p_pylib: np.ndarray
    p_ua1: np.ndarray
    p_ua2: np.ndarray
    p_plan: np.ndarray
    p_country: np.ndarray
    user_tab: pa.Array  # [userId (N), old userId (N)]
    anon_tab: pa.Array  # [anonymousId device 1 (N), device 2 (N)]
    ip_tab: pa.Array  # [ip device 1 (N), device 2 (N)]
    old_tab: pa.Array  # old userId (N)
    email_tab: pa.Array  # (N)


def _person_ids(
    g: np.random.Generator, n: int, keys: np.ndarray, p_bot: np.ndarray
) -> dict[str, pa.Array]:
    """Per-person id strings (unique by construction) and IPs/emails."""
    base = np.arange(n, dtype=np.uint64)
    # userId: "u_" + 16 hex | "usr_" + 24 hex | "user-" + 31 hex (18 / 28 / 36 chars).
    uhex = np.concatenate(
        [_hex(_u64_bytes(_mix64(base + keys[0]))), _hex(g.integers(0, 256, (n, 8), np.uint8))],
        axis=1,
    )
    hx = _fixed_strings(uhex)
    fmt = _lut((60, 25, 15), 16)[g.integers(0, 16, n)]
    variants = pa.concat_arrays(
        [
            pc.binary_join_element_wise("u_", pc.utf8_slice_codeunits(hx, 0, 16), ""),
            pc.binary_join_element_wise("usr_", pc.utf8_slice_codeunits(hx, 0, 24), ""),
            pc.binary_join_element_wise("user-", pc.utf8_slice_codeunits(hx, 0, 31), ""),
        ]
    )
    uid = variants.take(pa.array(np.arange(n, dtype=np.int64) + n * fmt.astype(np.int64)))
    old = pc.binary_join_element_wise(
        "old_", _fixed_strings(_hex(_u64_bytes(_mix64(base + keys[1])))), ""
    )
    base2 = np.arange(2 * n, dtype=np.uint64)
    r = g.integers(0, 2**63, (2, 2 * n), dtype=np.int64).astype(np.uint64)
    anon = _uuid_strings(_mix64(base2 + keys[2]), r[0], r[1])
    first = _strings(_FIRST_NAMES).take(pa.array(g.integers(0, len(_FIRST_NAMES), n)))
    dom_lut = _lut([w for _, w in _DOMAINS], 256)
    dom = _strings([d for d, _ in _DOMAINS]).take(pa.array(dom_lut[g.integers(0, 256, n)]))
    email = pc.binary_join_element_wise(
        first, ".", pc.utf8_slice_codeunits(hx, 16, 22), "@", dom, ""
    )
    # IPs: device 1 (home/office), device 2 (mobile carrier); bots crawl from 66.249.x.x.
    firsts = np.array([24, 31, 45, 62, 73, 81, 89, 98, 104, 109, 152, 176, 185, 203, 212, 217])
    oct1 = np.concatenate(
        [np.where(p_bot, 66, firsts[g.integers(0, 16, n)]), firsts[g.integers(0, 16, n)]]
    )
    oct2 = np.where(np.concatenate([p_bot, np.zeros(n, bool)]), 249, g.integers(0, 256, 2 * n))
    parts = [oct1, oct2, g.integers(0, 256, 2 * n), g.integers(1, 255, 2 * n)]
    ip = pc.binary_join_element_wise(*[pc.cast(pa.array(o), pa.string()) for o in parts], ".")
    return {
        "user": pa.concat_arrays([uid, old]),
        "old": old,
        "anon": anon,
        "email": email,
        "ip": ip,
    }


def _build_plan(
    n_events: int, n_persons: int, months: int, projects: int, seed: int, end_month: str
) -> _Plan:
    if n_events < 0 or n_persons < 1 or months < 1 or not 1 <= projects <= 100:
        raise ValueError("need n_events >= 0, n_persons >= 1, months >= 1, 1 <= projects <= 100")
    n, N, M, P = n_events, n_persons, months, projects
    ss = np.random.SeedSequence(seed)
    gp, ge, gi = (np.random.default_rng(s) for s in ss.spawn(3))
    keys = ss.generate_state(6, dtype=np.uint64)

    # --- persons: activity weights, exact event counts --------------------------------------
    w = np.minimum(gp.zipf(1.8, N), 1000).astype(np.float64)
    pv = w / w.sum()
    k = (1 + gp.multinomial(n - N, pv)) if n >= N else gp.multinomial(n, pv)
    k = k.astype(np.int64)
    assert int(k.sum()) == n

    ident = gp.random(N) < 0.6
    bot = ~ident & (gp.random(N) < 0.025)
    big = ident & (k >= 4)
    alias = big & (gp.random(N) < min(1.0, 0.01 * ident.sum() / max(1, big.sum())))
    n_old = np.where(alias, np.minimum(gp.geometric(0.5, N), k - 3), 0)
    offset = np.where(alias, n_old + 1, 0)
    pre = np.minimum(gp.geometric(0.35, N), k - offset - 1)
    id_rank = np.where(ident, offset + pre, n)  # rank of the identify event
    post = k - id_rank - 1
    elig = ident & (post >= 2)
    dev2 = elig & (gp.random(N) < min(1.0, 0.10 * ident.sum() / max(1, elig.sum())))

    pw = _project_weights(P)
    pm = np.where(bot, 0, gp.choice(P, N, p=pw)).astype(np.int8)
    sec = ((pm + 1 + gp.integers(0, max(P - 1, 1), N)) % P).astype(np.int8)
    multi = (gp.random(N) < 0.25) & ~bot & (P > 1)

    ua1 = _lut(_UA_DEV1_W, 256)[gp.integers(0, 256, N)].astype(np.int8)
    ua1 = np.where(bot, _UA_BOT0 + _lut((80, 15, 5), 64)[gp.integers(0, 64, N)], ua1)
    ua2 = np.where(gp.random(N) < 0.55, 4, 5).astype(np.int8)
    ios = gp.random(N) < 0.45
    pylib = gp.random(N) < 0.5
    plan = _lut([x for _, x in _PLANS], 256)[gp.integers(0, 256, N)]
    country = _lut([x for _, x in _COUNTRIES], 256)[gp.integers(0, 256, N)]

    # Active months: a contiguous window, longer for heavier persons.
    lmax = np.maximum(np.minimum(M, k), 1)
    q = np.clip(0.2 + 0.1 * np.log2(np.maximum(k, 1)), 0.2, 0.95)
    length = 1 + gp.binomial(lmax - 1, q)
    # Window [s, s + length) clipped to the range, s uniform in [1 - length, M): every month
    # is equally likely covered (persons may start before / continue after the range).
    start_m = gp.integers(1 - length, M)
    length = np.minimum(start_m + length, M) - np.maximum(start_m, 0)
    start_m = np.maximum(start_m, 0)
    mdays = _months(end_month, M).astype("datetime64[D]").astype(np.int64)
    d_lo, d_span = mdays[start_m], mdays[start_m + length] - mdays[start_m]

    # --- events (person-major) ----------------------------------------------------------------
    person = np.repeat(np.arange(N, dtype=np.int32), k)
    u = ge.random(n)
    day = np.repeat(d_lo, k) + (u * np.repeat(d_span, k)).astype(np.int64)
    weekend = ((day + 3) % 7 >= 5) & (ge.random(n) < 0.35)  # thin weekends by redrawing
    day[weekend] = np.repeat(d_lo, k)[weekend] + (
        ge.random(int(weekend.sum())) * np.repeat(d_span, k)[weekend]
    ).astype(np.int64)
    del u, weekend
    hour = _lut(_HOUR_W, 1024)[ge.integers(0, 1024, n)].astype(np.int64)
    t0 = int(mdays[0]) * _DAY_MS
    span = int(mdays[-1] - mdays[0]) * _DAY_MS
    if N * span >= 2**62:
        raise ValueError("too many persons x months")
    pkey = person.astype(np.int64) * span
    key = (day * _DAY_MS - t0) + hour * _HOUR_MS + ge.integers(0, _HOUR_MS, n) + pkey
    del day, hour
    key.sort()  # sorts each person's events by time (persons stay grouped)
    ts = key - pkey + t0
    del key, pkey

    first = np.cumsum(k) - k
    first_e = np.repeat(first, k)
    rank = np.arange(n, dtype=np.int64) - first_e
    r2 = ge.integers(0, 2**32, n, dtype=np.uint32)

    role = np.zeros(n, dtype=np.int8)  # R_ANON
    ident_e = ident[person]
    idr = id_rank[person]
    nold = n_old[person]
    role[ident_e & (rank < nold)] = R_OLD
    role[alias[person] & (rank == nold)] = R_ALIAS
    role[rank == idr] = R_IDENT
    postm = rank > idr
    role[postm] = R_USER
    del nold, ident_e

    # Second device: a subset of post-identify events (always incl. the last one).
    d2 = postm & dev2[person] & ((((r2 >> 10) & 15) < 6) | (rank == np.repeat(k, k) - 1))
    del postm, rank, idr
    cs = np.cumsum(d2, dtype=np.int64)
    cs_before = np.concatenate([[0], cs])[first]
    n_d2 = np.bincount(person[d2], minlength=N)
    pre2 = np.minimum(gp.geometric(0.4, N), n_d2 - 1)
    d2rank = cs - 1 - cs_before[person]
    pre2_e = pre2[person]
    role[d2 & (d2rank < pre2_e)] = R_ANON2
    role[d2 & (d2rank == pre2_e)] = R_IDENT2
    role[d2 & (d2rank > pre2_e)] = R_USER2
    del cs, d2rank, pre2_e, d2, first_e

    proj = np.where(multi[person] & (((r2 >> 18) & 15) < 5), sec[person], pm[person])
    proj = proj.astype(np.int8)
    kinds = np.arange(P, dtype=np.int8) % 3
    backend_e = kinds[proj] == _KIND_BACKEND
    drop_anon = (((r2 >> 14) & 15) >= 13) | backend_e
    role[(role == R_USER) & drop_anon] = R_USER_NOANON
    role[(role == R_USER2) & drop_anon] = R_USER2_NOANON
    del drop_anon, backend_e

    etype = np.empty(n, dtype=np.int8)
    tidx = (r2 & 1023).astype(np.int64)
    for kind, tw in _TYPE_W.items():
        lut = np.array([t for t, _ in tw], dtype=np.int8)[_lut([x for _, x in tw], 1024)]
        sel = kinds[proj] == kind
        etype[sel] = lut[tidx[sel]]
    del tidx, r2
    etype[bot[person]] = T_PAGE
    etype[(role == R_IDENT) | (role == R_IDENT2)] = T_IDENTIFY
    etype[role == R_ALIAS] = T_ALIAS

    # Output order: project, then timestamp (stable: ties keep per-person order).
    okey = proj.astype(np.int64) * span + (ts - t0)
    order = np.argsort(okey, kind="stable")
    del okey
    bounds = np.concatenate([[0], np.cumsum(np.bincount(proj, minlength=P))])

    ids = _person_ids(gi, N, keys, bot)
    return _Plan(
        n_events=n,
        n_persons=N,
        month_labels=[str(m) for m in _months(end_month, M)[:-1]],
        month_start_ms=_months(end_month, M).astype("datetime64[ms]").astype(np.int64),
        projects=project_names(P),
        counts=k,
        person=person,
        ts=ts,
        role=role,
        etype=etype,
        proj=proj,
        r32=gi.integers(0, 2**32, n, dtype=np.uint32),
        order=order,
        bounds=bounds,
        msg_keys=keys[3:6],
        p_ident=ident,
        p_bot=bot,
        p_alias=alias,
        p_dev2=dev2,
        p_ios=ios,
        p_pylib=pylib,
        p_ua1=ua1.astype(np.int8),
        p_ua2=ua2,
        p_plan=plan,
        p_country=country,
        user_tab=ids["user"],
        anon_tab=ids["anon"],
        ip_tab=ids["ip"],
        old_tab=ids["old"],
        email_tab=ids["email"],
    )


# ---------------------------------------------------------------------------------------------
# Chunk materialization.

_TYPE_ARR = _strings(_TYPE_NAMES)
_TRACK_ARR = _strings([x for x, _ in _TRACK])
_TRACK_LUT = _lut([x for _, x in _TRACK], 256)
_NAMES = list(dict.fromkeys([x for x, _, _ in _PAGES] + [x for x, _ in _SCREENS]))
_NAME_ARR = _strings(_NAMES)
_PAGE_NAME = np.array([_NAMES.index(x) for x, _, _ in _PAGES])
_SCREEN_NAME = np.array([_NAMES.index(x) for x, _ in _SCREENS])
_PAGE_LUT = _lut([x for _, _, x in _PAGES], 256)
_SCREEN_LUT = _lut([x for _, x in _SCREENS], 256)
_URL_ARR = _strings([_BASE_URL + p for _, p, _ in _PAGES])
_EXP_ARR = _strings([f"exp_{i + 1}" for i in range(_N_EXP)])
_EXP_LUT = _lut([1.0 / (i + 1) for i in range(_N_EXP)], 256)
_FLAG_ARR = _strings(_FLAGS)
_VAR_ARR = _strings([x for x, _ in _VARIATIONS])
_VAR_LUT = _lut([x for _, x in _VARIATIONS], 256)
_PLAN_ARR = _strings([x for x, _ in _PLANS])
_GROUP_PLAN_LUT = _lut((30, 30, 25, 15), 32)
_COUNTRY_ARR = _strings([x for x, _ in _COUNTRIES])
_UA_ARR = _strings(_UAS)
_LIB_NAME = _strings([x for x, _ in _LIBS])
_LIB_VER = _strings([x for _, x in _LIBS])


def _dict(vocab: pa.Array, codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Dictionary-encoded ``vocab[codes]`` with nulls where ``valid`` is False."""
    if valid is None:
        ind = pa.array(codes.astype(np.int32))
    else:
        ind = pa.array(np.where(valid, codes, 0).astype(np.int32), mask=~valid)
    return pa.DictionaryArray.from_arrays(ind, vocab, safe=False)


def _materialize(plan: _Plan, pj: int, a: int, b: int, dictionary: bool) -> pa.Table:
    """Build the flat table for output positions ``order[a:b]`` (all in project ``pj``); with
    ``dictionary`` the low-cardinality columns stay dictionary-encoded (:data:`DICT_SCHEMA`)."""
    idx = plan.order[a:b]
    N = plan.n_persons
    p = plan.person[idx].astype(np.int64)
    role = plan.role[idx]
    t = plan.etype[idx]
    r = plan.r32[idx]
    dev2 = _DEV2[role]
    kind = pj % 3

    is_track, is_page, is_screen = t == T_TRACK, t == T_PAGE, t == T_SCREEN
    is_ident = t == T_IDENTIFY
    track_i = _TRACK_LUT[r & 255]
    page_i = _PAGE_LUT[r & 255]
    name_i = np.where(is_page, _PAGE_NAME[page_i], _SCREEN_NAME[_SCREEN_LUT[r & 255]])
    decision = is_track & (track_i == _DECISION)
    exp_i = _EXP_LUT[(r >> 8) & 255]
    var_i = _VAR_LUT[(r >> 16) & 255]
    has_flag = decision & (((r >> 24) & 7) < 4)
    url = _dict(_URL_ARR, page_i, is_page)

    plan_i = np.where(is_ident, plan.p_plan[p], _GROUP_PLAN_LUT[r >> 27])
    if kind == _KIND_MOBILE:
        ua_i = np.where(plan.p_ios[p], _UA_IOS_APP, _UA_ANDROID_APP)
        lib_i = np.where(plan.p_ios[p], 1, 2)
    else:
        ua_i = np.where(dev2, plan.p_ua2[p], plan.p_ua1[p])
        lib_i = np.zeros(len(p), np.int64) if kind == _KIND_WEB else np.where(plan.p_pylib[p], 3, 4)
    pos = np.arange(a, b, dtype=np.uint64)
    k0, k1, k2 = plan.msg_keys
    message_id = _uuid_strings(_mix64(pos + k0), _mix64(pos + k1), _mix64(pos + k2))

    cols = [
        _dict(_TYPE_ARR, t),
        _take(plan.user_tab, p + N * (role == R_OLD), _HAS_UID[role]),
        _take(plan.anon_tab, p + N * dev2, _HAS_ANON[role]),
        _take(plan.old_tab, p, role == R_ALIAS),
        _dict(_TRACK_ARR, track_i, is_track),
        _dict(_NAME_ARR, name_i, is_page | is_screen),
        message_id,
        _iso_timestamps(plan.ts[idx]),
        _dict(_EXP_ARR, exp_i, decision),
        _dict(_VAR_ARR, var_i, decision),
        _dict(_FLAG_ARR, exp_i, has_flag),
        pa.array(var_i != 0, mask=~has_flag),
        url,
        _take(plan.email_tab, p, is_ident),
        _dict(_PLAN_ARR, plan_i, is_ident | (t == T_GROUP)),
        _dict(_COUNTRY_ARR, plan.p_country[p], is_ident),
        _take(plan.ip_tab, p + N * dev2),
        _dict(_UA_ARR, ua_i),
        url,
        _dict(_LIB_NAME, lib_i),
        _dict(_LIB_VER, lib_i),
    ]
    if not dictionary:
        cols = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in cols]
    return pa.Table.from_arrays(cols, schema=DICT_SCHEMA if dictionary else SCHEMA)


def _iter_tables(
    plan: _Plan, chunk_rows: int, dictionary: bool = False
) -> Iterator[tuple[str, pa.Table]]:
    for pj, name in enumerate(plan.projects):
        lo, hi = int(plan.bounds[pj]), int(plan.bounds[pj + 1])
        if lo == hi:
            yield name, (DICT_SCHEMA if dictionary else SCHEMA).empty_table()
        for a in range(lo, hi, chunk_rows):
            yield name, _materialize(plan, pj, a, min(a + chunk_rows, hi), dictionary)


def generate_chunks(
    n_events: int,
    n_persons: int,
    months: int,
    projects: int,
    seed: int,
    end_month: str = "2024-06",
    chunk_rows: int = 1_000_000,
    dictionary: bool = False,
) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``(project_name, table)`` chunks (flat :data:`SCHEMA`, ``timestamp`` as ISO-8601
    string) of exactly ``n_events`` events in total, project by project, each project's chunks
    ordered by timestamp. Every project yields at least one (possibly empty) table.
    ``dictionary=True`` keeps low-cardinality columns dictionary-encoded (:data:`DICT_SCHEMA`,
    same values; much cheaper to build and write)."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be >= 1")
    plan = _build_plan(n_events, n_persons, months, projects, seed, end_month)
    yield from _iter_tables(plan, chunk_rows, dictionary)


# ---------------------------------------------------------------------------------------------
# JSONL (nested Segment objects, nulls omitted). Each row is laid out as fixed-width slots of
# zero-padded ``,"key":value`` fragments in a byte matrix; dropping the zero bytes yields the
# lines. Adjacent low-cardinality fields share one slot through a table of rendered fragment
# combinations; other fields are copied byte-wise from the Arrow buffers.

_SAMPLE_ROWS = 2048
_LOW_CARD = 256  # max distinct values in the sample for the fragment-table path
_MAX_COMBOS = 4096  # max distinct fragment combinations of one slot
_JSON_ORDER = (
    "messageId",
    "timestamp",
    "userId",
    "anonymousId",
    "previousId",
    "type",
    "event",
    "name",
    *(c for c in COLUMNS if "." in c),
)

_Vocab = tuple[np.ndarray, list[bytes]]  # per-row codes into rendered fragments (b"" = absent)


@dataclass
class _Node:
    key: str
    column: str | None = None  # leaf column name; None for an object
    children: list[_Node] | None = None


def _json_tree(names: Sequence[str]) -> list[_Node]:
    root: list[_Node] = []
    for name in names:
        level = root
        parts = name.split(".")
        for part in parts[:-1]:
            node = next((c for c in level if c.key == part and c.column is None), None)
            if node is None:
                node = _Node(part, children=[])
                level.append(node)
            assert node.children is not None
            level = node.children
        level.append(_Node(parts[-1], column=name))
    return root


def _valid(col: pa.Array) -> np.ndarray:
    if col.null_count == 0:
        return np.ones(len(col), dtype=bool)
    return col.is_valid().to_numpy(zero_copy_only=False)


def _prefix(key: str) -> bytes:
    return ("," + json.dumps(key) + ":").encode()


@functools.lru_cache(maxsize=1024)
def _render(prefix: bytes, vocab: tuple[str | None, ...], quote: bool) -> list[bytes]:
    """Fragments ``prefix + json(value)`` per vocabulary entry, plus b"" for null."""
    frags = [
        b"" if v is None else prefix + (json.dumps(v, ensure_ascii=False) if quote else v).encode()
        for v in vocab
    ]
    return [*frags, b""]


def _leaf_vocab(key: str, col: pa.Array) -> _Vocab | None:
    """Fragment table of a low-cardinality column, else None."""
    prefix = _prefix(key)
    if pa.types.is_boolean(col.type):
        bits = col.fill_null(False).to_numpy(zero_copy_only=False)
        codes = np.where(_valid(col), bits.astype(np.int64), 2)
        return codes, [prefix + b"false", prefix + b"true", b""]
    if pa.types.is_dictionary(col.type):
        vocab = col.dictionary.to_pylist()
        if len(vocab) > _MAX_COMBOS or not pa.types.is_string(col.dictionary.type):
            return None
        codes = col.indices.fill_null(len(vocab)).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, _render(prefix, tuple(vocab), True)
    quote = not pa.types.is_integer(col.type)
    if not quote:
        col = col.cast(pa.string())
    elif not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise TypeError(f"unsupported JSONL column type {col.type}")
    if len(pc.unique(col.slice(0, _SAMPLE_ROWS))) > _LOW_CARD:
        return None
    enc = pc.dictionary_encode(col)
    vocab = enc.dictionary.to_pylist()
    if len(vocab) > _MAX_COMBOS:
        return None
    codes = enc.indices.fill_null(len(vocab)).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, _render(prefix, tuple(vocab), quote)


def _combine(a: _Vocab, b: _Vocab) -> _Vocab | None:
    """Fragment table of two adjacent slots (concatenated), None if too many combinations."""
    (ca, fa), (cb, fb) = a, b
    prod = len(fa) * len(fb)
    combined = ca * len(fb) + cb
    if prod <= 1 << 22:
        used = np.zeros(prod, dtype=bool)
        used[combined] = True
        ids = np.flatnonzero(used)
        if len(ids) > _MAX_COMBOS:
            return None
        remap = np.zeros(prod, dtype=np.int64)
        remap[ids] = np.arange(len(ids))
        codes = remap[combined]
    else:
        ids, codes = np.unique(combined, return_inverse=True)
        if len(ids) > _MAX_COMBOS:
            return None
    return codes, [fa[i // len(fb)] + fb[i % len(fb)] for i in ids.tolist()]


def _node_vocab(node: _Node, leaf: Any) -> _Vocab | None:
    """Fragment table of a whole node (leaf or object of low-cardinality leaves), else None."""
    if node.column is not None:
        return leaf(node)
    assert node.children is not None
    acc: _Vocab | None = None
    for child in node.children:
        v = _node_vocab(child, leaf)
        if v is None:
            return None
        acc = v if acc is None else _combine(acc, v)
        if acc is None:
            return None
    assert acc is not None
    codes, frags = acc
    head = ("," + json.dumps(node.key) + ":{").encode()
    return codes, [head + f[1:] + b"}" if f else b"" for f in frags]


def _string_buffers(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64 (n+1,), data uint8) of a string array."""
    if pa.types.is_large_string(col.type):
        col = col.cast(pa.string())
    bufs = col.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=len(col) + 1, offset=4 * col.offset)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offsets.astype(np.int64), data


def _raw_slot(key: str, col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Zero-padded ``,"key":"value"`` bytes (n, w) copied from the buffers, and presence."""
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    n, valid = len(col), _valid(col)
    quote = b"" if pa.types.is_integer(col.type) else b'"'
    if not quote:
        col = col.cast(pa.string())
    offsets, data = _string_buffers(col)
    used = data[offsets[0] : offsets[-1]]
    if bool(((used == 34) | (used == 92) | (used < 32)).any()):  # needs escaping: slow path
        esc = [
            None if v is None else json.dumps(v, ensure_ascii=False)[1:-1] for v in col.to_pylist()
        ]
        col = pa.array(esc, type=pa.string())
        offsets, data = _string_buffers(col)
        used = data[offsets[0] : offsets[-1]]
    lens = np.where(valid, offsets[1:] - offsets[:-1], 0)
    w = int(lens.max()) if n else 0
    head = _prefix(key) + quote
    lp = len(head)
    mat = np.zeros((n, lp + w + len(quote)), dtype=np.uint8)
    mat[:, :lp] = np.frombuffer(head, dtype=np.uint8)
    nvalid = int(valid.sum())
    if w and bool((lens[valid] == w).all()) and len(used) == w * nvalid:  # fixed width
        if nvalid == n:
            mat[:, lp : lp + w] = used.reshape(n, w)
        else:
            mat[valid, lp : lp + w] = used.reshape(-1, w)
    elif w:
        padded = pc.ascii_rpad(pc.fill_null(col, ""), width=w, padding="\x00")
        offsets, data = _string_buffers(padded)
        mat[:, lp : lp + w] = data[offsets[0] : offsets[-1]].reshape(n, w)
    if quote:
        mat[:, -1] = quote[0]
    if nvalid < n:
        mat[~valid] = 0
    return mat, valid


def jsonl_bytes(table: pa.Table) -> np.ndarray:
    """Nested JSON lines (``\\n``-terminated, as a uint8 array) for a flat table: dotted column
    names become nested objects; null fields and objects with only null fields are omitted."""
    n = table.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.uint8)
    cols = {name: table.column(name).combine_chunks() for name in table.column_names}
    leaf_cache: dict[str, _Vocab | None] = {}

    def leaf(node: _Node) -> _Vocab | None:
        assert node.column is not None
        if node.column not in leaf_cache:
            leaf_cache[node.column] = _leaf_vocab(node.key, cols[node.column])
        return leaf_cache[node.column]

    slots: list[np.ndarray] = []  # (n, w) zero-padded byte blocks, in row order
    width = 0
    commas: list[tuple[np.ndarray, np.ndarray]] = []  # (member offsets, presence matrix)

    def add(mat: np.ndarray) -> int:
        nonlocal width
        slots.append(mat)
        width += mat.shape[1]
        return width - mat.shape[1]

    def scope(nodes: list[_Node]) -> np.ndarray:
        offs: list[int] = []
        pres: list[np.ndarray] = []

        def emit(v: _Vocab) -> None:
            codes, frags = v
            tab = np.zeros((len(frags), max(1, max(map(len, frags)))), dtype=np.uint8)
            for i, f in enumerate(frags):
                tab[i, : len(f)] = np.frombuffer(f, dtype=np.uint8)
            offs.append(add(tab[codes]))
            pres.append(np.array([len(f) > 0 for f in frags])[codes])

        run: _Vocab | None = None
        for node in nodes:
            v = _node_vocab(node, leaf)
            if v is not None:
                merged = None if run is None else _combine(run, v)
                if merged is None and run is not None:
                    emit(run)
                run = v if merged is None else merged
                continue
            if run is not None:
                emit(run)
                run = None
            if node.column is not None:
                mat, present = _raw_slot(node.key, cols[node.column])
                offs.append(add(mat))
                pres.append(present)
                continue
            assert node.children is not None
            head = len(slots)
            offs.append(add(np.frombuffer(_prefix(node.key) + b"{", np.uint8)[None, :]))
            present = scope(node.children)
            add(np.frombuffer(b"}", np.uint8)[None, :])
            slots[head] = slots[head] * present[:, None]  # drop empty objects
            slots[-1] = slots[-1] * present[:, None]
            pres.append(present)
        if run is not None:
            emit(run)
        presence = np.stack(pres, axis=1)
        commas.append((np.array(offs, dtype=np.int64), presence))
        return presence.any(axis=1)

    add(np.frombuffer(b"{", np.uint8)[None, :])
    scope(_json_tree(table.column_names))
    add(np.frombuffer(b"}\n", np.uint8)[None, :])
    mat = np.empty((n, width), dtype=np.uint8)
    o = 0
    for s in slots:
        mat[:, o : o + s.shape[1]] = s
        o += s.shape[1]
    slots.clear()
    rows = np.arange(n)
    for offs, presence in commas:  # drop the comma before each scope's first member
        has = presence.any(axis=1)
        mat[rows[has], offs[presence.argmax(axis=1)][has]] = 0
    return mat[mat != 0]


def write_jsonl(fh: Any, table: pa.Table, rows_per_batch: int = 16_384) -> None:
    """Write ``table`` as nested JSON lines to the binary file ``fh`` in bounded-memory batches."""
    for start in range(0, table.num_rows, rows_per_batch):
        fh.write(jsonl_bytes(table.slice(start, rows_per_batch)))


# ---------------------------------------------------------------------------------------------
# Dataset writer.


def _stats(plan: _Plan) -> dict[str, Any]:
    N, M = plan.n_persons, len(plan.month_labels)
    role, person = plan.role, plan.person

    def persons_with(roles: Sequence[int]) -> int:
        used = np.zeros(N, dtype=bool)
        used[person[np.isin(role, roles)]] = True
        return int(used.sum())

    uid_roles = [R_IDENT, R_USER, R_USER_NOANON, R_IDENT2, R_USER2, R_USER2_NOANON, R_ALIAS]
    active = plan.counts > 0
    month = np.searchsorted(plan.month_start_ms, plan.ts, side="right") - 1
    pm = person.astype(np.int64) * M + month
    by_month = (np.bincount(pm, minlength=N * M) > 0).reshape(N, M).sum(axis=0)
    by_pm: dict[str, dict[str, int]] = {}
    for pj, name in enumerate(plan.projects):
        sel = plan.proj == pj
        got = (np.bincount(pm[sel], minlength=N * M) > 0).reshape(N, M).sum(axis=0)
        by_pm[name] = dict(zip(plan.month_labels, got.tolist(), strict=True))
    return {
        "distinct_persons": int(active.sum()),
        "distinct_user_ids": persons_with(uid_roles) + persons_with([R_OLD]),
        "distinct_anonymous_ids": persons_with([R_ANON, R_IDENT, R_USER])
        + persons_with([R_ANON2, R_IDENT2, R_USER2]),
        "identified_persons": int((plan.p_ident & active).sum()),
        "anonymous_persons": int((~plan.p_ident & active).sum()),
        "bot_persons": int((plan.p_bot & active).sum()),
        "alias_persons": int((plan.p_alias & active).sum()),
        "second_device_persons": int((plan.p_dev2 & active).sum()),
        "type_counts": dict(
            zip(_TYPE_NAMES, np.bincount(plan.etype, minlength=6).tolist(), strict=True)
        ),
        "persons_by_month": dict(zip(plan.month_labels, by_month.tolist(), strict=True)),
        "persons_by_project_month": by_pm,
    }


def write_dataset(
    out_dir: str | Path,
    n_events: int,
    n_persons: int,
    months: int,
    projects: int,
    seed: int,
    formats: Sequence[str] = ("parquet", "jsonl"),
    end_month: str = "2024-06",
    chunk_rows: int = 1_000_000,
) -> dict[str, Any]:
    """Write ``events-{project}.{parquet,jsonl,csv}`` plus ``manifest.json`` into ``out_dir``.

    Parquet/CSV use the flat :data:`SCHEMA`; JSONL lines are nested Segment objects with null
    fields omitted. Returns the manifest (files, per-project counts, distinct persons / userIds
    / anonymousIds, months, ground-truth persons per month with all of a person's ids merged).
    """
    bad = set(formats) - {"parquet", "jsonl", "csv"}
    if bad:
        raise ValueError(f"unknown formats: {sorted(bad)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = _build_plan(n_events, n_persons, months, projects, seed, end_month)
    files: dict[str, list[str]] = {name: [] for name in plan.projects}
    counts: dict[str, int] = dict.fromkeys(plan.projects, 0)
    writers: dict[str, Any] = {}
    current: str | None = None
    pending: list[Future[None]] = []

    def write(fmt: str, w: Any, table: pa.Table) -> None:
        if fmt == "parquet":
            w.write_table(table, row_group_size=chunk_rows)
        elif fmt == "csv":
            w.write_table(table.cast(SCHEMA))
        else:
            write_jsonl(w, table.select(_JSON_ORDER))

    def drain() -> None:
        for f in pending:
            f.result()
        pending.clear()

    def close() -> None:
        drain()
        for w in writers.values():
            w.close()
        writers.clear()

    # One writer thread per format; the next chunk is generated while the previous one is
    # written (numpy/Arrow release the GIL), at most two chunks are alive at a time.
    with ThreadPoolExecutor(max_workers=len(formats) or 1) as pool:
        try:
            for name, table in _iter_tables(plan, chunk_rows, dictionary=True):
                drain()
                if name != current:
                    close()
                    current = name
                    for fmt in formats:
                        path = out / f"events-{name}.{fmt}"
                        files[name].append(path.name)
                        if fmt == "parquet":
                            writers[fmt] = pq.ParquetWriter(
                                path, DICT_SCHEMA, compression="zstd", store_schema=False
                            )
                        elif fmt == "csv":
                            writers[fmt] = pacsv.CSVWriter(path, SCHEMA)
                        else:
                            writers[fmt] = open(path, "wb")  # noqa: SIM115
                counts[name] += table.num_rows
                pending.extend(pool.submit(write, f, w, table) for f, w in writers.items())
        finally:
            close()

    manifest: dict[str, Any] = {
        "generator": "bench.generate",
        "args": {
            "n_events": n_events,
            "n_persons": n_persons,
            "months": months,
            "projects": projects,
            "seed": seed,
            "end_month": end_month,
            "formats": list(formats),
            "chunk_rows": chunk_rows,
        },
        "months": plan.month_labels,
        "projects": plan.projects,
        "files": files,
        "counts": counts,
        "total_events": sum(counts.values()),
        **_stats(plan),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m bench.generate", description=(__doc__ or "").split("\n")[0]
    )
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--projects", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--end-month", default="2024-06")
    ap.add_argument("--formats", default="parquet,jsonl", help="comma list: parquet,jsonl,csv")
    ap.add_argument("--chunk-rows", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    t = time.perf_counter()
    m = write_dataset(
        args.out,
        args.events,
        args.persons,
        args.months,
        args.projects,
        args.seed,
        formats=tuple(f for f in args.formats.split(",") if f),
        end_month=args.end_month,
        chunk_rows=args.chunk_rows,
    )
    summary = {k: m[k] for k in ("counts", "distinct_persons", "distinct_user_ids")}
    summary["distinct_anonymous_ids"] = m["distinct_anonymous_ids"]
    print(json.dumps(summary), f"in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
