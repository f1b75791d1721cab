"""Billing fixtures: an org near its cap, a fast retry policy, a real local receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from e2e.receiver import Receiver, running
from maumeter.billing.webhooks import DeliveryPolicy
from maumeter.core.destinations import Allowlist
from maumeter.meter import Meter

CAP = 10
LOOPBACK = Allowlist.parse(["127.0.0.0/8", "::1"])
# Seconds, not hours: the schedule is the real one, shortened.
FAST = DeliveryPolicy(
    allow=LOOPBACK,
    timeout=0.3,
    base=timedelta(seconds=10),
    cap=timedelta(seconds=40),
    window=timedelta(minutes=5),
)


@pytest.fixture
def acme(meter: Meter) -> Meter:
    """Org ``acme`` (soft cap of 10 MAU, project ``web``) with the fast policy."""
    meter.create_org("acme", cap=CAP, policy="soft")
    meter.create_project("acme", "web")
    meter.webhooks.configure(FAST)
    return meter


@pytest.fixture
def receiver(clock: object) -> Iterator[Receiver]:
    """A receiver verifying signatures against the test's clock."""
    with running(Receiver(clock=lambda: clock().timestamp(), hang=0.6)) as r:  # type: ignore[operator]
        yield r


def activate(meter: Meter, first: int, last: int, org: str = "acme") -> None:
    """Persons ``u{first}`` .. ``u{last - 1}`` become active this month."""
    records = [{"type": "track", "userId": f"u{i}", "event": "Seen"} for i in range(first, last)]
    assert meter.ingest(records, org, "web").accepted == len(records)
