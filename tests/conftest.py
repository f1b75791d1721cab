"""Shared fixtures: a Meter on a fresh store with a controllable clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings

from maumeter.meter import Meter

# CI replays a fixed set of examples (a red CI must be reproducible); locally, hypothesis keeps
# exploring new ones and remembers failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


class Clock:
    """A clock the test moves by hand: billing time is whatever it says."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 3, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def meter(tmp_path: Path, clock: Clock) -> Iterator[Meter]:
    with Meter.open(tmp_path / "test.duckdb", clock=clock) as m:
        yield m
