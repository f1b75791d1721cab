"""`maumeter serve`: the HTTP server on the store."""

from __future__ import annotations

import click

from maumeter.cli.shell import (
    fail,
    main,
)
from maumeter.config import SETTINGS, setting, webhook_policy
from maumeter.config import tiers as config_tiers
from maumeter.core.errors import MaumeterError


@main.command()
@click.option("--host", default=None, help=SETTINGS["host"].help)
@click.option("--port", type=int, default=None, help=SETTINGS["port"].help)
@click.option("--no-demo", is_flag=True, help="Do not create the demo org in an empty store.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, no_demo: bool) -> None:
    """Run the HTTP server (Segment tracking API and the query API) on the store."""
    from maumeter.api.server import run

    try:
        run(
            ctx.obj["db"],
            host or setting("host"),
            port or setting("port"),
            demo=not no_demo,
            admin_token=setting("admin_token"),
            rate=setting("rate"),
            burst=setting("burst"),
            tiers=config_tiers(),
            webhooks=webhook_policy(),
        )
    except MaumeterError as exc:
        fail(exc.message)
