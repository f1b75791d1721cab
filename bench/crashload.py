"""kill -9 durability: a load generator against a real `maumeter serve` that is SIGKILLed and
restarted on the same store file, then an audit of the store against what the server acknowledged.

Shared by the bounded e2e test (``tests/e2e/test_crash.py``) and the soak
(``python -m bench.crash_soak``). One *run* is one fresh store and one seed:

- Several sender threads post Segment ``/v1/batch`` requests (HTTP Basic, write key as user) over
  keep-alive connections. Each new batch has its own *fresh* message ids, all sharing the batch's
  prefix; some batches repeat a fresh event inside themselves, and some carry re-sends of earlier
  message ids (acknowledged, lost, or still in flight in another request). A batch whose answer
  was lost (the server died under it) is, half of the time, re-sent verbatim later, like an SDK
  retry; the other half it is abandoned, so some lost batches stay judgeable at the end.
- A controller lets the load run for a random short while, SIGKILLs the server, restarts it on the
  same file (a new port) and repeats.
- The ledger records every request, its ids and its outcome: ``acked`` (HTTP 200 with every record
  accepted or reported duplicate: all its message ids are durably committed), ``lost`` (no
  answer), or ``refused`` (another status).

The audit (server stopped cleanly) checks: every acknowledged message id is stored exactly once
(and no message id is stored twice at all, and each stored row carries the user id that was
sent); a lost batch is stored entirely or not at all (judged on its fresh ids that no other
request carried); ``maumeter verify`` exits 0; the MAU the restarted server reports and the MAU
``maumeter mau`` prints both equal the distinct user ids among the stored events, per month.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx

BIN = Path(sys.executable).parent / "maumeter"
ORG, PROJECT = "acme", "web"


# ---- the server process ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(db: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "--db", str(db), *args], capture_output=True, text=True, timeout=timeout
    )


class ServerDied(RuntimeError):
    """The server did not come up on the store (a crash on restart is a durability bug)."""


class ServerProcess:
    """`maumeter serve --no-demo` on one store file; output appended to ``log``."""

    def __init__(self, db: Path, log: Path) -> None:
        self.db = db
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.starts = 0
        self.start_seconds: list[float] = []

    def start(self, timeout: float = 60) -> str:
        """Start and wait for /healthz; retries on a port lost to another process."""
        for _ in range(3):
            began = time.monotonic()
            port = free_port()
            with self.log.open("ab") as out:
                out.write(f"--- start {self.starts + 1} on port {port}\n".encode())
                out.flush()
                self.process = subprocess.Popen(
                    [str(BIN), "--db", str(self.db), "serve", "--port", str(port), "--no-demo"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            url = f"http://127.0.0.1:{port}"
            deadline = began + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        self.starts += 1
                        self.start_seconds.append(time.monotonic() - began)
                        self.url = url
                        return url
                except httpx.HTTPError:
                    time.sleep(0.05)
            else:
                self.kill()
                raise ServerDied(f"the server did not answer /healthz in {timeout:.0f} s")
            if "address already in use" not in self.tail().lower():
                break
        raise ServerDied(
            f"the server exited with {self.process.returncode} on start:\n{self.tail()}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown code of the server runs."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self) -> int:
        """SIGTERM, the clean shutdown; returns the exit status."""
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9999

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# ---- the ledger -----------------------------------------------------------------------------


@dataclass
class Request:
    index: int
    group: int  # the index of the original batch; a verbatim re-send shares it
    events: list[dict[str, Any]]
    fresh: list[str]  # the original batch's own new message ids
    ids: frozenset[str]
    known: frozenset[str]  # ids already acknowledged when this request was built
    outcome: str = "pending"  # acked | lost | refused
    status: int | None = None
    error: str = ""  # for a lost request: the transport error (ConnectError: never arrived)


@dataclass
class Config:
    seed: int
    kills: int = 20
    seconds: float = 60.0  # the load phase stops at this, kills or not
    senders: int = 4
    min_load: float = 0.2  # seconds of load between a restart and the next kill
    max_load: float = 1.2
    users: int = 50_000  # the long tail (plus 200 regulars)
    max_batch: int = 40
    overlap: bool = True  # re-sends may race a request still in flight with the same ids
    timeout: float = 30.0  # per request; a timeout is recorded as a problem (a hang)


@dataclass
class Report:
    seed: int
    kills: int = 0
    kills_mid_request: int = 0
    requests: int = 0
    acked: int = 0
    lost: int = 0
    lost_in_flight: int = 0  # lost after the request reached the server
    refused: int = 0
    retries: int = 0
    lost_judged: int = 0
    lost_stored_whole: int = 0
    acked_ids: int = 0
    stored_events: int = 0
    mau: dict[str, int] = field(default_factory=dict)
    http_mau: dict[str, int] | None = None  # the restarted server's answer (None: not asked)
    seconds: float = 0.0
    start_seconds: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        starts = self.start_seconds or [0.0]
        return (
            f"seed {self.seed}: {self.kills} kills ({self.kills_mid_request} mid-request), "
            f"{self.requests} requests ({self.acked} acked, {self.lost} lost "
            f"({self.lost_in_flight} in flight), "
            f"{self.refused} refused, {self.retries} verbatim retries), "
            f"{self.acked_ids} acked ids, {self.stored_events} stored events, MAU {self.mau} "
            f"(usage API {self.http_mau}), "
            f"lost batches judged {self.lost_judged} ({self.lost_stored_whole} stored whole), "
            f"restart {min(starts):.2f}-{max(starts):.2f} s, {self.seconds:.1f} s, "
            f"{len(self.problems)} problems"
        )


class Ledger:
    """Every request, its ids and its outcome; shared by the sender threads under one lock."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.event_of: dict[str, dict[str, Any]] = {}
        self.sent: list[str] = []  # every message id, in first-sent order
        self.groups_of: dict[str, set[int]] = {}
        self.acked: set[str] = set()
        self.in_flight: Counter[str] = Counter()
        self.retry: deque[int] = deque()
        self.pending = 0  # requests sent and not answered yet
        self.refused = 0
        self.problems: list[str] = []

    def _event(self, rng: random.Random, message_id: str) -> dict[str, Any]:
        # half from a few regulars, half from a long tail: MAU then moves with every lost event
        regular = rng.random() < 0.5
        user = rng.randrange(200) if regular else 200 + rng.randrange(self.config.users)
        event: dict[str, Any] = {
            "type": "track",
            "userId": f"u{user}",
            "event": "Crash Tested",
            "messageId": message_id,
            "properties": {"n": rng.randrange(1000)},
        }
        if rng.random() < 0.3:  # a device of this user: identities are written in the batch too
            event["anonymousId"] = f"dev-{user}-{rng.randrange(2)}"
        return event

    def build(self, rng: random.Random) -> Request:
        overlap = self.config.overlap
        with self.lock:
            index = len(self.requests)
            request = None
            if self.retry and rng.random() < 0.5:
                group = self.retry.popleft()
                original = self.requests[group]
                if overlap or not any(self.in_flight[i] for i in original.ids):
                    request = Request(
                        index,
                        group,
                        original.events,
                        original.fresh,
                        original.ids,
                        frozenset(original.ids & self.acked),
                    )
                else:
                    self.retry.append(group)
            if request is None:
                request = self._new_batch(rng, index)
            self.requests.append(request)
            self.pending += 1
            for message_id in request.ids:
                self.in_flight[message_id] += 1
                self.groups_of.setdefault(message_id, set()).add(request.group)
            return request

    def _new_batch(self, rng: random.Random, index: int) -> Request:
        prefix = f"s{self.config.seed}-b{index}"
        fresh = [f"{prefix}-{i}" for i in range(rng.randint(1, self.config.max_batch))]
        events = [self._event(rng, m) for m in fresh]
        for e in events:
            self.event_of[e["messageId"]] = e
        self.sent.extend(fresh)
        if rng.random() < 0.3:  # repeats inside the batch
            for _ in range(rng.randint(1, 3)):
                events.insert(rng.randrange(len(events) + 1), dict(rng.choice(events)))
        if rng.random() < 0.4 and len(self.sent) > len(fresh):
            earlier = len(self.sent) - len(fresh)
            for _ in range(rng.randint(1, 5)):  # re-sends, mostly of recent ids
                lo = max(0, earlier - 3000) if rng.random() < 0.8 else 0
                message_id = self.sent[rng.randrange(lo, earlier)]
                if not self.config.overlap and self.in_flight[message_id]:
                    continue
                events.insert(rng.randrange(len(events) + 1), dict(self.event_of[message_id]))
        ids = frozenset(e["messageId"] for e in events)
        return Request(index, index, events, fresh, ids, frozenset(ids & self.acked))

    def finish(self, request: Request, outcome: str, status: int | None, body: Any) -> None:
        with self.lock:
            self.pending -= 1
            for message_id in request.ids:
                self.in_flight[message_id] -= 1
            request.outcome, request.status = outcome, status
            if outcome == "acked":
                self._check_answer(request, body)
                self.acked |= request.ids
            elif outcome == "lost" and request.group == request.index:
                if random.Random(request.index * 7919 + self.config.seed).random() < 0.5:
                    self.retry.append(request.group)
            elif outcome == "refused":
                self.refused += 1
                if self.refused <= 5:
                    self.problems.append(f"request {request.index}: HTTP {status}: {body}")
                elif self.refused == 6:
                    self.problems.append("... more requests were refused (see statuses)")

    def _check_answer(self, request: Request, body: Any) -> None:
        n, distinct = len(request.events), len(request.ids)
        if not isinstance(body, dict) or body.get("rejected") != []:
            self.problems.append(f"request {request.index}: 200 with rejections: {body}")
            return
        accepted, duplicates = body.get("accepted"), body.get("duplicates")
        if accepted + duplicates != n:
            self.problems.append(
                f"request {request.index}: {n} records but accepted {accepted} + "
                f"duplicates {duplicates}"
            )
        if accepted > distinct - len(request.known):
            self.problems.append(
                f"request {request.index}: accepted {accepted} of {distinct} distinct ids, "
                f"but {len(request.known)} of them were acknowledged before: stored twice?"
            )


# ---- the run --------------------------------------------------------------------------------


def setup(db: Path) -> tuple[str, str | None]:
    """Org `acme`, project `web` (any activity); returns the write key and the org's secret key
    (None where `org create --json` prints none)."""
    created = cli(db, "org", "create", ORG, "--json")
    if created.returncode != 0:
        raise RuntimeError(f"org create failed: {created.stderr}")
    secret = json.loads(created.stdout).get("secret_key")
    project = cli(db, "project", "create", ORG, PROJECT, "--json")
    if project.returncode != 0:
        raise RuntimeError(f"project create failed: {project.stderr}")
    return str(json.loads(project.stdout)["write_key"]), secret


def sender(
    ledger: Ledger,
    server: ServerProcess,
    key: str,
    up: threading.Event,
    stop: threading.Event,
    rng: random.Random,
) -> None:
    with httpx.Client(auth=(key, ""), timeout=ledger.config.timeout) as client:
        while not stop.is_set():
            if not up.wait(0.2):
                continue
            request = ledger.build(rng)
            try:
                response = client.post(server.url + "/v1/batch", json={"batch": request.events})
            except httpx.TimeoutException as exc:
                ledger.finish(request, "lost", None, None)
                with ledger.lock:
                    ledger.problems.append(f"request {request.index}: timed out ({exc!r})")
                continue
            except httpx.TransportError as exc:
                request.error = type(exc).__name__
                ledger.finish(request, "lost", None, None)
                time.sleep(0.02)
                continue
            try:
                body = response.json()
            except ValueError:
                body = response.text
            if response.status_code == 200:
                ledger.finish(request, "acked", 200, body)
            else:
                ledger.finish(request, "refused", response.status_code, body)


def run(workdir: Path, config: Config, log: Any = None) -> Report:
    """One run on a fresh store in ``workdir``; ``log`` (a callable) hears progress."""
    say = log or (lambda _line: None)
    began = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "crash.duckdb"
    key, secret = setup(db)
    server = ServerProcess(db, workdir / "server.log")
    ledger = Ledger(config)
    report = Report(config.seed)
    http_mau: dict[str, int] | None = None
    audit_store = True
    rng = random.Random(config.seed)
    up, stop = threading.Event(), threading.Event()
    threads = [
        threading.Thread(
            target=sender,
            args=(ledger, server, key, up, stop, random.Random(config.seed * 100 + i)),
            name=f"sender-{i}",
            daemon=True,
        )
        for i in range(config.senders)
    ]
    try:
        server.start()
        up.set()
        for t in threads:
            t.start()
        deadline = began + config.seconds
        while report.kills < config.kills and time.monotonic() < deadline:
            time.sleep(rng.uniform(config.min_load, config.max_load))
            up.clear()
            if server.process is not None and server.process.poll() is not None:
                raise ServerDied(f"the server died by itself:\n{server.tail()}")
            busy = ledger.pending
            server.kill()
            report.kills += 1
            report.kills_mid_request += busy > 0
            server.start()
            up.set()
        stop.set()
        for t in threads:
            t.join(config.timeout + 5)
        # The last restart is clean of load: its live counts were rebuilt from the log alone.
        server.kill()
        server.start()
        try:
            http_mau = report.http_mau = months_mau_http(server.url, secret)
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            report.problems.append(f"usage API after the final restart: {exc!r}")
        status = server.stop()
        if status not in (0, -signal.SIGTERM):  # uvicorn re-raises the signal it handled
            report.problems.append(f"clean stop exited with {status}:\n{server.tail()}")
    except ServerDied as exc:
        report.problems.append(f"{exc}\n(store: {db}, log: {server.log})")
        stop.set()
        server.kill()
        audit_store = False
    finally:
        stop.set()
        server.kill()
    report.start_seconds = server.start_seconds
    report.problems.extend(ledger.problems)
    tally(ledger, report)
    if audit_store:
        audit(db, ledger, report, http_mau)
    report.seconds = time.monotonic() - began
    say(report.summary())
    return report


def tally(ledger: Ledger, report: Report) -> None:
    for r in ledger.requests:
        report.requests += 1
        report.retries += r.group != r.index
        report.acked += r.outcome == "acked"
        report.lost += r.outcome == "lost"
        report.lost_in_flight += r.outcome == "lost" and r.error != "ConnectError"
        report.refused += r.outcome == "refused"
        if r.status is not None:
            report.statuses[r.status] += 1
    report.acked_ids = len(ledger.acked)


def months_mau_http(url: str, secret: str | None) -> dict[str, int] | None:
    """The current month's MAU from the usage API (None when it refuses our credentials)."""
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    response = httpx.get(f"{url}/api/v1/orgs/{ORG}/usage", headers=headers, timeout=30)
    if response.status_code in (401, 403):  # the CLI's figures are checked all the same
        return None
    response.raise_for_status()
    body = response.json()
    return {str(body["month"]): int(body["mau"])}


# ---- the audit ------------------------------------------------------------------------------


def audit(db: Path, ledger: Ledger, report: Report, http_mau: dict[str, int] | None) -> None:
    problems = report.problems
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT message_id, user_id FROM events").fetchall()
        repeated = con.execute(
            "SELECT message_id, count(*) FROM events GROUP BY message_id HAVING count(*) > 1 "
            "ORDER BY message_id"
        ).fetchall()
        months = con.execute(
            "SELECT strftime(billing_time AT TIME ZONE 'UTC', '%Y-%m') AS m, "
            "count(DISTINCT user_id) FROM events WHERE type = 'track' GROUP BY m ORDER BY m"
        ).fetchall()
    finally:
        con.close()
    report.stored_events = len(rows)
    stored: Counter[str] = Counter(m for m, _ in rows)

    # 1. every acknowledged id exactly once; nothing twice; nothing we never sent; right content
    if repeated:
        sample = ", ".join(f"{m} x{n}" for m, n in repeated[:10])
        problems.append(f"{len(repeated)} message ids stored more than once: {sample}")
    missing = sorted(m for m in ledger.acked if stored[m] == 0)
    if missing:
        problems.append(
            f"{len(missing)} acknowledged message ids are not stored: {', '.join(missing[:10])}"
        )
    unknown = sorted(m for m in stored if m not in ledger.event_of)
    if unknown:
        problems.append(f"{len(unknown)} stored message ids were never sent: {unknown[:10]}")
    wrong = [(m, u) for m, u in rows if m in ledger.event_of and ledger.event_of[m]["userId"] != u]
    if wrong:
        problems.append(f"{len(wrong)} stored events carry another user id: {wrong[:10]}")

    # 2. a batch without an answer is stored whole or not at all
    answered = {r.group for r in ledger.requests if r.outcome == "acked"}
    for group in sorted({r.group for r in ledger.requests if r.outcome != "acked"} - answered):
        original = ledger.requests[group]
        own = [m for m in original.fresh if ledger.groups_of.get(m) == {group}]
        if not own:
            continue
        found = sum(1 for m in own if stored[m])
        report.lost_judged += 1
        report.lost_stored_whole += found == len(own)
        if found not in (0, len(own)):
            problems.append(
                f"batch {group} got no answer and is half stored: {found} of its {len(own)} "
                f"own fresh ids (e.g. {own[0]} stored={bool(stored[own[0]])})"
            )

    # 3. the recount from the raw log equals the live counts
    verified = cli(db, "verify", ORG)
    if verified.returncode != 0:
        problems.append(
            f"maumeter verify exited {verified.returncode}: {verified.stdout}{verified.stderr}"
        )

    # 4. MAU = distinct user ids of the stored events, per month (CLI), and for the current
    #    month as the restarted server reported it
    expected = {m: int(n) for m, n in months}
    report.mau = expected
    for month, n in expected.items():
        shown = cli(db, "mau", ORG, "--month", month, "--json")
        if shown.returncode != 0:
            problems.append(f"maumeter mau --month {month} failed: {shown.stderr}")
            continue
        mau = json.loads(shown.stdout)["mau"]
        if mau != n:
            problems.append(f"maumeter mau {month}: {mau}, but {n} distinct users are stored")
    for month, mau in (http_mau or {}).items():
        if mau != expected.get(month, 0):
            problems.append(
                f"usage API after restart, {month}: MAU {mau}, "
                f"but {expected.get(month, 0)} distinct users are stored"
            )
