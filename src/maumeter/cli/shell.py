"""The `maumeter` command group and what every command shares: opening the store (or the
running server that holds it), options, output.

Errors are one line naming what is wrong, on stderr, with exit code 2; never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, NoReturn

import click
from rich.console import Console

from maumeter import sidecar
from maumeter.client import Backend, Local, Remote
from maumeter.config import SETTINGS, privacy_secrets, setting
from maumeter.config import tiers as config_tiers
from maumeter.core.activity import ActivityRule, parse_rule_arg
from maumeter.core.errors import InvalidInput, MaumeterError, StoreUnavailable
from maumeter.core.months import Month
from maumeter.meter import Meter

out = Console()
err = Console(stderr=True)


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(2)


@contextmanager
def opened(ctx: click.Context) -> Iterator[Meter]:
    """Open the store for one command, turning every expected error into one line + exit 2."""
    try:
        meter = Meter.open(ctx.obj["db"], tiers=config_tiers(), secrets=privacy_secrets())
    except MaumeterError as exc:
        fail(exc.message)
    try:
        yield meter
    except MaumeterError as exc:
        fail(exc.message)
    finally:
        meter.close()


@contextmanager
def backend(ctx: click.Context) -> Iterator[Backend]:
    """The store in process, or, while a server holds it, that server (same output)."""
    server = ctx.obj.get("server")
    remote: Remote | None = None
    meter: Meter | None = None
    if server:
        token = ctx.obj.get("token") or setting("admin_token")
        if not token:
            fail("--server needs a key: --token, MAUMETER_TOKEN or MAUMETER_ADMIN_TOKEN")
        remote = Remote(server, token)
    else:
        try:
            meter = Meter.open(ctx.obj["db"], tiers=config_tiers(), secrets=privacy_secrets())
        except StoreUnavailable as exc:
            found = sidecar.read(ctx.obj["db"])
            if found is None:
                fail(exc.message)
            remote = Remote(found.url, found.token)
        except MaumeterError as exc:
            fail(exc.message)
    try:
        yield remote if remote is not None else Local(meter)  # type: ignore[arg-type]
    except MaumeterError as exc:
        fail(exc.message)
    finally:
        if remote is not None:
            remote.close()
        if meter is not None:
            meter.close()


def month_option(value: str | None) -> Month | None:
    if value is None:
        return None
    try:
        return Month.parse(value)
    except InvalidInput as exc:
        raise click.BadParameter(exc.message) from None


def day_option(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"expected a date YYYY-MM-DD, got {value!r}", param_hint=name
        ) from None


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", default=None, metavar="PATH", help=SETTINGS["db"].help)
@click.option(
    "--server",
    default=None,
    metavar="URL",
    help="Send commands to this running server (default: the server holding --db, if any).",
)
@click.option(
    "--token",
    default=None,
    envvar="MAUMETER_TOKEN",
    help="Key for --server: the admin token or an org's secret key (env MAUMETER_TOKEN).",
)
@click.pass_context
def main(ctx: click.Context, db: str | None, server: str | None, token: str | None) -> None:
    """maumeter: exact monthly active users."""
    ctx.obj = {"db": db or setting("db"), "server": server, "token": token}


def rule_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--activity PRESET`` / ``--activity-json RULE``, read with :func:`rule_from`."""
    command = click.option(
        "--activity-json", default=None, metavar="RULE", help="A custom rule as JSON."
    )(command)
    return click.option(
        "--activity",
        default=None,
        help="Preset: any-activity, sdk-load, decisions-and-tracking, conversation.",
    )(command)


def rule_from(activity: str | None, activity_json: str | None) -> ActivityRule:
    """The rule the two options name (the default preset when neither is given)."""
    if activity and activity_json:
        fail("give --activity or --activity-json, not both")
    try:
        return parse_rule_arg(activity, activity_json)
    except MaumeterError as exc:
        fail(exc.message)
