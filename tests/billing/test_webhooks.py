"""Webhooks in process: signed deliveries to a real local receiver, retries on the real
schedule (shortened, on the test's clock), the delivery log, refusals, the persistent queue."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from e2e.receiver import Receiver, scripted, seeded
from maumeter.billing.webhooks import DeliveryPolicy
from maumeter.core import signing
from maumeter.core.errors import InvalidInput, NotFound
from maumeter.meter import Meter

from .conftest import FAST, activate


def settle(meter: Meter, clock, rounds: int = 200, step: float = 5.0) -> int:
    """Tick deliveries, moving the clock, until none is pending; returns the ticks taken."""
    for n in range(rounds):
        meter.webhooks.tick(clock())
        if all(d.state != "pending" for d in meter.webhooks.deliveries("acme", limit=1000)):
            return n
        clock.advance(seconds=step)
    raise AssertionError("deliveries still pending")


def test_delivery_is_signed_and_carries_the_alert(acme: Meter, receiver: Receiver, clock) -> None:
    hook, secret = acme.webhooks.add("acme", receiver.url)
    assert secret.startswith("whsec_") and hook.url == receiver.url
    receiver.secrets.append(secret)
    activate(acme, 0, 8)  # 80 % of 10
    fired = acme.alerts.check("acme", clock())
    assert [a.key for a in fired][:1] == ["threshold:80"]
    assert acme.webhooks.tick(clock()) == len(fired)
    got = {r.event_id: r for r in receiver.received}
    assert set(got) == {a.event_id for a in fired}
    first = got[fired[0].event_id]
    assert first.verified  # core.signing.verify on the receiver's side
    assert first.json == {
        "id": fired[0].event_id,
        "type": "mau.threshold",
        "org": "acme",
        "month": "2024-03",
        "threshold": 80,
        "mau": 8,
        "cap": 10,
        "projection": fired[0].projected,
    }
    # a wrong secret does not verify
    ts, sig = first.headers["maumeter-timestamp"], first.headers["maumeter-signature"]
    assert not signing.verify("whsec_other", ts, first.body, sig, clock())
    assert first.headers["content-type"] == "application/json"
    log = acme.webhooks.deliveries("acme")
    assert {d.state for d in log} == {"delivered"}
    assert all(len(d.attempts) == 1 and d.attempts[0].status == 200 for d in log)


def test_retries_follow_the_backoff_and_the_log_shows_each_attempt(
    acme: Meter, receiver: Receiver, clock
) -> None:
    receiver.behave = scripted("fail", "hang", "fail")
    _, secret = acme.webhooks.add("acme", receiver.url)
    receiver.secrets.append(secret)
    acme.alerts.configure("acme", [50], projected=False)
    activate(acme, 0, 5)
    assert [a.key for a in acme.alerts.check("acme", clock())] == ["threshold:50"]
    start = clock()
    acme.webhooks.tick(clock())  # attempt 1: 500
    (delivery,) = acme.webhooks.deliveries("acme")
    assert delivery.state == "pending" and delivery.next_attempt is not None
    wait = delivery.next_attempt - start
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=10)  # base 10 s, equal jitter
    clock.advance(seconds=4)
    assert acme.webhooks.tick(clock()) == 0  # not due yet: nothing sent
    assert len(receiver.received) == 1
    settle(acme, clock)
    (delivery,) = acme.webhooks.deliveries("acme")
    assert delivery.state == "delivered"
    assert [(a.attempt, a.status) for a in delivery.attempts] == [
        (1, 500),
        (2, None),
        (3, 500),
        (4, 200),
    ]
    assert "timed out after 0.3 s" in (delivery.attempts[1].error or "")
    assert delivery.attempts[1].duration_ms >= 250
    gaps = [b.at - a.at for a, b in zip(delivery.attempts, delivery.attempts[1:], strict=False)]
    assert gaps == sorted(gaps)  # backing off
    assert all(r.verified for r in receiver.received)  # every attempt is signed afresh
    assert len({r.body for r in receiver.received}) == 1  # with the same body


def test_gives_up_after_the_retry_window(acme: Meter, receiver: Receiver, clock) -> None:
    receiver.behave = lambda: "fail"
    acme.webhooks.add("acme", receiver.url)
    acme.alerts.configure("acme", [10], projected=False)
    activate(acme, 0, 1)
    acme.alerts.check("acme", clock())
    settle(acme, clock)
    (delivery,) = acme.webhooks.deliveries("acme")
    assert delivery.state == "failed" and delivery.next_attempt is None
    expected = signing.schedule(
        delivery.created_at, jitter=None, window=FAST.window
    )  # without jitter: the fewest attempts the window allows
    assert len(delivery.attempts) >= len(expected) - 1
    assert delivery.attempts[-1].at - delivery.created_at <= FAST.window
    assert all(a.status == 500 for a in delivery.attempts)


def test_random_failures_and_timeouts_every_alert_arrives_signed(acme: Meter, clock) -> None:
    from e2e.receiver import running

    receiver = Receiver(behave=seeded(7, 0.4, 0.15), clock=lambda: clock().timestamp(), hang=0.6)
    with running(receiver):
        hooks = [acme.webhooks.add("acme", receiver.url) for _ in range(2)]
        receiver.secrets.extend(secret for _, secret in hooks)
        acme.alerts.configure("acme", [20, 40, 60, 80, 100], projected=False)
        fired = []
        for n in (2, 4, 6, 8, 10):
            activate(acme, n - 2, n)
            fired += acme.alerts.check("acme", clock())
        assert [a.threshold for a in fired] == [20, 40, 60, 80, 100]
        settle(acme, clock)
    log = acme.webhooks.deliveries("acme")
    assert len(log) == 10 and {d.state for d in log} == {"delivered"}
    assert any(len(d.attempts) > 1 for d in log)  # the seed made some fail first
    ok = [r for r in receiver.received if r.answered == "ok"]
    assert {(r.event_id, r.headers["maumeter-signature"][:3]) for r in ok} == {
        (a.event_id, "v1=") for a in fired
    }
    assert all(r.verified for r in receiver.received)


def test_url_refusals(acme: Meter, receiver: Receiver) -> None:
    strict = acme.webhooks
    strict.configure(DeliveryPolicy())  # no allow list
    refused = [
        receiver.url,  # loopback
        "http://localhost:9/x",
        "http://[::1]:9/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "http://[fe80::1]/x",
        "http://0.0.0.0/x",
        "http://127.1/x",
        "ftp://93.184.216.34/x",
        "file:///etc/passwd",
        "http://user:pw@93.184.216.34/x",
        "not a url",
    ]
    for url in refused:
        with pytest.raises(InvalidInput) as caught:
            strict.add("acme", url)
        assert caught.value.problems[0].field == "url", url
    assert strict.list("acme") == []
    # a public address is fine without asking anyone
    hook, _ = strict.add("acme", "https://93.184.216.34/hooks")
    assert strict.list("acme") == [hook]
    # the operator's allow list admits loopback
    strict.configure(FAST)
    assert strict.add("acme", receiver.url)[0].url == receiver.url
    assert "http://10.1.2.3/x" in refused
    with pytest.raises(InvalidInput):
        strict.add("acme", "http://10.1.2.3/x")  # allowed: loopback only


def test_each_attempt_re_resolves_and_connects_to_the_checked_address(
    meter: Meter, receiver: Receiver, clock
) -> None:
    """A host that resolved to a public address when registered and to a private one later
    (DNS rebinding) is refused at the attempt; the request goes to the address checked, with
    the name in the Host header."""
    answers = {"hooks.example.test": ["93.184.216.34"]}
    hooks = type(meter.webhooks)(meter, resolver=lambda host, port: answers.get(host, []))
    meter.create_org("acme", cap=10, policy="soft")
    meter.create_project("acme", "web")
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://hooks.example.test:{port}/in"
    hooks.add("acme", url)
    answers["hooks.example.test"] = ["10.0.0.7"]  # rebinding
    meter.alerts.configure("acme", [10], projected=False)
    activate(meter, 0, 1)
    meter.alerts.check("acme", clock())
    hooks.tick(clock())
    (delivery,) = hooks.deliveries("acme")
    assert delivery.state == "pending" and receiver.received == []
    assert "refused" in (delivery.attempts[0].error or "")
    assert "10.0.0.7" in (delivery.attempts[0].error or "")
    # now the name points at loopback, which the operator allows: pinned to 127.0.0.1
    answers["hooks.example.test"] = ["127.0.0.1"]
    hooks.configure(FAST)
    clock.advance(minutes=1)
    hooks.tick(clock())
    (delivery,) = hooks.deliveries("acme")
    assert delivery.state == "delivered"
    assert receiver.received[0].headers["host"] == f"hooks.example.test:{port}"


def test_remove_cancels_pending_deliveries_and_keeps_the_log(
    acme: Meter, receiver: Receiver, clock
) -> None:
    receiver.behave = lambda: "fail"
    hook, _ = acme.webhooks.add("acme", receiver.url)
    acme.alerts.configure("acme", [10], projected=False)
    activate(acme, 0, 1)
    acme.alerts.check("acme", clock())
    acme.webhooks.tick(clock())
    removed = acme.webhooks.remove("acme", hook.id)
    assert removed.id == hook.id and acme.webhooks.list("acme") == []
    (delivery,) = acme.webhooks.deliveries("acme", webhook_id=hook.id)
    assert delivery.state == "cancelled" and len(delivery.attempts) == 1
    clock.advance(hours=1)
    assert acme.webhooks.tick(clock()) == 0
    with pytest.raises(NotFound):
        acme.webhooks.remove("acme", hook.id)


def test_orgs_see_only_their_own_webhooks(acme: Meter, receiver: Receiver) -> None:
    acme.create_org("beta")
    hook, _ = acme.webhooks.add("acme", receiver.url)
    assert acme.webhooks.list("beta") == []
    with pytest.raises(NotFound):
        acme.webhooks.remove("beta", hook.id)
    with pytest.raises(NotFound):
        acme.webhooks.deliveries("beta", webhook_id=hook.id)
    assert acme.webhooks.list("acme") == [hook]


def test_the_queue_survives_a_restart(tmp_path: Path, receiver: Receiver, clock) -> None:
    db = tmp_path / "queue.duckdb"
    receiver.behave = scripted("fail")
    with Meter.open(db, clock=clock) as meter:
        meter.create_org("acme", cap=10, policy="soft")
        meter.create_project("acme", "web")
        meter.webhooks.configure(FAST)
        _, secret = meter.webhooks.add("acme", receiver.url)
        receiver.secrets.append(secret)
        meter.alerts.configure("acme", [10], projected=False)
        activate(meter, 0, 1)
        (alert,) = meter.alerts.check("acme", clock())
        meter.webhooks.tick(clock())  # fails once, then the process stops
    clock.advance(minutes=1)
    with Meter.open(db, clock=clock) as meter:
        meter.webhooks.configure(FAST)
        assert meter.alerts.check("acme", clock()) == []  # fired before the restart
        meter.webhooks.tick(clock())
        (delivery,) = meter.webhooks.deliveries("acme")
        assert delivery.state == "delivered"
        assert [a.status for a in delivery.attempts] == [500, 200]
        assert [a["key"] for a in meter.alerts.describe("acme")["fired"]] == ["threshold:10"]
    assert [r.event_id for r in receiver.received] == [alert.event_id] * 2
    assert all(r.verified for r in receiver.received)
    assert json.loads(receiver.received[1].body)["id"] == alert.event_id


def test_https_is_pinned_to_the_checked_address_with_the_host_as_tls_name() -> None:
    from maumeter.billing.sender import target

    v4 = target(
        "https://hooks.example.test/in?x=1", FAST.allow, lambda host, port: ["93.184.216.34"]
    )
    assert v4.url == "https://93.184.216.34:443/in?x=1"
    assert v4.host == "hooks.example.test"
    assert v4.extensions == {"sni_hostname": "hooks.example.test"}
    v6 = target("https://hooks.example.test:8443", FAST.allow, lambda host, port: ["2606:4700::1"])
    assert v6.url == "https://[2606:4700::1]:8443/"
    assert v6.host == "hooks.example.test:8443"
    with pytest.raises(InvalidInput):  # one bad address among the answers is enough to refuse
        target("https://x.test/", FAST.allow, lambda host, port: ["93.184.216.34", "10.0.0.1"])
    with pytest.raises(InvalidInput):
        target("https://nowhere.test/", FAST.allow, lambda host, port: [])
