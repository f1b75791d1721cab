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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test has its own node id: pytest-xdist's schedulers (``make test`` runs with
    ``--dist loadfile``) key the work by node id and quietly run one test of a duplicated id.

    Schemathesis 4.32 names each operation's test ``test_x[GET /path]`` but, with pytest 9.2
    (which builds node ids from ``originalname`` and the callspec, not from the name), gives all
    of them the function's id: under xdist only the first operation of each schemathesis test
    ran. Their ids get the operation the name carries."""
    for item in items:
        original = getattr(item, "originalname", None)
        node_id = getattr(item, "_id", None)
        if (
            getattr(item, "operation_label", None) is not None  # a schemathesis test
            and original
            and item.name.startswith(f"{original}[")
            and node_id is not None
            and node_id.params is None
        ):
            item._id = node_id.with_params(item.name[len(original) + 1 : -1])  # type: ignore[attr-defined]
    seen: set[str] = set()
    twice = sorted({i.nodeid for i in items if i.nodeid in seen or seen.add(i.nodeid)})
    if twice:
        raise pytest.UsageError(
            f"{len(twice)} node ids are shared by several tests (pytest-xdist would run only one "
            f"of each): {twice[:5]}"
        )


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
