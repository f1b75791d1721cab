"""The real server driven by the real PostHog and RudderStack libraries, and PostHog's capture
API over raw HTTP: every path, every body shape and encoding posthog-js uses, every answer."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import httpx
import pytest
from posthog import Posthog
from rudderstack.analytics.client import Client as RudderClient

from .conftest import Server

PATHS = ["/batch", "/capture", "/e", "/i/v0/e", "/track"]


def usage(server: Server) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/v1/orgs/acme/usage", headers=server.secret)
    assert response.status_code == 200, response.text
    return response.json()


def split(server: Server) -> tuple[int, int, int, int]:
    body = usage(server)
    return body["mau"], body["identified"], body["anonymous"], body["impressions"]


def stored(db: Path) -> list[dict[str, Any]]:
    """The stored events, read from the store file once the server has stopped."""
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "SELECT type, user_id, anonymous_id, previous_id, event, name, message_id, "
            'traits, context, properties, "timestamp" FROM events ORDER BY seq'
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for key in ("traits", "context", "properties"):
            row[key] = json.loads(row[key]) if row[key] else {}
    return rows


def post(server: Server, path: str, payload: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=payload, **kwargs)


def js_event(server: Server, name: str, distinct_id: str, **props: Any) -> dict[str, Any]:
    """An event as posthog-js builds it: the key and the id inside ``properties``."""
    return {
        "event": name,
        "properties": {
            "token": server.write_key,
            "distinct_id": distinct_id,
            "$lib": "web",
            "$lib_version": "1.200.0",
            **props,
        },
        "timestamp": "2024-03-01T12:00:00.000Z",
    }


# -- the real posthog-python library --------------------------------------------------------------


def test_posthog_python_library_moves_the_mau(server: Server) -> None:
    assert split(server) == (0, 0, 0, 0)
    client = Posthog(server.write_key, host=server.url, sync_mode=True, gzip=True, debug=True)
    anonymous = {"$is_identified": False}
    client.capture(
        "$pageview",
        distinct_id="anon-1",
        properties={**anonymous, "$current_url": "https://app.example.com/", "$pathname": "/"},
    )
    client.capture("Searched", distinct_id="anon-1", properties=anonymous)
    assert split(server) == (1, 0, 1, 2)

    # identify: the anonymous visitor is ada (one person, now identified)
    client.capture(
        "$identify",
        distinct_id="ada",
        properties={"$anon_distinct_id": "anon-1", "$set": {"email": "ada@example.com"}},
    )
    client.capture("Logged In", distinct_id="ada")
    assert split(server) == (1, 1, 0, 3)

    # another id of hers, then alias(previous_id, distinct_id) merges it into ada
    client.capture("Viewed", distinct_id="ada-legacy-7")
    assert split(server) == (2, 2, 0, 4)
    client.alias(previous_id="ada-legacy-7", distinct_id="ada")
    assert split(server) == (1, 1, 0, 4)

    # set() is a profile update, not activity: a person only set is not counted
    client.set(distinct_id="crm-only", properties={"plan": "pro"})
    client.set_once(distinct_id="ada", properties={"first_plan": "free"})
    client.shutdown()
    assert split(server) == (1, 1, 0, 4)

    server.stop()
    rows = stored(server.db)
    kinds = [(r["type"], r["user_id"], r["anonymous_id"], r["previous_id"]) for r in rows]
    assert kinds == [
        ("page", None, "anon-1", None),
        ("track", None, "anon-1", None),
        ("identify", "ada", "anon-1", None),
        ("track", "ada", None, None),
        ("track", "ada-legacy-7", None, None),
        ("alias", "ada", None, "ada-legacy-7"),
        ("identify", "crm-only", None, None),
        ("identify", "ada", None, None),
    ]
    assert (
        rows[0]["name"] == "/" and rows[0]["context"]["page"]["url"] == "https://app.example.com/"
    )
    assert rows[0]["context"]["library"]["name"] == "posthog-python"
    assert rows[2]["traits"] == {"email": "ada@example.com"}
    assert rows[6]["traits"] == {"plan": "pro"} and rows[7]["traits"] == {"first_plan": "free"}
    assert all(len(r["message_id"]) == 36 for r in rows)  # PostHog's uuid is the message id
    assert all("token" not in r["properties"] for r in rows)


def test_posthog_python_retry_of_a_batch_is_a_duplicate(server: Server) -> None:
    client = Posthog(server.write_key, host=server.url, sync_mode=True, debug=True)
    uuid = "0190a3c2-7d1e-7c4b-8b8a-2f6f3c1d0e11"
    client.capture("Order Completed", distinct_id="bob", uuid=uuid)
    client.capture("Order Completed", distinct_id="bob", uuid=uuid)
    client.shutdown()
    assert split(server) == (1, 1, 0, 1)


def test_posthog_python_bad_key_raises(server: Server) -> None:
    client = Posthog("phc_not_a_key", host=server.url, sync_mode=True, debug=True, max_retries=0)
    with pytest.raises(Exception, match="401"):
        client.capture("x", distinct_id="u")
    client.shutdown()
    assert split(server) == (0, 0, 0, 0)


# -- the real rudder-sdk-python library -----------------------------------------------------------


def test_rudderstack_python_library_moves_the_mau(server: Server) -> None:
    errors: list[object] = []
    client = RudderClient(
        server.write_key,
        host=server.url,
        sync_mode=True,
        gzip=True,
        max_retries=0,
        on_error=lambda e, batch: errors.append(e),
    )
    client.page(anonymous_id="visitor-1", name="Home", properties={"url": "https://x.example/"})
    client.track(anonymous_id="visitor-1", event="Searched", properties={"q": "mau"})
    client.screen(anonymous_id="device-9", name="Settings")
    assert split(server) == (2, 0, 2, 3)
    client.identify(user_id="bob", anonymous_id="visitor-1", traits={"email": "bob@example.com"})
    client.track(user_id="bob", event="Order Completed", properties={"total": 12})
    assert split(server) == (2, 1, 1, 4)
    client.alias(previous_id="device-9", user_id="bob")
    client.flush()
    assert errors == []
    assert split(server) == (1, 1, 0, 4)

    server.stop()
    rows = stored(server.db)
    identify = next(r for r in rows if r["type"] == "identify")
    # rudder-sdk-python puts identify traits in context.traits only: they are the traits
    assert identify["traits"] == {"email": "bob@example.com"}
    assert identify["context"]["traits"] == {"email": "bob@example.com"}
    assert all(r["timestamp"] is not None for r in rows)


def test_rudderstack_js_shape_original_timestamp(server: Server) -> None:
    """RudderStack's browser SDK stamps originalTimestamp and sentAt, no timestamp."""
    batch = {
        "batch": [
            {
                "type": "identify",
                "anonymousId": "a-1",
                "userId": "carol",
                "channel": "web",
                "context": {"traits": {"email": "carol@example.com"}, "library": {"name": "js"}},
                "originalTimestamp": "2024-03-01T12:00:00.000Z",
                "sentAt": "2024-03-01T12:00:01.000Z",
                "messageId": "r-1",
                "rudderId": "6c9f0a9e",
            },
            {
                "type": "page",
                "anonymousId": "a-1",
                "originalTimestamp": "2024-03-01T12:00:00.500Z",
                "sentAt": "2024-03-01T12:00:01.000Z",
                "messageId": "r-2",
            },
        ],
        "sentAt": "2024-03-01T12:00:01.000Z",
    }
    r = httpx.post(
        f"{server.url}/v1/batch",
        content=gzip.compress(json.dumps(batch).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        auth=(server.write_key, ""),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], r.json()["rejected"]) == (2, [])
    assert split(server) == (1, 1, 0, 1)
    server.stop()
    rows = stored(server.db)
    assert rows[0]["traits"] == {"email": "carol@example.com"}
    assert all(r["timestamp"] is not None for r in rows)


# -- posthog-js as it sends, over raw HTTP ---------------------------------------------------------


def test_posthog_js_anonymous_then_identified_is_one_person(server: Server) -> None:
    anon = {"$is_identified": False, "$process_person_profile": False}
    events = [
        js_event(
            server,
            "$pageview",
            "019-anon",
            **anon,
            **{"$current_url": "https://app.example.com/pricing", "$pathname": "/pricing"},
            **{"$raw_user_agent": "Mozilla/5.0", "title": "Pricing"},
        ),
        js_event(server, "$autocapture", "019-anon", **anon),
    ]
    # posthog-js ?compression=gzip-js: gzip as text/plain, no Content-Encoding header
    r = httpx.post(
        f"{server.url}/e/",
        params={"compression": "gzip-js", "ver": "1.200.0", "_": "1709294400000"},
        content=gzip.compress(json.dumps(events).encode()),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    assert split(server) == (1, 0, 1, 2)

    identify = js_event(
        server,
        "$identify",
        "user-42",
        **{"$anon_distinct_id": "019-anon", "$is_identified": True},
    )
    identify["$set"] = {"email": "u42@example.com"}
    after = js_event(server, "$pageview", "user-42", **{"$is_identified": True})
    r = httpx.post(f"{server.url}/e/", json=[identify, after])
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    assert split(server) == (1, 1, 0, 3)


def test_posthog_js_alias_links_old_to_new(server: Server) -> None:
    first = js_event(server, "clicked", "old-id", **{"$is_identified": False})
    # posthog-js alias(alias, original): capture('$create_alias', {alias, distinct_id: original})
    alias = js_event(server, "$create_alias", "old-id", alias="new-id")
    later = js_event(server, "clicked", "new-id")
    r = post(server, "/e/", [first, alias, later])
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    assert split(server) == (1, 1, 0, 2)


def test_posthog_js_base64_form_body(server: Server) -> None:
    data = base64.b64encode(json.dumps([js_event(server, "e", "u1")]).encode()).decode()
    r = httpx.post(
        f"{server.url}/e/?compression=base64",
        content=f"data={quote(data, safe='')}".encode(),  # encodeURIComponent, as posthog-js
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    # data=<JSON text>, as old posthog-js sent it
    r = httpx.post(
        f"{server.url}/e/",
        data={"data": json.dumps(js_event(server, "e", "u2"))},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    assert split(server)[0] == 2


def test_lz64_is_unsupported(server: Server) -> None:
    r = httpx.post(f"{server.url}/e/?compression=lz64", content=b"data=xyz")
    assert r.status_code == 415 and "lz64" in r.json()["message"]


# -- raw HTTP: paths, shapes, keys, answers -------------------------------------------------------


@pytest.mark.parametrize("path", [p + s for p in PATHS for s in ("/", "")])
def test_every_path_with_and_without_slash(server: Server, path: str) -> None:
    r = post(server, path, {"api_key": server.write_key, "event": "hit", "distinct_id": path})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1


def test_three_body_shapes_and_gzip_without_a_header(server: Server) -> None:
    key = server.write_key
    single = {"api_key": key, "event": "a", "distinct_id": "u1"}
    array = [{"event": "b", "distinct_id": "u2", "token": key}]
    batch = {
        "api_key": key,
        "batch": [{"event": "c", "distinct_id": "u3"}, {"event": "d", "distinct_id": "u4"}],
        "sent_at": "2024-03-01T12:00:00Z",
    }
    assert post(server, "/capture/", single).json()["accepted"] == 1
    assert post(server, "/e/", array).json()["accepted"] == 1
    r = httpx.post(f"{server.url}/batch/", content=gzip.compress(json.dumps(batch).encode()))
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    r = httpx.post(
        f"{server.url}/batch/",
        content=gzip.compress(json.dumps(batch).encode()),
        headers={"Content-Encoding": "gzip"},
    )
    # the same id-less batch again (a blind retry): duplicates by content, not new activity
    assert r.status_code == 200 and r.json()["duplicates"] == 2, r.text
    assert split(server)[0] == 4


def test_keys_basic_auth_and_bad_keys(server: Server) -> None:
    event = {"event": "a", "distinct_id": "u"}
    assert post(server, "/e/", event, auth=(server.write_key, "")).status_code == 200
    r = post(server, "/e/", event)
    assert r.status_code == 401 and "api_key" in r.json()["message"]
    assert post(server, "/e/", {**event, "api_key": "phc_unknown"}).status_code == 401
    r = post(server, "/e/", event, headers=server.secret)
    assert r.status_code == 403  # an org's secret key is not a write key


def test_partly_invalid_batch_is_200_with_itemised_rejections(server: Server) -> None:
    batch = {
        "api_key": server.write_key,
        "batch": [
            {"event": "ok", "distinct_id": "u1", "uuid": "0190a3c2-0000-7000-8000-00000000000a"},
            {"distinct_id": "u2"},
            {"event": "$create_alias", "distinct_id": "u3", "properties": []},
            {"event": "ok", "distinct_id": "u1", "uuid": "0190a3c2-0000-7000-8000-00000000000a"},
            {"event": "x" * 2000, "distinct_id": "u4"},
            {"event": "ok", "distinct_id": "u5", "api_key": "wk_other_project"},
        ],
    }
    r = post(server, "/batch/", batch)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (1, 1)
    got = {item["index"]: [e["field"] for e in item["errors"]] for item in body["rejected"]}
    assert got == {
        1: ["event"],
        2: ["properties", "properties.alias"],
        4: ["event"],
        5: ["api_key"],
    }
    assert all(e["message"] for item in body["rejected"] for e in item["errors"])


def test_everything_invalid_is_400(server: Server) -> None:
    r = post(server, "/batch/", {"api_key": server.write_key, "batch": [{"event": "x"}, 7]})
    assert r.status_code == 400
    body = r.json()
    assert body["accepted"] == 0
    assert [item["errors"][0]["field"] for item in body["rejected"]] == ["distinct_id", "record"]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "body"),
        (b"", "body"),
        (b'"a string"', "body"),
        (b'{"api_key": "k", "batch": {}}', "batch"),
        (b"data=%%%", "data"),
    ],
)
def test_malformed_requests_are_400_with_the_field(
    server: Server, content: bytes, field: str
) -> None:
    r = httpx.post(f"{server.url}/e/", content=content, auth=(server.write_key, ""))
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == field


def test_size_limits_are_413(server: Server) -> None:
    too_many = [{"event": "e", "distinct_id": str(i)} for i in range(2501)]
    r = post(server, "/batch/", {"api_key": server.write_key, "batch": too_many})
    assert r.status_code == 413
    big = {"api_key": server.write_key, "event": "e", "distinct_id": "u"}
    big["properties"] = {"blob": "x" * 40_000}
    r = post(server, "/capture/", big)
    assert r.status_code == 400 and r.json()["rejected"][0]["errors"][0]["field"] == "record"
