"""The admission gate at the cap on the real server: concurrency, many seeds, and kill -9."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .conftest import ADMIN, cli, start

pytestmark = pytest.mark.e2e
CAP = 100


def make_org(url: str, name: str, counted: list[str]) -> tuple[str, dict[str, str]]:
    made = httpx.post(
        f"{url}/api/v1/orgs", json={"name": name, "cap": CAP, "policy": "hard"}, headers=ADMIN
    )
    assert made.status_code == 201, made.text
    secret = {"Authorization": f"Bearer {made.json()['secret_key']}"}
    project = httpx.post(f"{url}/api/v1/orgs/{name}/projects", json={"name": "web"}, headers=secret)
    key = project.json()["write_key"]
    if counted:
        batch = {"batch": [{"type": "page", "userId": u} for u in counted]}
        assert httpx.post(f"{url}/v1/batch", json=batch, auth=(key, "")).status_code == 200
    return key, secret


def admissions(rng: random.Random, counted: list[str]) -> list[str]:
    people = [f"new-{i}" for i in range(150)] + [rng.choice(counted) for _ in range(50)]
    rng.shuffle(people)
    return people


def admit_all(url: str, key: str, people: list[str]) -> list[tuple[str, dict[str, object]]]:
    local = threading.local()

    def one(person: str) -> tuple[str, dict[str, object]]:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(auth=(key, ""), timeout=30)
        r = client.post(f"{url}/v1/admit", json={"userId": person})
        assert r.status_code == 200, r.text
        return person, r.json()

    with ThreadPoolExecutor(max_workers=32) as pool:
        return list(pool.map(one, people))


def test_no_overshoot_and_no_false_refusal_over_many_seeds(tmp_path: Path) -> None:
    db = tmp_path / "cap.duckdb"
    process, url = start(db, "--no-demo")
    try:
        for seed in range(6):
            rng = random.Random(seed)
            k = rng.choice([0, 1, rng.randint(2, 99), 100])
            counted = [f"old-{i}" for i in range(CAP - k)]
            key, secret = make_org(url, f"org{seed}", counted)
            people = admissions(rng, counted) if counted else [f"new-{i}" for i in range(200)]
            decisions = admit_all(url, key, people)
            new_in = {p for p, d in decisions if p.startswith("new") and d["admitted"]}
            false_refusals = [p for p, d in decisions if p.startswith("old") and not d["admitted"]]
            assert len(new_in) == k, seed
            assert false_refusals == []
            assert all(d["mau"] <= CAP for _, d in decisions)
            usage = httpx.get(f"{url}/api/v1/orgs/org{seed}/usage", headers=secret).json()
            new_total = 150 if counted else 200
            assert (usage["mau"], usage["refused"]) == (CAP, new_total - k)
            persons = httpx.get(f"{url}/api/v1/orgs/org{seed}/persons", headers=secret).json()
            assert {p["person"] for p in persons} == set(counted) | new_in
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_admission_survives_kill_9(tmp_path: Path) -> None:
    """Admissions answered before a SIGKILL hold after the restart; the cap holds across it."""
    db = tmp_path / "kill.duckdb"
    assert cli(db, "org", "create", "bootstrap").returncode == 0
    process, url = start(db, "--no-demo")
    rng = random.Random(7)
    counted = [f"old-{i}" for i in range(60)]
    key, secret = make_org(url, "acme", counted)
    people = admissions(rng, counted)
    answered: dict[str, bool] = {}
    lock = threading.Lock()

    def one(person: str) -> None:
        try:
            r = httpx.post(f"{url}/v1/admit", json={"userId": person}, auth=(key, ""), timeout=10)
        except httpx.HTTPError:
            return
        if r.status_code == 200:
            with lock:
                answered[person] = bool(r.json()["admitted"])

    threads = [threading.Thread(target=one, args=(p,)) for p in people]
    for t in threads:
        t.start()
    while len(answered) < 20 and any(t.is_alive() for t in threads):
        time.sleep(0.0005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    for t in threads:
        t.join()
    print(f"answered before the kill: {len(answered)} of {len(people)}")
    assert 0 < len(answered) < len(people), "the kill should land mid-flight"
    process, url = start(db, "--no-demo")
    try:
        persons = httpx.get(f"{url}/api/v1/orgs/acme/persons", headers=secret).json()
        stored = {p["person"] for p in persons}
        # every acknowledged admission is durable; every acknowledged refusal is not counted
        assert {p for p, ok in answered.items() if ok} <= stored
        assert not ({p for p, ok in answered.items() if not ok} & stored)
        assert len(stored) <= CAP
        # the rest again, after the restart: the cap still holds, counted persons still pass
        decisions = admit_all(url, key, people)
        assert all(d["admitted"] for p, d in decisions if p in stored)
        usage = httpx.get(f"{url}/api/v1/orgs/acme/usage", headers=secret).json()
        assert usage["mau"] == CAP
        verified = httpx.post(f"{url}/api/v1/orgs/acme/verify", headers=secret).json()
        assert verified["equal"], json.dumps(verified)[:2000]
    finally:
        process.terminate()
        process.wait(timeout=30)
