"""The running server's address, next to the store it holds, so the CLI can go through it.

A DuckDB file has one owner. While ``maumeter serve`` holds the store, it writes
``<store>.server.json`` (mode 0600: it holds a token) with its URL, its PID and a local admin
token made for this run only; the CLI, finding the store locked, reads it and sends its command
to the server instead. The file is removed when the server stops; a stale one (the server was
killed) is recognised because its PID is gone or the URL does not answer.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from maumeter.core import keys
from maumeter.core.keys import Key


def path_for(store: str | Path) -> Path:
    target = Path(store)
    return target.with_name(target.name + ".server.json")


@dataclass(frozen=True, slots=True)
class LocalAdmin:
    """An admin token valid for one server run, known only to whoever can read the sidecar."""

    token: str

    @classmethod
    def create(cls) -> LocalAdmin:
        return cls(keys.PREFIX["admin"] + "local_" + secrets.token_urlsafe(32))

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.token.encode())

    @property
    def key(self) -> Key:
        return Key(0, "admin", None, None, keys.digest(self.token), "local", datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Sidecar:
    url: str
    pid: int
    token: str


def write(store: str | Path, url: str, token: str) -> Path:
    target = path_for(store)
    data = json.dumps({"url": url, "pid": os.getpid(), "token": token})
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(data)
    return target


def read(store: str | Path) -> Sidecar | None:
    """The sidecar of a store, if there is one whose process still runs."""
    target = path_for(store)
    try:
        data = json.loads(target.read_text())
        found = Sidecar(str(data["url"]), int(data["pid"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return found


def remove(store: str | Path) -> None:
    with contextlib.suppress(OSError):
        path_for(store).unlink()
