"""Alerts by signed webhook on the real server: exactly once per threshold under concurrent
ingest and across kill -9 and restart, deliveries resumed from the queue, a receiver that fails
or times out at random, URL refusals, the API and the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Server, cli, start
from .receiver import Receiver, running, seeded

pytestmark = pytest.mark.e2e

FAST = {
    "MAUMETER_WEBHOOK_ALLOW": "127.0.0.0/8,::1",
    "MAUMETER_WEBHOOK_TIMEOUT": "0.5",
    "MAUMETER_WEBHOOK_RETRY_BASE": "0.2",
    "MAUMETER_WEBHOOK_RETRY_MAX": "1",
}
PUBLIC = "https://93.184.216.34/maumeter"  # a public address: accepted, never reached here


def wait_for(what: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what.__doc__ or what}")


def ingest(url: str, key: str, persons: range, threads: int = 8) -> None:
    """Each person sends two events, from many threads at once."""

    def send(i: int) -> int:
        event = {"userId": f"p{i % len(persons) + persons.start}", "event": "Seen"}
        return httpx.post(f"{url}/v1/track", json=event, auth=(key, ""), timeout=30).status_code

    with ThreadPoolExecutor(threads) as pool:
        assert set(pool.map(send, range(2 * len(persons)))) == {200}


def test_alerts_fire_once_across_kill_and_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    db = tmp_path / "alerts.duckdb"
    org = json.loads(
        cli(db, "org", "create", "acme", "--cap", "40", "--policy", "soft", "--json").stdout
    )
    key = json.loads(cli(db, "project", "create", "acme", "web", "--json").stdout)["write_key"]
    secret_key = {"Authorization": f"Bearer {org['secret_key']}"}
    receiver = Receiver(behave=lambda: "fail", hang=1.0)
    with running(receiver):
        process, url = start(db, "--no-demo")
        try:
            api = f"{url}/api/v1/orgs/acme"
            made = httpx.post(f"{api}/webhooks", json={"url": receiver.url}, headers=secret_key)
            assert made.status_code == 201, made.text
            receiver.secrets.append(made.json()["secret"])

            def fired() -> list[str]:
                """the alerts fired"""
                found = httpx.get(f"{api}/alerts", headers=secret_key).json()["fired"]
                return [f["key"] for f in found]

            def failed_at_80() -> bool:
                """a failed attempt at threshold:80 in the server's delivery log"""
                log = httpx.get(f"{api}/webhooks/deliveries", headers=secret_key).json()
                return any(d["payload"].get("threshold") == 80 and d["attempts"] for d in log)

            ingest(url, key, range(0, 34))  # 85 % of 40
            wait_for(lambda: "threshold:80" in fired())
            wait_for(lambda: len(receiver.received) >= 2)  # tried, and failed
            # ... and the server logged it: the receiver's 500 reaches the log a moment after the
            # receiver counts the request, and a kill in between (a busy machine) loses it.
            wait_for(failed_at_80)
            process.kill()  # kill -9, deliveries pending in the queue
            process.wait(timeout=10)

            receiver.behave = seeded(11, 0.3, 0.1)  # from now on: 500s and timeouts at random
            process, url = start(db, "--no-demo")
            api = f"{url}/api/v1/orgs/acme"  # fired() reads the restarted server
            before = fired()
            assert before.count("threshold:80") == 1 and "threshold:90" not in before
            ingest(url, key, range(34, 46))  # 46 of 40: 90 % and 100 %
            wait_for(lambda: {"threshold:90", "threshold:100"} <= set(fired()))

            def all_delivered() -> list[dict[str, Any]]:
                """every delivery delivered"""
                log = httpx.get(f"{api}/webhooks/deliveries", headers=secret_key).json()
                done = log and all(d["state"] == "delivered" for d in log)
                return log if done and len(log) == len(fired()) else []

            log = wait_for(all_delivered, timeout=30)
            keys = fired()
        finally:
            process.terminate()
            process.wait(timeout=30)

    assert len(keys) == len(set(keys))  # each alert once, across the restart
    assert {"threshold:80", "threshold:90", "threshold:100"} <= set(keys)
    event_ids = {d["event_id"] for d in log}
    assert len(event_ids) == len(log) == len(keys)  # one delivery per alert and webhook
    # the alert fired before the kill was delivered after the restart, from the queue
    first = next(d for d in log if d["payload"]["threshold"] == 80)
    assert [a["status"] for a in first["attempts"]][-1] == 200
    # it failed before (the receiver's 500, or its client timeout on a loaded machine)
    assert any(a["status"] == 500 or a["error"] for a in first["attempts"][:-1])
    assert len(first["attempts"]) >= 2
    # the receiver verified every signature, and got each alert (at least once; ids dedupe)
    assert receiver.received and all(r.verified for r in receiver.received)
    assert {r.event_id for r in receiver.delivered()} == event_ids
    assert {r.json["type"] for r in receiver.delivered()} <= {"mau.threshold", "mau.projected"}
    for entry in log:
        assert all((a["status"] is not None) != (a["error"] is not None) for a in entry["attempts"])


def test_refusals_then_the_api_and_the_cli(server: Server) -> None:
    """The `server` fixture has no allow list: loopback is refused like any private address.
    Then the API and the CLI (through the server, then in process) on the same store."""
    api = f"{server.url}/api/v1/orgs/acme"
    refused = [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.0.0.1/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://93.184.216.34/hook",
        "gopher://93.184.216.34/",
    ]
    for url in refused:
        r = httpx.post(f"{api}/webhooks", json={"url": url}, headers=server.secret)
        assert r.status_code == 400, (url, r.text)
        assert r.json()["errors"][0]["field"] == "url"
    made = httpx.post(f"{api}/webhooks", json={"url": PUBLIC}, headers=server.secret)
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    listed = httpx.get(f"{api}/webhooks", headers=server.secret).json()
    assert listed == [{k: v for k, v in made.json().items() if k != "secret"}]
    assert "whsec_" not in httpx.get(f"{api}/webhooks", headers=server.secret).text
    assert httpx.delete(f"{api}/webhooks/{made.json()['id']}", headers=server.secret).is_success
    api_and_cli(server)


def api_and_cli(server: Server) -> None:
    api = f"{server.url}/api/v1/orgs/acme"
    bad = httpx.put(f"{api}/alerts", json={"thresholds": [0, 80]}, headers=server.secret)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"].startswith("thresholds")
    put = httpx.put(f"{api}/alerts", json={"thresholds": [90, 50]}, headers=server.secret)
    assert put.status_code == 200 and put.json()["thresholds"] == [50, 90]
    # the CLI goes through the running server (it holds the store)
    added = cli(server.db, "webhook", "add", "acme", PUBLIC, "--json")
    assert added.returncode == 0, added.stderr
    hook = json.loads(added.stdout)
    assert hook["url"] == PUBLIC and hook["secret"].startswith("whsec_")
    listed = json.loads(cli(server.db, "webhook", "list", "acme", "--json").stdout)
    assert [h["id"] for h in listed] == [hook["id"]]
    alerts = cli(server.db, "alerts", "acme", "--set", "75,100", "--no-projected", "--json")
    assert alerts.returncode == 0, alerts.stderr
    assert json.loads(alerts.stdout)["thresholds"] == [75, 100]
    assert json.loads(alerts.stdout)["projected"] is False
    refused = cli(server.db, "webhook", "add", "acme", "http://127.0.0.1/x")
    assert refused.returncode == 2 and "loopback" in refused.stderr
    log = cli(server.db, "webhook", "deliveries", "acme", "--webhook", str(hook["id"]), "--json")
    assert log.returncode == 0 and json.loads(log.stdout) == []
    # another org's key cannot touch acme's webhooks
    beta = httpx.post(
        f"{server.url}/api/v1/orgs",
        json={"name": "beta"},
        headers={"Authorization": "Bearer mt_e2e_admin_token_for_tests"},
    ).json()["secret_key"]
    other = {"Authorization": f"Bearer {beta}"}
    assert httpx.delete(f"{api}/webhooks/{hook['id']}", headers=other).status_code == 404
    beta_api = f"{server.url}/api/v1/orgs/beta"
    assert httpx.delete(f"{beta_api}/webhooks/{hook['id']}", headers=other).status_code == 404
    removed = cli(server.db, "webhook", "remove", "acme", str(hook["id"]), "--json")
    assert removed.returncode == 0 and json.loads(removed.stdout)["id"] == hook["id"]
    # and in process, once the server has stopped
    server.stop()
    left = cli(server.db, "webhook", "list", "acme", "--json")
    assert left.returncode == 0, left.stderr
    assert json.loads(left.stdout) == []
    shown = cli(server.db, "alerts", "acme")
    assert shown.returncode == 0 and "75 %, 100 %" in shown.stdout
