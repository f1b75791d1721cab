"""`make bench-service`: the service benchmarks of issue 3 against a real ``maumeter serve``.

The server runs pinned to CPU 0 (``taskset -c 0``), the load generator (``bench.loadgen``: raw
HTTP/1.1 keep-alive over asyncio streams) in its own process pinned to CPU 1; this process
only orchestrates and samples the server's CPU time and RSS from ``/proc``. It measures

* ingest: batches of 100 ``track`` events to ``POST /v1/batch`` (events count only when their
  request got HTTP 200, which the server sends after the durable commit), and the same bodies
  to ``POST /bench/noop`` on the same app stack (``bench.noop_server``), the HTTP ceiling;
* admission: ``POST /v1/admit`` at 32 concurrent clients, new and already-counted persons;
* memory: a steady moderate ingest rate for 5 minutes, the server's RSS every 5 s;

and writes the "Service (issue 3)" section of ``bench/RESULTS.md`` (``--only`` rewrites only its
part of it).

    python -m bench.service [--seconds N] [--only ingest|admit|memory]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
BIN = Path(sys.executable).parent
SECTION = "## Service (issue 3)"
PARTS = ("ingest", "admit", "memory")
TICK = os.sysconf("SC_CLK_TCK")
CAPPED_ORG, CAP = "capped", 1_000_000
# The per-key rate limit (requests/s) is lifted so it cannot set the pace; its code still runs.
# The admin token lets this process read usage (MAU, events) while the server holds the store.
ADMIN_TOKEN = "mt_bench_service_admin_token"
LIMITS = {
    "MAUMETER_RATE_LIMIT": "1e9",
    "MAUMETER_RATE_BURST": "1e9",
    "MAUMETER_ADMIN_TOKEN": ADMIN_TOKEN,
}


T0 = time.monotonic()
SERVER_CPUS = ["0"]  # --server-cpus: where ``serve`` runs (taskset list)


def log(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f} s] {message}", file=sys.stderr, flush=True)


def pin(cpu: int | str) -> list[str]:
    """``taskset -c cpu`` when the machine has that CPU (and taskset), else nothing; ``cpu``
    may be a list such as ``0,1``."""
    highest = max(int(c) for c in str(cpu).split(","))
    if shutil.which("taskset") and (os.cpu_count() or 1) > highest:
        return ["taskset", "-c", str(cpu)]
    return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(db: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(BIN / "maumeter"), "--db", str(db), *args, "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def make_store(db: Path) -> dict[str, str]:
    """Org ``acme`` (no cap; project ``web``) and org ``capped`` (hard cap; project ``app``)."""
    cli(db, "org", "create", "acme")
    keys = {"acme": cli(db, "project", "create", "acme", "web")["write_key"]}
    cli(db, "org", "create", CAPPED_ORG, "--cap", str(CAP), "--policy", "hard")
    keys[CAPPED_ORG] = cli(db, "project", "create", CAPPED_ORG, "app")["write_key"]
    return keys


def proc_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds of the process, all threads; VmRSS in KiB)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return cpu, rss


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    db: Path
    log: Path
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def auth(self) -> dict[str, str]:
        """The admin token (servers without keys ignore it)."""
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def sample(self, usage_org: str | None = None) -> dict[str, Any]:
        cpu, rss = proc_stat(self.pid)
        row: dict[str, Any] = {"t": time.time(), "cpu": cpu, "rss_kib": rss}
        if usage_org:
            try:
                usage = httpx.get(
                    f"{self.url}/api/v1/orgs/{usage_org}/usage",
                    headers=self.auth(),
                    timeout=10,
                ).json()
                row["mau"], row["impressions"] = usage["mau"], usage["impressions"]
            except (httpx.HTTPError, KeyError, ValueError):
                pass
        self.samples.append(row)
        return row

    def cpu_between(self, start: float, end: float) -> float:
        """The server's CPU use (cores) between two wall-clock times, from the samples."""
        inside = [s for s in self.samples if start - 0.6 <= s["t"] <= end + 0.6]
        if len(inside) < 2:
            return 0.0
        first, last = inside[0], inside[-1]
        return (last["cpu"] - first["cpu"]) / (last["t"] - first["t"])


@contextmanager
def serve(db: Path, work: Path, noop: bool = False) -> Iterator[Server]:
    """``maumeter serve`` (or the no-op launcher) on ``db``, pinned to CPU 0 (``--server-cpus``)."""
    port = free_port()
    launcher = [sys.executable, "-m", "bench.noop_server"] if noop else [str(BIN / "maumeter")]
    command = [*launcher, "--db", str(db), "serve", "--no-demo"]
    log_path = work / f"server-{port}.log"
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            [*pin(SERVER_CPUS[0]), *command, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **LIMITS},
        )
    server = Server(process, f"http://127.0.0.1:{port}", db, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()}")
            try:
                if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in 60 s")
            time.sleep(0.1)
        log(f"server up: {' '.join(command)} (pid {process.pid})")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def loadgen(
    server: Server,
    key: str,
    mode: str,
    every: float = 1.0,
    usage_org: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Run ``bench.loadgen`` pinned to CPU 1, sampling the server every ``every`` seconds."""
    log(f"{mode} on {server.url} (server pid {server.pid}) {options}")
    command = [*pin(1), sys.executable, "-m", "bench.loadgen"]
    command += ["--url", server.url, "--key", key, "--mode", mode]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            command.append(flag)
        elif value is not False and value is not None:
            command += [flag, str(value)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=REPO, text=True)
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            server.sample(usage_org)
            stop.wait(every)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        out, _ = process.communicate(timeout=3600)
    finally:
        stop.set()
        thread.join()
    server.sample(usage_org)
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed ({process.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    if "elapsed" in result:
        end = result["t_end"]
        result["server_cpu"] = server.cpu_between(end - result["elapsed"], end)
    return result


def admit_available(server: Server, key: str) -> tuple[bool, str]:
    try:
        answer = httpx.post(
            server.url + "/v1/admit", json={"userId": "bench-probe"}, auth=(key, ""), timeout=10
        )
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if answer.status_code != 200:
        return False, f"POST /v1/admit answered HTTP {answer.status_code}"
    return True, answer.text


def measure(args: argparse.Namespace, parts: tuple[str, ...]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="maumeter-bench-") as tmp:
        work = Path(tmp)
        template = work / "template.duckdb"
        keys = make_store(template)
        log("store created")

        def fresh(name: str) -> Path:
            db = work / f"{name}.duckdb"
            shutil.copy(template, db)
            wal = template.with_name(template.name + ".wal")
            if wal.exists():
                shutil.copy(wal, db.with_name(db.name + ".wal"))
            return db

        common = {
            "seconds": args.seconds,
            "warmup": args.warmup,
            "window": args.window,
            "persons": args.persons,
        }
        if "ingest" in parts or "admit" in parts:
            with serve(fresh("bench"), work) as server:
                if "ingest" in parts:
                    results["ingest"] = loadgen(
                        server,
                        keys["acme"],
                        "ingest",
                        connections=args.connections,
                        **common,
                    )
                    results["ingest"]["rss_kib_end"] = server.samples[-1]["rss_kib"]
                    results["ingest"]["server_pid"] = server.pid
                if "admit" in parts:
                    results["admit"] = admission(args, server, keys[CAPPED_ORG], common)
        if "ingest" in parts:
            with serve(fresh("noop"), work, noop=True) as server:
                results["noop"] = loadgen(
                    server, keys["acme"], "noop", connections=args.connections, **common
                )
            builder = [*pin(1), sys.executable, "-m", "bench.loadgen", "--url", "-", "--key", "-"]
            builder += ["--persons", str(args.persons), "--seconds", str(min(1, args.seconds / 4))]
            done = subprocess.run(
                [*builder, "--build-rate"],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
            )
            results["build_rate"] = json.loads(done.stdout)["build_rate"]
        if "memory" in parts:
            if args.memory_rate or "ingest" in results:
                capacity = results.get("ingest", {}).get("median", 0.0)
            else:
                capacity = calibrate(args, fresh("calibrate"), work, keys["acme"])
            rate = memory_rate(args, capacity)
            results["memory"] = memory(args, fresh("memory"), work, keys["acme"], rate)
            results["memory"]["capacity"] = capacity
    return results


def settle(server: Server) -> None:
    """Let the server fold what the previous run left in its journal before the next run is
    measured: a read waits for every acknowledged write (usage counts the stored events)."""
    started = time.monotonic()
    response = httpx.get(
        f"{server.url}/api/v1/orgs/{CAPPED_ORG}/usage", headers=server.auth(), timeout=300
    )
    response.raise_for_status()
    log(f"settled: the journal folded in {time.monotonic() - started:.1f} s")


def admission(
    args: argparse.Namespace, server: Server, key: str, common: dict[str, Any]
) -> dict[str, Any]:
    ok, detail = admit_available(server, key)
    if not ok:
        return {"available": False, "detail": detail}
    settle(server)
    known = min(args.known, args.persons)
    seeded = loadgen(server, key, "seed", persons=args.persons, known=known, connections=8)
    result = loadgen(
        server,
        key,
        "admit",
        connections=args.admit_connections,
        new_share=args.new_share,
        known=known,
        **common,
    )
    return {
        "available": True,
        "probe": detail,
        "seeded": seeded["accepted"],
        "new_share": args.new_share,
        "known": known,
        **result,
    }


def calibrate(args: argparse.Namespace, db: Path, work: Path, key: str) -> float:
    """The sustained ingest rate of a fresh server (for ``--only memory``): a short run."""
    seconds = min(10.0, max(1.0, args.memory_seconds / 10))
    with serve(db, work) as server:
        probe = loadgen(
            server,
            key,
            "ingest",
            seconds=seconds,
            warmup=min(2.0, seconds / 4),
            window=seconds / 4,
            connections=args.connections,
            persons=args.persons,
        )
    return float(probe["median"])


def memory_rate(args: argparse.Namespace, capacity: float) -> float:
    """The requested rate, or (auto) 20,000 events/s or 3/4 of the capacity, the lower."""
    if args.memory_rate:
        return float(args.memory_rate)
    return float(max(100, min(20_000, round(0.75 * capacity, -2))))


def memory(args: argparse.Namespace, db: Path, work: Path, key: str, rate: float) -> dict[str, Any]:
    seconds = args.memory_seconds
    every = min(5.0, max(0.5, seconds / 10))
    with serve(db, work) as server:
        time.sleep(0.5)
        start = server.sample("acme")
        result = loadgen(
            server,
            key,
            "ingest",
            every=every,
            usage_org="acme",
            seconds=seconds,
            warmup=0,
            window=every,
            rate=rate,
            connections=args.connections,
            persons=args.persons,
            cover_first=True,
        )
    samples = [s for s in server.samples if "mau" in s]
    t0 = result["t_end"] - result["elapsed"]
    minute = t0 + min(60.0, seconds / 5)
    after = min(samples, key=lambda s: abs(s["t"] - minute))
    end = samples[-1]
    log("reopening the memory run's store for its counting state")
    state = counting_state(db)
    return {
        **result,
        "every": every,
        "minute_mark": after["t"] - t0,
        "start": start,
        "peak_kib": max(s["rss_kib"] for s in samples),
        "at_minute": after,
        "end": end,
        "series": [
            [max(0.0, round(s["t"] - t0, 1)), s["rss_kib"], s.get("mau"), s.get("impressions")]
            for s in samples[1:]
        ],
        "state_bytes": state,
    }


def counting_state(db: Path) -> dict[str, int]:
    """The counting state of org acme as the store rebuilds it (bytes and persons)."""
    from maumeter.meter import Meter

    with Meter.open(db) as meter:
        store = meter.store
        state = store._states[store.org("acme").id]  # type: ignore[attr-defined]
        graph = state.graph
        ids = (graph._users, graph._anons)  # id -> dense index
        graph_bytes = sum(sys.getsizeof(d) for d in ids) + sys.getsizeof(graph.values)
        graph_bytes += sum(sys.getsizeof(v) for v in graph.values)
        graph_bytes += len(graph.kinds) + graph.parent.itemsize * len(graph.parent)
        return {
            "bytes": state.counts.state_bytes(),
            "graph_bytes": graph_bytes,
            "ids": len(graph),
            "dedupe_hashes": len(state.dedupe),
        }


# -- RESULTS.md ----------------------------------------------------------------------------


def mib(kib: float) -> str:
    return f"{kib / 1024:,.0f} MiB"


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f}–{max(values):,.0f}" if values else "-"


def ingest_lines(r: dict[str, Any]) -> list[str]:
    ing, noop = r["ingest"], r["noop"]
    ratio = ing["median"] / noop["median"] if noop["median"] else 0.0
    windows = len(ing["windows"])
    lat, nlat = ing["latency_ms"], noop["latency_ms"]
    dup = f", {ing['duplicates']:,} duplicates" if ing["duplicates"] else ""
    errors = ", ".join(f"{k}: {v}" for k, v in {**ing["errors"], **noop["errors"]}.items())
    rows = [
        (
            "ingest `POST /v1/batch`",
            f"**{ing['median']:,.0f} events/s**",
            f"median of {windows} windows ({spread(ing['windows'])}); "
            f"{ing['measured_units']:,} events acked in {ing['elapsed']:.0f} s "
            f"({ing['measured_accepted']:,} reported accepted){dup}; "
            "target ≥ 50,000, goal 150,000",
        ),
        (
            "HTTP ceiling `POST /bench/noop`",
            f"{noop['median']:,.0f} events/s",
            f"median of {len(noop['windows'])} windows ({spread(noop['windows'])}); "
            "same bodies, same app and uvicorn setup, JSON decoded and write key checked",
        ),
        ("ingest / no-op", f"**{ratio:.2f}**", "share of the HTTP ceiling that ingest reaches"),
        (
            "batch latency (ingest)",
            f"p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms",
            f"100 events per request, {ing['connections']} connections; "
            f"no-op p50 {nlat['p50']:.1f} ms, p99 {nlat['p99']:.1f} ms",
        ),
        (
            "server CPU (CPU 0)",
            f"{ing['server_cpu']:.0%} ingest, {noop['server_cpu']:.0%} no-op",
            "process CPU time / wall time, all threads",
        ),
        (
            "load generator CPU (CPU 1)",
            f"{ing['generator_cpu']:.0%} ingest, {noop['generator_cpu']:.0%} no-op",
            f"body building alone: {r['build_rate']:,.0f} events/s on one core",
        ),
        ("server RSS after the ingest run", mib(ing["rss_kib_end"]), ""),
    ]
    if errors:
        rows.append(("errors", errors, "requests that did not get HTTP 200 / connection errors"))
    return [
        "### Ingest and the HTTP ceiling",
        "",
        "| measure | figure | notes |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
    ]


def admit_lines(r: dict[str, Any]) -> list[str]:
    a = r["admit"]
    head = ["### Admission", ""]
    if not a["available"]:
        return [*head, f"Not measured: {a['detail']} (the endpoint had not landed yet).", ""]
    lat = a["latency_ms"]
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(a["reasons"].items()))
    errors = ", ".join(f"{k}: {v}" for k, v in a["errors"].items()) or "none"
    rows = [
        (
            "admission `POST /v1/admit`",
            f"**{a['median']:,.0f} decisions/s**",
            f"median of {len(a['windows'])} windows ({spread(a['windows'])}); "
            f"{a['connections']} concurrent clients; target ≥ 3,000/s",
        ),
        (
            "latency",
            f"p50 {lat['p50']:.1f} ms, **p99 {lat['p99']:.1f} ms**",
            f"max {lat['max']:.1f} ms; target p99 ≤ 20 ms",
        ),
        (
            "mix",
            f"{a['new_share']:.0%} new persons",
            f"the rest among {a['known']:,} persons ingested before (seeded: "
            f"{a['seeded']:,} events); reasons: {reasons}",
        ),
        ("server / generator CPU", f"{a['server_cpu']:.0%} / {a['generator_cpu']:.0%}", ""),
        ("errors", errors, ""),
    ]
    return [
        *head,
        f"Org `{CAPPED_ORG}` with a hard cap of {CAP:,} (never reached here), on the same server "
        "right after the ingest run, once the journal it left is folded (a usage read waits "
        "for it).",
        "",
        "| measure | figure | notes |",
        "|---|---|---|",
        *[f"| {x} | {y} | {z} |" for x, y, z in rows],
        "",
    ]


def memory_lines(r: dict[str, Any]) -> list[str]:
    m = r["memory"]
    start, minute, end, state = m["start"], m["at_minute"], m["end"], m["state_bytes"]
    growth = end["rss_kib"] - minute["rss_kib"]
    events_after = end["impressions"] - minute["impressions"]
    persons_after = end["mau"] - minute["mau"]
    per_person = (state["bytes"] + state["graph_bytes"]) / max(1, end["mau"])
    mark = f"{m['minute_mark']:.0f} s"
    saturated = m["median"] < 0.9 * m["rate"]
    rows = [
        ("RSS at start (idle, empty store)", mib(start["rss_kib"]), ""),
        (f"RSS after {mark}", mib(minute["rss_kib"]), f"MAU {minute['mau']:,}"),
        (
            f"RSS at the end ({m['elapsed']:.0f} s)",
            mib(end["rss_kib"]),
            f"MAU {end['mau']:,}; {end['impressions']:,} events stored; "
            f"peak of the samples {mib(m['peak_kib'])}",
        ),
        (
            f"RSS growth after {mark}",
            f"**{growth / 1024:+,.1f} MiB**",
            f"{growth * 1024 / max(1, events_after):.1f} bytes per event stored meanwhile "
            f"({events_after:,} events)",
        ),
        (
            f"counting state growth after {mark}",
            f"**{persons_after * per_person / 2**20:+,.2f} MiB**",
            f"{persons_after:+,} persons × {per_person:.0f} bytes/person; at the end: bitmaps "
            f"{state['bytes'] / 1024:,.0f} KiB, identity graph {state['ids']:,} ids "
            f"≈ {state['graph_bytes'] / 2**20:,.1f} MiB",
        ),
        (
            "dedupe index growth (expected)",
            f"{events_after * 8 / 2**20:+,.1f} MiB",
            "8 bytes per stored messageId hash (store/dedupe.py), grows with events by design",
        ),
        (
            "rate held",
            f"{m['median']:,.0f} events/s",
            f"median of {len(m['windows'])} windows; requested {m['rate']:,.0f}"
            + (" (the server could not keep it: saturated)" if saturated else ""),
        ),
    ]
    series = m["series"]
    step = max(1, len(series) // 12)
    shown = series[::step] + ([series[-1]] if (len(series) - 1) % step else [])
    return [
        "### Memory",
        "",
        f"`maumeter serve` on an empty store, ingest at a steady {m['rate']:,.0f} events/s "
        "(20,000 or 3/4 of the sustained ingest rate, the lower) for "
        f"{m['elapsed']:.0f} s; the first pass visits each of the {r['args']['persons']:,} "
        "persons once, then the same pool is reused (Zipf), so the counting state stops "
        f"growing once the pass is done. VmRSS sampled every {m['every']:g} s; the counting "
        "state is measured by reopening the store afterwards.",
        "",
        "| measure | figure | notes |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        "| t (s) | RSS | MAU | events stored |",
        "|---|---|---|---|",
        *[f"| {t:g} | {mib(rss)} | {mau:,} | {imp:,} |" for t, rss, mau, imp in shown],
        "",
    ]


def section_header(args: argparse.Namespace, cpu: str) -> list[str]:
    return [
        SECTION,
        "",
        f"`{command_line(args)}` (or `make bench-service`)",
        "",
        f"Last run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}: `maumeter serve` pinned to CPU 0 "
        "(`taskset -c 0`), the load generator (bench/loadgen.py: raw asyncio HTTP/1.1 "
        "keep-alive on uvloop) in its own process pinned to CPU 1. The machine is a shared, "
        f"noisy VM: rates are medians of {args.window:g}-s windows after a "
        f"{args.warmup:g}-s warm-up; read the ratios. Load average (1 min) "
        f"{args.load_before} before the run, {args.load_after} after it (other work on the "
        f"box shows here). Code: {code_version()}.",
        "",
        f"Load: batches of 100 `track` events (~{args.body_bytes:.0f} bytes of JSON per event: "
        "properties, context with library, IP, locale, user agent), every `messageId` unique, "
        f"{args.persons:,} persons (Zipf-like, exponent 0.8, 25 % anonymous), HTTP Basic "
        f"write key, {args.connections} keep-alive connections; an event counts only if its "
        "request got HTTP 200, sent after the durable group commit. The per-key rate limit "
        "(`MAUMETER_RATE_LIMIT`, 2,000 requests/s by default) is raised to 10⁹ for the runs "
        "so it cannot set the pace; its check still runs on every request.",
        "",
    ]


def code_version() -> str:
    """Which maumeter was measured: the repo's commit (dirty or not), or where it came from."""
    import maumeter

    where = Path(maumeter.__file__).resolve().parent
    if where != REPO / "src" / "maumeter":
        return f"maumeter from {where}"

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)

    head = git("rev-parse", "--short", "HEAD").stdout.strip() or "unknown"
    dirty = bool(git("status", "--porcelain", "--", "src").stdout.strip())
    return f"commit {head}" + (" with uncommitted changes in src/" if dirty else "")


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def command_line(args: argparse.Namespace) -> str:
    parts = ["python -m bench.service"]
    if args.seconds != 30:
        parts.append(f"--seconds {args.seconds:g}")
    if args.only:
        parts.append(f"--only {args.only}")
    return " ".join(parts)


def machine() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        return re.search(r"model name\s*:\s*(.+)", text).group(1).strip()  # type: ignore[union-attr]
    except (OSError, AttributeError):
        return platform.machine()


def write_section(path: Path, header: list[str], parts: dict[str, list[str]]) -> None:
    """Replace the service section (or only the given parts of it) in ``path``."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    old_parts: dict[str, str] = {}
    if start >= 0:
        nxt = text.find("\n## ", start + len(SECTION))
        end = len(text) if nxt < 0 else nxt + 1
        old = text[start:end]
        before, after = text[:start], text[end:]
        for name, title in TITLES.items():
            at = old.find(title)
            if at >= 0:
                stop = old.find("\n### ", at + len(title))
                old_parts[name] = old[at : len(old) if stop < 0 else stop + 1]
    else:
        before, after = text.rstrip("\n") + "\n\n", ""
    body = "\n".join(header) + "\n"
    for name in TITLES:
        if name in parts:
            body += "\n".join(parts[name]) + "\n"
        elif name in old_parts:
            body += old_parts[name].rstrip("\n") + "\n\n"
    path.write_text(before + body.rstrip("\n") + "\n" + ("\n" + after if after else ""))


TITLES = {
    "ingest": "### Ingest and the HTTP ceiling",
    "admit": "### Admission",
    "memory": "### Memory",
    # Written by hand from a profiling session (py-spy, perf); kept as is by later runs.
    "profile": "### Where the server spends its time",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30, help="Measured seconds per run.")
    parser.add_argument("--only", choices=PARTS)
    parser.add_argument("--warmup", type=float, default=None, help="Default: min(5, seconds/4).")
    parser.add_argument("--window", type=float, default=None, help="Default: min(5, seconds/4).")
    parser.add_argument("--memory-seconds", type=float, default=None, help="Default: 10×seconds.")
    parser.add_argument(
        "--memory-rate",
        type=float,
        default=0,
        help="Events/s of the memory run; default: 20,000 or 3/4 of the measured ingest rate.",
    )
    parser.add_argument(
        "--server-cpus",
        default="0",
        help="CPUs the server may use (taskset list); the load generator stays on CPU 1.",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="Ingest connections (32, as many as the admission clients).",
    )
    parser.add_argument("--admit-connections", type=int, default=32)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--known", type=int, default=20_000)
    parser.add_argument("--new-share", type=float, default=0.5)
    parser.add_argument("--output", type=Path, default=ROOT / "RESULTS.md")
    parser.add_argument("--json", type=Path, help="Also write the raw results here.")
    args = parser.parse_args(argv)
    quick = min(5.0, args.seconds / 4)
    args.warmup = quick if args.warmup is None else args.warmup
    args.window = quick if args.window is None else args.window
    if args.memory_seconds is None:
        args.memory_seconds = 10 * args.seconds
    parts = (args.only,) if args.only else PARTS
    SERVER_CPUS[0] = args.server_cpus
    with_cpu = os.sched_getaffinity(0)
    if len(with_cpu) > 1 and 1 in with_cpu:
        os.sched_setaffinity(0, {1})  # keep the orchestrator off the server's core
    args.load_before = load_average()
    results = measure(args, parts)
    args.load_after = load_average()
    results["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    from bench.loadgen import BodyMaker, Persons

    args.body_bytes = len(BodyMaker(Persons(1000, length=1000)).batch(0)) / 100
    lines: dict[str, list[str]] = {}
    if "ingest" in results:
        lines["ingest"] = ingest_lines(results)
    if "admit" in results:
        lines["admit"] = admit_lines(results)
    if "memory" in results:
        lines["memory"] = memory_lines(results)
    write_section(args.output, section_header(args, machine()), lines)
    print("\n".join(line for part in lines.values() for line in part))
    medians = {k: v.get("median") for k, v in results.items() if isinstance(v, dict)}
    print(json.dumps({k: v for k, v in medians.items() if v is not None}), file=sys.stderr)


if __name__ == "__main__":
    main()
