"""`maumeter serve`: uvicorn on the embedded store, with the demo org on an empty store."""

from __future__ import annotations

import gc
import signal
import threading
import time

import uvicorn
from rich.console import Console

from maumeter import sidecar
from maumeter.api.app import create_app
from maumeter.billing.loop import Loop, Task
from maumeter.billing.webhooks import DeliveryPolicy
from maumeter.config import privacy_secrets, setting
from maumeter.core.errors import MaumeterError
from maumeter.core.plans import DEFAULT_TIERS, TierTable
from maumeter.demo import (
    DEMO_ORG,
    DEMO_ORGS,
    DEMO_SECRET_KEY,
    DEMO_WRITE_KEY,
    create_demo,
    key_lines,
)
from maumeter.meter import Meter
from maumeter.sidecar import LocalAdmin


def _terminated(signum: int, _: object) -> None:
    raise SystemExit(0)  # a requested, graceful stop


def billing_tasks(meter: Meter) -> list[Task]:
    """The periodic billing work of a running server: alerts, webhook deliveries, closing
    ended months, restatements. Each is idempotent with its state in the store."""
    meter.statements.configure(setting("experiment_key"), setting("flag_key"))
    grace = setting("close_grace_days")
    return [
        Task("alerts", 1.0, meter.alerts.tick),
        Task("webhooks", 0.5, meter.webhooks.tick),
        Task("close", 60.0, lambda now: meter.statements.auto_close(now, grace)),
        Task("restatements", 300.0, meter.statements.check),
    ]


def _warm_up(meter: Meter) -> None:
    """Import the statistics libraries (a second or two), fit each org's forecast and read its
    event facets now, not on the first dashboard page that shows them."""
    import statsmodels.tsa.exponential_smoothing.ets
    import statsmodels.tsa.seasonal  # noqa: F401

    a = meter.analytics
    for info in meter.orgs():
        try:
            a.forecast(info.name)
            # the event facets and the trait the dashboard shows first: read the log now
            a.facets.slots(info, "device")
            a.facets.slots(info, f"property:{meter.statements.experiment_key}")
            a.facets.slots(info, f"property:{meter.statements.flag_key}")
            a.traits.values(info, "country")
        except MaumeterError:  # an org removed or busy meanwhile: its page will do it
            continue


def _settle_garbage_collector() -> None:
    """The loaded counting state (identity graph, dedupe index) lives as long as the process:
    freezing it keeps every full collection from walking it again, and a larger first
    generation lets a request's short-lived objects die without triggering a collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def run(
    db: str,
    host: str,
    port: int,
    demo: bool = True,
    admin_token: str = "",
    rate: float = 2000.0,
    burst: float = 10000.0,
    tiers: TierTable = DEFAULT_TIERS,
    webhooks: DeliveryPolicy | None = None,
) -> None:
    """Serve until interrupted; the store is checkpointed and closed on the way out."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    meter = Meter.open(db, tiers=tiers, secrets=privacy_secrets())
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    local = LocalAdmin.create()
    if webhooks is not None:
        meter.webhooks.configure(webhooks)
    try:
        created = meter.ensure_admin_token(admin_token or None)
        if created:
            console.print(f"admin token (shown once, keep it): [bold]{created}[/]")
        if demo and not meter.orgs():
            meter.statements.configure(setting("experiment_key"), setting("flag_key"))
            started = time.monotonic()
            create_demo(meter)
            names = ", ".join(spec.name for spec in DEMO_ORGS)
            console.print(
                f"created the demo orgs [bold]{names}[/] in {db} "
                f"({time.monotonic() - started:.1f} s)"
            )
        if demo and meter.authenticate(DEMO_WRITE_KEY) is not None:
            for line in key_lines(meter):
                console.print(line)
            console.print("try:")
            console.print(
                f"  curl -u {DEMO_WRITE_KEY}: -H 'Content-Type: application/json' "
                f'-d \'{{"type":"track","userId":"ada","event":"Logged In"}}\' {base}/v1/track'
            )
            console.print(
                f"  curl -H 'Authorization: Bearer {DEMO_SECRET_KEY}' "
                f"{base}/api/v1/orgs/{DEMO_ORG}/usage"
            )
        console.print(f"maumeter serving {db} at {base}  (API docs: {base}/docs)")
        app = create_app(meter, rate=rate, burst=burst, local_admin=local)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        server = uvicorn.Server(config)
        sidecar.write(db, base, local.token)
        # uvicorn drains requests on SIGTERM, then re-raises it with the handler it found:
        # make that handler an exception, so the store below is closed and checkpointed
        # (docker stop, systemd) instead of the process dying with the WAL left behind.
        signal.signal(signal.SIGTERM, _terminated)
        _settle_garbage_collector()
        threading.Thread(target=_warm_up, args=(meter,), name="warm-up", daemon=True).start()
        loop = Loop(meter.clock, billing_tasks(meter))
        loop.start()
        try:
            server.run()
        finally:
            loop.stop()
    finally:
        sidecar.remove(db)
        meter.close()
