"""A real `maumeter serve` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent / "maumeter"
ADMIN_TOKEN = "mt_e2e_admin_token_for_tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "--db", str(db), *args], capture_output=True, text=True, timeout=120
    )


@dataclass
class Server:
    url: str
    db: Path
    process: subprocess.Popen[str]
    write_key: str
    secret_key: str = ""

    @property
    def secret(self) -> dict[str, str]:
        """Headers reading this server's org with its secret key."""
        return {"Authorization": f"Bearer {self.secret_key}"}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(db: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """`maumeter serve` on a free port, once it answers /healthz. The port is free when picked
    but may be taken before the server binds it (tests run in parallel): then a new one."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MAUMETER_ADMIN_TOKEN": ADMIN_TOKEN}
    for _ in range(3):
        port = free_port()
        process = subprocess.Popen(
            [str(BIN), "--db", str(db), "serve", "--port", str(port), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return process, url
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            process.kill()
            raise RuntimeError("server did not start in 60 s")
        output = process.stdout.read() if process.stdout else ""
        if "address already in use" not in output.lower():
            break
    raise RuntimeError(f"server exited: {output}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A store with org `acme` (project `web`) served on a free port."""
    db = tmp_path / "e2e.duckdb"
    org = cli(db, "org", "create", "acme", "--json")
    assert org.returncode == 0, org.stderr
    created = cli(db, "project", "create", "acme", "web", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["write_key"]
    process, url = start(db, "--no-demo")
    srv = Server(url, db, process, key, json.loads(org.stdout)["secret_key"])
    yield srv
    srv.stop()
