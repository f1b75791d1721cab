"""Alerts in process: thresholds per org, each alert once per month even when checks race."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from e2e.receiver import Receiver
from maumeter.core.errors import InvalidInput
from maumeter.meter import Meter

from .conftest import activate


def test_defaults_and_settings(acme: Meter) -> None:
    assert acme.alerts.describe("acme") == {
        "org": "acme",
        "month": "2024-03",
        "thresholds": [80, 90, 100],
        "projected": True,
        "fired": [],
    }
    acme.alerts.configure("acme", [100, 50, 50])
    assert acme.alerts.settings("acme").to_dict() == {"thresholds": [50, 100], "projected": True}
    acme.alerts.configure("acme", projected=False)  # the thresholds stay
    assert acme.alerts.settings("acme").to_dict() == {"thresholds": [50, 100], "projected": False}
    for bad in ([0], [1001], ["80"], "80", [True]):
        with pytest.raises(InvalidInput) as caught:
            acme.alerts.configure("acme", bad)  # type: ignore[arg-type]
        assert caught.value.problems[0].field.startswith("thresholds")


def test_each_threshold_fires_once_in_ascending_order(acme: Meter, clock) -> None:
    acme.alerts.configure("acme", projected=False)
    activate(acme, 0, 7)
    assert acme.alerts.check("acme", clock()) == []
    activate(acme, 7, 8)
    assert [a.key for a in acme.alerts.check("acme", clock())] == ["threshold:80"]
    assert acme.alerts.check("acme", clock()) == []
    activate(acme, 8, 12)  # past 90 and 100 at once: both fire, in order
    assert [a.threshold for a in acme.alerts.check("acme", clock())] == [90, 100]
    fired = acme.alerts.describe("acme")["fired"]
    assert [(f["key"], f["mau"]) for f in fired] == [
        ("threshold:80", 8),
        ("threshold:90", 12),
        ("threshold:100", 12),
    ]
    assert acme.alerts.tick(clock()) == 0


def test_projected_alert_fires_before_the_cap(acme: Meter, clock) -> None:
    activate(acme, 0, 6)  # day 15 of 31: 6 MAU projects to about 12 > 10
    (alert,) = acme.alerts.check("acme", clock())
    assert alert.key == "projected" and alert.projected is not None and alert.projected > 10
    assert acme.alerts.check("acme", clock()) == []


def test_no_cap_no_alerts(meter: Meter, clock) -> None:
    meter.create_org("free")
    meter.create_project("free", "web")
    activate(meter, 0, 50, org="free")
    assert meter.alerts.check("free", clock()) == []


def test_concurrent_checks_fire_once_and_queue_once(acme: Meter, receiver: Receiver, clock) -> None:
    acme.webhooks.add("acme", receiver.url)
    acme.webhooks.add("acme", receiver.url)
    activate(acme, 0, 10)
    start = threading.Barrier(16)

    def check(_: int) -> list[str]:
        start.wait()
        return [a.key for a in acme.alerts.check("acme", clock())]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(check, range(16)))
    keys = [k for r in results for k in r]
    # 10 of 10 MAU on day 15: every threshold, and the projection (about 20) is over the cap
    assert sorted(keys) == ["projected", "threshold:100", "threshold:80", "threshold:90"]
    deliveries = acme.webhooks.deliveries("acme")
    assert len(deliveries) == 2 * len(keys)  # one per webhook per alert
    assert len({(d.webhook, d.event_id) for d in deliveries}) == len(deliveries)
