"""Settings as a declarative table: name, environment variable, default, help.

Only the faces (the CLI and the HTTP app) read settings; the library takes explicit arguments.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from maumeter.billing.webhooks import DeliveryPolicy
from maumeter.core.destinations import Allowlist
from maumeter.core.errors import InvalidInput
from maumeter.core.plans import DEFAULT_TIERS, TierTable
from maumeter.store.privacy import Secrets


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
        Setting(
            "pseudonymize_secret",
            "MAUMETER_PSEUDONYMIZE_SECRET",
            "",
            "Store user/anonymous ids as keyed HMACs with this secret (env "
            "MAUMETER_PSEUDONYMIZE_SECRET); set before the first event, never change it.",
        ),
        Setting(
            "erasure_secret",
            "MAUMETER_ERASURE_SECRET",
            "",
            "Secret of erased persons' tombstones (env MAUMETER_ERASURE_SECRET); default: "
            "generated on the first erasure and kept in the store.",
        ),
        Setting(
            "webhook_allow",
            "MAUMETER_WEBHOOK_ALLOW",
            "",
            "Networks (CIDR) and host names webhooks may reach although not public, "
            "comma-separated, e.g. '10.0.0.0/8,hooks.internal' (env MAUMETER_WEBHOOK_ALLOW).",
        ),
        Setting(
            "webhook_timeout",
            "MAUMETER_WEBHOOK_TIMEOUT",
            5.0,
            "Seconds a webhook delivery may take (env MAUMETER_WEBHOOK_TIMEOUT).",
            float,
        ),
        Setting(
            "webhook_retry_base",
            "MAUMETER_WEBHOOK_RETRY_BASE",
            10.0,
            "Seconds before a failed delivery's first retry; doubles each time "
            "(env MAUMETER_WEBHOOK_RETRY_BASE).",
            float,
        ),
        Setting(
            "webhook_retry_max",
            "MAUMETER_WEBHOOK_RETRY_MAX",
            3600.0,
            "Most seconds between two retries (env MAUMETER_WEBHOOK_RETRY_MAX).",
            float,
        ),
        Setting(
            "webhook_retry_window",
            "MAUMETER_WEBHOOK_RETRY_WINDOW",
            90000.0,
            "Seconds after the first attempt a delivery is retried before it fails "
            "(env MAUMETER_WEBHOOK_RETRY_WINDOW; default 25 h).",
            float,
        ),
        Setting(
            "tiers",
            "MAUMETER_TIERS",
            "",
            "The tier table: a JSON file or inline JSON list of {name, allotment, "
            "monthly_price?, overage_price?} (env MAUMETER_TIERS; default: Jimo's tiers).",
        ),
        Setting(
            "close_grace_days",
            "MAUMETER_CLOSE_GRACE_DAYS",
            3,
            "Days after a month's end before the server closes it into a statement "
            "(env MAUMETER_CLOSE_GRACE_DAYS).",
            int,
        ),
        Setting(
            "experiment_key",
            "MAUMETER_EXPERIMENT_KEY",
            "experiment_id",
            "Event property whose values statements count MAU per experiment by "
            "(env MAUMETER_EXPERIMENT_KEY).",
        ),
        Setting(
            "flag_key",
            "MAUMETER_FLAG_KEY",
            "flag_key",
            "Event property whose values statements count MAU per flag by (env MAUMETER_FLAG_KEY).",
        ),
    )
}


def tiers() -> TierTable:
    """The tier table of the ``tiers`` setting (a file path or inline JSON), or the default."""
    raw = setting("tiers")
    if not raw:
        return DEFAULT_TIERS
    text = raw if raw.lstrip().startswith("[") else _read(raw)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput.field(
            "MAUMETER_TIERS", f"expected a JSON list of tiers: {exc}"
        ) from None
    return TierTable.parse(data, "MAUMETER_TIERS")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput.field("MAUMETER_TIERS", f"cannot read {path}: {exc}") from None


def privacy_secrets() -> Secrets:
    """The pseudonymisation and erasure secrets, for ``Meter.open(secrets=...)``."""
    return Secrets(setting("pseudonymize_secret") or None, setting("erasure_secret") or None)


def setting(name: str) -> Any:
    """The value of a setting: its environment variable when set, else its default."""
    spec = SETTINGS[name]
    raw = os.environ.get(spec.env)
    if raw is None or raw == "":
        return spec.default
    return spec.kind(raw)


def webhook_policy() -> DeliveryPolicy:
    """How webhooks are reached, from the ``webhook_*`` settings."""
    entries = [e.strip() for e in setting("webhook_allow").split(",") if e.strip()]
    return DeliveryPolicy(
        allow=Allowlist.parse(entries, "MAUMETER_WEBHOOK_ALLOW"),
        timeout=setting("webhook_timeout"),
        base=timedelta(seconds=setting("webhook_retry_base")),
        cap=timedelta(seconds=setting("webhook_retry_max")),
        window=timedelta(seconds=setting("webhook_retry_window")),
    )
