"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread.

It verifies each request's signature with ``core.signing.verify`` (as a customer would), and
answers 200, 500, or not at all in time ("hang"), at random from a seed or by a script.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from maumeter.core import signing

Behaviour = str  # "ok", "fail" (500) or "hang" (answer after the sender's timeout)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: Behaviour
    verified: bool

    @property
    def event_id(self) -> str:
        return self.headers.get(signing.EVENT_HEADER.lower(), "")

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; ``behave`` picks each answer (default: always ok)."""

    behave: Callable[[], Behaviour] = lambda: "ok"
    clock: Callable[[], float] = time.time
    hang: float = 2.0
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> Behaviour:
        with self._lock:
            answer = self.behave()
            ts = headers.get(signing.TIMESTAMP_HEADER.lower(), "")
            sig = headers.get(signing.SIGNATURE_HEADER.lower(), "")
            ok = bool(self.secrets) and signing.verify(self.secrets, ts, body, sig, self.clock())
            self.received.append(Received(headers, body, answer, ok))
        return answer

    def delivered(self) -> list[Received]:
        """Requests answered 200, at most one per event id (receivers dedupe by id)."""
        with self._lock:
            seen: dict[str, Received] = {}
            for r in self.received:
                if r.answered == "ok":
                    seen.setdefault(r.event_id, r)
            return list(seen.values())


def seeded(seed: int, fail: float, hang: float) -> Callable[[], Behaviour]:
    """Answers at random, reproducibly: ``fail`` share of 500s, ``hang`` share of timeouts."""
    rng = random.Random(seed)

    def behave() -> Behaviour:
        x = rng.random()
        return "fail" if x < fail else "hang" if x < fail + hang else "ok"

    return behave


def scripted(*answers: Behaviour) -> Callable[[], Behaviour]:
    """The given answers in order, then "ok" forever."""
    queue = list(answers)
    return lambda: queue.pop(0) if queue else "ok"


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = receiver.handle(headers, body)
            if answer == "hang":
                time.sleep(receiver.hang)
            status = 500 if answer == "fail" else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/maumeter"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
