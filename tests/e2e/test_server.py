"""The real server driven by the real Segment client library and raw HTTP."""

from __future__ import annotations

import gzip
import json
import time

import httpx
from segment.analytics.client import Client

from .conftest import ADMIN, Server, cli, start


def usage(server: Server) -> dict[str, object]:
    response = httpx.get(f"{server.url}/api/v1/orgs/acme/usage", headers=server.secret)
    assert response.status_code == 200
    return response.json()


def test_segment_python_library_moves_the_mau(server: Server) -> None:
    assert usage(server)["mau"] == 0
    errors: list[object] = []
    client = Client(
        server.write_key,
        host=server.url,
        sync_mode=True,
        gzip=True,
        on_error=lambda e, batch: errors.append(e),
        max_retries=0,
    )
    client.track(user_id="ada", event="Logged In", properties={"plan": "pro"})
    client.page(anonymous_id="visitor-1", name="Home", properties={"url": "https://x/"})
    client.identify(user_id="ada", anonymous_id="visitor-1", traits={"email": "ada@example.com"})
    client.flush()
    assert errors == []
    body = usage(server)
    assert (body["mau"], body["identified"], body["anonymous"], body["impressions"]) == (1, 1, 0, 2)
    assert body["org"] == "acme" and body["project"] is None


def test_batch_endpoint_reports_accepted_duplicates_and_rejected(server: Server) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "x", "messageId": "m1"},
            {"type": "track", "userId": "u1", "event": "x", "messageId": "m1"},
            {"type": "track", "userId": "u2"},
        ],
        "context": {"library": {"name": "test"}},
    }
    r = httpx.post(f"{server.url}/v1/batch", json=batch, auth=(server.write_key, ""))
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (1, 1)
    assert body["rejected"] == [
        {
            "index": 2,
            "errors": [
                {"field": "event", "message": "required for track events (the name of the action)"}
            ],
        }
    ]


def test_write_key_in_body_and_gzip(server: Server) -> None:
    payload = gzip.compress(
        json.dumps({"writeKey": server.write_key, "userId": "z", "event": "e"}).encode()
    )
    r = httpx.post(
        f"{server.url}/v1/track",
        content=payload,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1


def test_bad_requests_are_4xx_with_the_field(server: Server) -> None:
    url = server.url
    assert httpx.post(f"{url}/v1/track", json={"userId": "u", "event": "e"}).status_code == 401
    assert (
        httpx.post(
            f"{url}/v1/track", json={"userId": "u", "event": "e"}, auth=("nope", "")
        ).status_code
        == 401
    )
    r = httpx.post(f"{url}/v1/batch", content=b"{not json", auth=(server.write_key, ""))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    r = httpx.post(f"{url}/v1/track", json={"userId": "u"}, auth=(server.write_key, ""))
    assert r.status_code == 400 and r.json()["rejected"][0]["errors"][0]["field"] == "event"
    for body in (
        b'{"userId":"u","event":"e","properties":{"x":NaN}}',
        b"[" * 100_000 + b"]" * 100_000,
    ):
        r = httpx.post(f"{url}/v1/track", content=body, auth=(server.write_key, ""))
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body", r.text
    assert httpx.get(f"{url}/api/v1/orgs/nope/usage", headers=ADMIN).status_code == 404
    r = httpx.get(f"{url}/api/v1/orgs/acme/usage", params={"month": "2024-13"}, headers=ADMIN)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "month"


def test_the_cli_goes_through_the_running_server(server: Server) -> None:
    """While the server holds the store, the CLI's commands reach it through its API and
    print what they print on a free store."""
    r = httpx.post(f"{server.url}/v1/page", json={"anonymousId": "a"}, auth=(server.write_key, ""))
    assert r.status_code == 200
    result = cli(server.db, "mau", "acme", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == usage(server)
    assert cli(server.db, "org", "create", "beta", "--json").returncode == 0
    made = cli(server.db, "project", "create", "beta", "app", "--json")
    assert made.returncode == 0 and json.loads(made.stdout)["write_key"].startswith("wk_")
    listed = json.loads(cli(server.db, "org", "list", "--json").stdout)
    assert [o["org"] for o in listed] == ["acme", "beta"]
    exported = cli(server.db, "export", "acme", "--month", usage(server)["month"])
    assert exported.returncode == 0 and exported.stdout.splitlines()[1].startswith("a,False,")
    verified = cli(server.db, "verify", "acme")
    assert verified.returncode == 0 and "verified" in verified.stdout
    series = cli(
        server.db,
        "series",
        "acme",
        "--metric",
        "mau",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-02",
        "--json",
    )
    assert series.returncode == 0 and json.loads(series.stdout)[0]["period"] == "2026-01"
    bad = cli(server.db, "mau", "nope")
    assert bad.returncode == 2 and "no org named 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr
    server.stop()
    assert cli(server.db, "mau", "acme", "--json").returncode == 0  # the store itself again


def test_events_survive_a_restart(server: Server) -> None:
    r = httpx.post(f"{server.url}/v1/page", json={"anonymousId": "a"}, auth=(server.write_key, ""))
    assert r.status_code == 200
    server.stop()
    process, url = start(server.db, "--no-demo")
    try:
        body = httpx.get(f"{url}/api/v1/orgs/acme/usage", headers=server.secret).json()
        assert body["mau"] == 1
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_demo_on_first_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    process, url = start(tmp_path / "demo.duckdb")
    try:
        body = httpx.get(f"{url}/api/v1/orgs/demo/usage", headers=ADMIN).json()
        assert body["mau"] > 0
        time.sleep(0)
    finally:
        process.terminate()
        out = process.communicate(timeout=30)[0]
    assert "write key wk_demo_web" in out and "curl -u" in out
