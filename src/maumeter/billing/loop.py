"""The server's background work: periodic billing tasks on one daemon thread.

Alerts are checked, webhooks delivered, ended months closed and closed months restated by
tasks that run every few seconds while ``maumeter serve`` runs. Each task is idempotent and
keeps its state in the store, so a restart (or a crash) only delays it: nothing is lost and
nothing runs twice. The clock is the meter's, so tests can move time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger("maumeter.billing")

Tick = Callable[[datetime], object]


@dataclass(slots=True)
class Task:
    """A named tick run every ``every`` seconds (first run at once)."""

    name: str
    every: float
    tick: Tick
    due: float = 0.0
    failures: int = field(default=0)


class Loop:
    """Runs tasks on one thread until stopped; a failing task is logged and retried later."""

    def __init__(self, clock: Callable[[], datetime], tasks: list[Task]) -> None:
        self._clock = clock
        self._tasks = tasks
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="maumeter-billing", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def poke(self) -> None:
        """Run due tasks now rather than at the next wake-up (after a burst of traffic)."""
        self._wake.set()

    def run_once(self) -> None:
        """Run every task once, now (tests, and ``maumeter`` commands that want it)."""
        for task in self._tasks:
            self._run_task(task)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for task in self._tasks:
                if self._stop.is_set():
                    return
                if now >= task.due:
                    self._run_task(task)
                    task.due = time.monotonic() + task.every
            pause = min((t.due for t in self._tasks), default=now + 1.0) - time.monotonic()
            self._wake.wait(max(0.01, pause))
            self._wake.clear()

    def _run_task(self, task: Task) -> None:
        try:
            task.tick(self._clock())
            task.failures = 0
        except Exception:  # a task must never take the loop down with it
            task.failures += 1
            log.exception("billing task %s failed (%d in a row)", task.name, task.failures)
