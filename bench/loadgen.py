"""The load generator of ``bench.service``: raw HTTP/1.1 keep-alive over asyncio streams.

Runs in its own process (pinned to its own core by ``bench.service``) and prints one JSON
object: acknowledged events or decisions per measurement window, request latencies, and the
generator's own CPU use over the measurement (near 100 % of a core would mean the generator,
not the server, sets the pace).

Bodies are bytes built by template substitution: per-person fragments (``userId`` or
``anonymousId``), a handful of event shapes and contexts are rendered once; a batch is one
``bytes.join`` of per-event ``%`` substitutions with a unique ``messageId`` each.

    python -m bench.loadgen --url http://127.0.0.1:8000 --key wk_... --mode ingest --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np

BATCH = 100

EVENT = (
    b'{"type":"track",%s,"messageId":"%s%d","timestamp":"%s",%s,'
    b'"context":{"library":{"name":"analytics.js","version":"5.2.0"},%s}}'
)
SHAPES = [
    (b"Page Viewed", b'"path":"/app/dashboard","referrer":"https://www.google.com/"'),
    (b"Report Viewed", b'"report_id":"rpt_8812","format":"table","rows":250'),
    (b"Button Clicked", b'"button":"export","section":"reports","variant":"b","plan":"free"'),
    (b"Search Performed", b'"query_length":14,"results":37,"filters":["date","owner"]'),
    (b"Item Added", b'"item_id":"sku_10442","price":19.99,"currency":"EUR","quantity":1'),
    (b"Message Sent", b'"channel":"web","length":118,"thread_id":"th_55a1","plan":"team"'),
    (b"Decision", b'"experiment_id":"exp_42","variation":"treatment","enabled":true'),
    (b"Settings Updated", b'"setting":"notifications","value":"weekly","plan":"enterprise"'),
]
SHAPE_FRAGS = [b'"event":"%s","properties":{%s}' % shape for shape in SHAPES]
CONTEXTS = [
    b'"ip":"203.0.113.%d","locale":"%s","userAgent":"%s"' % (n, locale, agent)
    for n, (locale, agent) in enumerate(
        (locale, agent)
        for locale in (b"en-US", b"de-DE", b"fr-FR", b"ja-JP")
        for agent in (
            b"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
            b"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        )
    )
]


class Persons:
    """A fixed pool of persons and a Zipf-like sequence of who acts next.

    Person ``i`` is a ``userId`` (``usr_`` + 16 hex) or, for ``anonymous_share`` of the pool, an
    ``anonymousId`` (a UUID 4). Ranks are shuffled so popular persons are spread over the pool.
    With ``cover_first`` the sequence starts with every person once (so the counting state is
    complete after one pass and later traffic only reuses the pool).
    """

    def __init__(
        self,
        n: int,
        seed: int = 7,
        exponent: float = 0.8,
        anonymous_share: float = 0.25,
        cover_first: bool = False,
        length: int = 1 << 21,
    ) -> None:
        rng = np.random.default_rng(seed)
        raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
        anonymous = rng.random(n) < anonymous_share
        frags: list[bytes] = []
        for (a, b), anon in zip(raw.tolist(), anonymous.tolist(), strict=True):
            h = f"{a:016x}{b:016x}"
            if anon:
                uuid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
                frags.append(b'"anonymousId":"%s"' % uuid.encode())
            else:
                frags.append(b'"userId":"usr_%s"' % h[:16].encode())
        self.frags = frags
        weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
        ranked = rng.permutation(n)
        seq = ranked[rng.choice(n, size=length, p=weights / weights.sum())]
        if cover_first:
            seq = np.concatenate([rng.permutation(n), seq])
        self.sequence: list[int] = seq.tolist()
        self.cover = n if cover_first else 0


@dataclass
class BodyMaker:
    """Batch bodies as bytes, every ``messageId`` unique (run id, connection, batch, index)."""

    persons: Persons
    run: str = field(default_factory=lambda: secrets.token_hex(4))
    position: int = 0
    made: int = 0

    def batch(self, tag: int) -> bytes:
        seq, frags, pos = self.persons.sequence, self.persons.frags, self.position
        if pos + BATCH > len(seq):
            pos = self.persons.cover  # wrap inside the Zipf part of the sequence
        who = seq[pos : pos + BATCH]
        self.position = pos + BATCH
        prefix = b"%s-%d-%d-" % (self.run.encode(), tag, self.made)
        self.made += 1
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3].encode() + b"Z"
        shapes, contexts = SHAPE_FRAGS, CONTEXTS
        events = [
            EVENT % (frags[p], prefix, i, now, shapes[(p + i) & 7], contexts[p & 7])
            for i, p in enumerate(who)
        ]
        return b'{"batch":[' + b",".join(events) + b'],"sentAt":"' + now + b'"}'


@dataclass
class Tally:
    requests: int = 0
    ok: int = 0
    units: int = 0  # events acknowledged (ingest) or decisions (admit)
    accepted: int = 0
    duplicates: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    measuring: bool = False

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def roundtrip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> tuple[int, bytes]:
    writer.write(head + b"%d\r\n\r\n" % len(body) + body)
    header = await reader.readuntil(b"\r\n\r\n")
    status = int(header[9:12])
    lower = header.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        raise ConnectionError("response without content-length")
    end = lower.find(b"\r\n", at + 2)
    payload = await reader.readexactly(int(lower[at + 17 : end]))
    if b"\r\nconnection: close" in lower:
        raise ConnectionResetError("server closed the connection")
    return status, payload


@dataclass
class Plan:
    url: str
    key: str
    mode: str  # ingest | noop | admit | seed
    seconds: float
    warmup: float
    window: float
    connections: int
    rate: float  # events/s for ingest/noop, decisions/s for admit; 0 = as fast as possible
    persons: int
    seed: int
    cover_first: bool
    new_share: float
    known: int


async def run(plan: Plan) -> dict[str, Any]:
    split = urlsplit(plan.url)
    host, port = split.hostname or "127.0.0.1", split.port or 80
    auth = base64.b64encode(f"{plan.key}:".encode()).decode()
    path = {"ingest": "/v1/batch", "seed": "/v1/batch", "noop": "/bench/noop"}.get(
        plan.mode, "/v1/admit"
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {auth}\r\n"
        "Content-Type: application/json\r\nContent-Length: "
    ).encode()
    persons = Persons(plan.persons, seed=plan.seed, cover_first=plan.cover_first)
    maker = BodyMaker(persons)
    admit = plan.mode == "admit"
    unit = 1 if admit else BATCH
    tally = Tally()
    clock = time.perf_counter  # uvloop's loop.time() ticks in whole milliseconds
    start = clock()
    stop_at = start + plan.warmup + plan.seconds
    interval = unit / plan.rate if plan.rate else 0.0
    slot = 0
    new_counter = 0
    rng = np.random.default_rng(plan.seed + 1)
    known_pool = persons.frags[: max(1, min(plan.known, len(persons.frags)))]

    def admit_body() -> bytes:
        nonlocal new_counter
        if rng.random() < plan.new_share:
            new_counter += 1
            return b'{"userId":"new_%s_%d"}' % (maker.run.encode(), new_counter)
        return b"{" + known_pool[int(rng.integers(len(known_pool)))] + b"}"

    seed_batches: list[list[int]] = []
    if plan.mode == "seed":  # every known person once, then stop
        ids = list(range(min(plan.known, len(persons.frags))))
        seed_batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        persons.sequence = [p for chunk in seed_batches for p in chunk]
        stop_at = float("inf")

    async def connection(tag: int) -> None:
        nonlocal slot
        reader = writer = None
        while clock() < stop_at:
            if plan.mode == "seed":
                if not seed_batches:
                    break
                seed_batches.pop()
            if interval:
                due = start + slot * interval
                slot += 1
                if due > clock():
                    await asyncio.sleep(due - clock())
                if clock() >= stop_at:
                    break
            body = admit_body() if admit else maker.batch(tag)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                sent = clock()
                status, payload = await roundtrip(reader, writer, head, body)  # type: ignore[arg-type]
            except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
                tally.error(type(exc).__name__)
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
                continue
            done = clock()
            tally.requests += 1
            if status != 200:
                tally.error(f"HTTP {status}")
                continue
            tally.ok += 1
            tally.units += unit
            answer = json.loads(payload)
            if admit:
                reason = str(answer.get("reason"))
                tally.reasons[reason] = tally.reasons.get(reason, 0) + 1
            else:
                tally.accepted += answer.get("accepted", 0)
                tally.duplicates += answer.get("duplicates", 0)
            if tally.measuring:
                tally.latencies.append(done - sent)
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def sampler() -> dict[str, Any]:
        await asyncio.sleep(plan.warmup)
        tally.measuring = True
        windows: list[float] = []
        t0, u0, c0 = clock(), tally.units, time.process_time()
        t_prev, u_prev = t0, u0
        a0, ok0 = tally.accepted, tally.ok
        while clock() < stop_at - 1e-3:
            await asyncio.sleep(min(plan.window, stop_at - clock()))
            now, units = clock(), tally.units
            if now - t_prev >= plan.window / 2:
                windows.append((units - u_prev) / (now - t_prev))
            t_prev, u_prev = now, units
        elapsed = clock() - t0
        return {
            "windows": windows,
            "median": statistics.median(windows) if windows else 0.0,
            "mean": (tally.units - u0) / elapsed if elapsed else 0.0,
            "measured_units": tally.units - u0,
            "measured_accepted": tally.accepted - a0,
            "measured_requests": tally.ok - ok0,
            "elapsed": elapsed,
            "generator_cpu": (time.process_time() - c0) / elapsed if elapsed else 0.0,
            "t_end": time.time(),
        }

    tasks = [asyncio.create_task(connection(i)) for i in range(plan.connections)]
    if plan.mode == "seed":
        await asyncio.gather(*tasks)
        return {"units": tally.units, "accepted": tally.accepted, "errors": tally.errors}
    measured = await sampler()
    await asyncio.gather(*tasks)
    lat = sorted(tally.latencies)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3 if lat else 0.0

    return {
        "mode": plan.mode,
        "connections": plan.connections,
        "rate": plan.rate,
        **measured,
        "units": tally.units,
        "requests": tally.requests,
        "ok": tally.ok,
        "accepted": tally.accepted,
        "duplicates": tally.duplicates,
        "errors": tally.errors,
        "reasons": tally.reasons,
        "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0)},
        "body_bytes_per_event": len(maker.batch(-1)) / BATCH,
    }


def build_rate(persons: int, seconds: float = 1.0) -> float:
    """Events/s this process renders into batch bodies, with no network at all."""
    maker = BodyMaker(Persons(persons, length=1 << 18))
    made, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        maker.batch(0)
        made += BATCH
    return made / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--mode", choices=["ingest", "noop", "admit", "seed"], default="ingest")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--window", type=float, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cover-first", action="store_true")
    parser.add_argument("--new-share", type=float, default=0.5)
    parser.add_argument("--known", type=int, default=20_000)
    parser.add_argument("--build-rate", action="store_true", help="Only time body building.")
    args = parser.parse_args(argv)
    if args.build_rate:
        print(json.dumps({"build_rate": build_rate(args.persons, args.seconds)}))
        return
    plan = Plan(
        url=args.url,
        key=args.key,
        mode=args.mode,
        seconds=args.seconds,
        warmup=args.warmup,
        window=args.window,
        connections=args.connections,
        rate=args.rate,
        persons=args.persons,
        seed=args.seed,
        cover_first=args.cover_first,
        new_share=args.new_share,
        known=args.known,
    )
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    result = runner(run(plan))
    result["pid"] = os.getpid()
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
