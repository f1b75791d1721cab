"""Demo data for a first run: an org with a few months of realistic activity.

Made through the real import and ingest paths (never written to tables directly), from a seeded
generator and the meter's clock, so a newcomer's first `make serve` shows live numbers.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from maumeter.meter import Meter
from maumeter.store.duckdb import OrgInfo, ProjectInfo

DEMO_ORG = "demo"
DEMO_PROJECT = "web"
DEMO_WRITE_KEY = "wk_demo_web"
DEMO_SECRET_KEY = "sk_demo_org"
PAGES = ("/", "/pricing", "/docs", "/app", "/app/settings", "/app/reports")
EVENTS = ("SDK Loaded", "Logged In", "Report Viewed", "Order Completed", "Button Clicked")


def _events(
    rng: random.Random, start: datetime, end: datetime, persons: int
) -> list[dict[str, Any]]:
    span = (end - start).total_seconds()
    records: list[dict[str, Any]] = []
    for n in range(persons):
        anon = f"anon-{rng.getrandbits(64):016x}"
        user = f"user-{n:04d}" if rng.random() < 0.6 else None
        visits = max(1, int(rng.paretovariate(1.3)))
        times = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(visits))
        for i, at in enumerate(times):
            base: dict[str, Any] = {"anonymousId": anon, "timestamp": at.isoformat()}
            if user and i == 1:
                records.append(
                    {
                        **base,
                        "type": "identify",
                        "userId": user,
                        "traits": {
                            "email": f"{user}@example.com",
                            "plan": rng.choice(["free", "pro"]),
                        },
                    }
                )
            if user and i >= 1:
                base["userId"] = user
            url = "https://app.example.com" + rng.choice(PAGES)
            records.append(
                {
                    **base,
                    "type": "page",
                    "name": url.rsplit("/", 1)[-1] or "home",
                    "context": {"page": {"url": url}},
                }
            )
            if rng.random() < 0.5:
                records.append({**base, "type": "track", "event": rng.choice(EVENTS)})
    records.sort(key=lambda r: r["timestamp"])
    return records


def create_demo(meter: Meter, seed: int = 7) -> tuple[OrgInfo, ProjectInfo]:
    """The `demo` org with project `web`: three months of history and today's first visitors.

    Its keys are well known (:data:`DEMO_WRITE_KEY`, :data:`DEMO_SECRET_KEY`) so the README can
    show them: a demo store is for trying things, never for production (`serve --no-demo`)."""
    rng = random.Random(seed)
    org = meter.create_org(
        DEMO_ORG, timezone="UTC", cap=2500, policy="soft", secret_key=DEMO_SECRET_KEY
    )
    project = meter.create_project(DEMO_ORG, DEMO_PROJECT, "any-activity", DEMO_WRITE_KEY)
    now = meter.clock()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    history_start = (month_start - timedelta(days=80)).replace(day=1)
    history = _events(rng, history_start, month_start, persons=400)
    meter.import_records([history], DEMO_ORG, DEMO_PROJECT)
    today = [
        {k: v for k, v in r.items() if k != "timestamp"}
        for r in _events(rng, month_start, now, persons=40)
    ]
    meter.ingest(today, DEMO_ORG, DEMO_PROJECT)
    return org, project
