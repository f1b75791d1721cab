"""Settings as a declarative table: name, environment variable, default, help.

Only the faces (the CLI and the HTTP app) read settings; the library takes explicit arguments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    env: str
    default: Any
    help: str
    kind: type = str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("db", "MAUMETER_DB", "maumeter.duckdb", "The store file (env MAUMETER_DB)."),
        Setting("host", "MAUMETER_HOST", "127.0.0.1", "Address to listen on (env MAUMETER_HOST)."),
        Setting("port", "MAUMETER_PORT", 8000, "Port to listen on (env MAUMETER_PORT).", int),
        Setting(
            "admin_token",
            "MAUMETER_ADMIN_TOKEN",
            "",
            "The operator's admin token (env MAUMETER_ADMIN_TOKEN); generated on first start.",
        ),
        Setting(
            "rate",
            "MAUMETER_RATE_LIMIT",
            2000.0,
            "Requests per second per key (env MAUMETER_RATE_LIMIT; 0 disables).",
            float,
        ),
        Setting(
            "burst",
            "MAUMETER_RATE_BURST",
            10000.0,
            "Burst size of each key's rate limit (env MAUMETER_RATE_BURST).",
            float,
        ),
    )
}


def setting(name: str) -> Any:
    """The value of a setting: its environment variable when set, else its default."""
    spec = SETTINGS[name]
    raw = os.environ.get(spec.env)
    if raw is None or raw == "":
        return spec.default
    return spec.kind(raw)
