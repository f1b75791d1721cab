"""Alerts and the webhooks they are delivered to."""

from __future__ import annotations

import click
from rich.table import Table

from maumeter.cli.shell import (
    backend,
    emit_json,
    main,
    month_option,
    out,
)


@main.group()
def webhook() -> None:
    """Webhooks: where an org's alerts are delivered, signed, with retries and a log."""


@webhook.command("add")
@click.argument("org_name", metavar="ORG")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def webhook_add(ctx: click.Context, org_name: str, url: str, as_json: bool) -> None:
    """Register URL for ORG's alerts and print its signing secret (shown once)."""
    with backend(ctx) as store:
        hook = store.webhook_add(org_name, url)
    if as_json:
        emit_json(hook)
        return
    out.print(f"added webhook [bold]{hook['id']}[/] for {org_name}: {hook['url']}", highlight=False)
    out.print(f"signing secret (shown once): {hook['secret']}", highlight=False)


@webhook.command("list")
@click.argument("org_name", metavar="ORG")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def webhook_list(ctx: click.Context, org_name: str, as_json: bool) -> None:
    """List ORG's webhooks."""
    with backend(ctx) as store:
        rows = store.webhooks(org_name)
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "url", "created")
    for r in rows:
        table.add_row(str(r["id"]), r["url"], r["created_at"])
    out.print(table)


@webhook.command("remove")
@click.argument("org_name", metavar="ORG")
@click.argument("webhook_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def webhook_remove(ctx: click.Context, org_name: str, webhook_id: int, as_json: bool) -> None:
    """Remove a webhook; its pending deliveries are cancelled."""
    with backend(ctx) as store:
        hook = store.webhook_remove(org_name, webhook_id)
    if as_json:
        emit_json(hook)
    else:
        out.print(f"removed webhook {hook['id']} ({hook['url']})", highlight=False)


@webhook.command("deliveries")
@click.argument("org_name", metavar="ORG")
@click.option("--webhook", "webhook_id", type=int, default=None, help="One webhook's log.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def webhook_deliveries(
    ctx: click.Context, org_name: str, webhook_id: int | None, limit: int, as_json: bool
) -> None:
    """The delivery log, newest first: each delivery and its attempts."""
    with backend(ctx) as store:
        rows = store.deliveries(org_name, webhook_id, limit)
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "webhook", "type", "state", "attempts", "next attempt")
    for r in rows:
        tries = " ".join(
            str(a["status"]) if a["status"] is not None else "error" for a in r["attempts"]
        )
        table.add_row(
            str(r["id"]), str(r["webhook"]), r["type"], r["state"], tries, r["next_attempt"] or "-"
        )
    out.print(table)


def thresholds_option(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected whole percents such as 80,90,100, got {value!r}", param_hint="--set"
        ) from None


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--set", "thresholds", default=None, metavar="80,90,100", help="New thresholds.")
@click.option(
    "--projected/--no-projected", default=None, help='The "projected to exceed" alert on or off.'
)
@click.option("--month", default=None, metavar="YYYY-MM", help="Fired alerts of this month.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def alerts(
    ctx: click.Context,
    org_name: str,
    thresholds: str | None,
    projected: bool | None,
    month: str | None,
    as_json: bool,
) -> None:
    """ORG's alert thresholds (percent of the effective cap) and the alerts fired."""
    percents, when = thresholds_option(thresholds), month_option(month)
    with backend(ctx) as store:
        if percents is not None or projected is not None:
            store.set_alerts(org_name, percents, projected)
        found = store.alerts(org_name, when)
    if as_json:
        emit_json(found)
        return
    shown = ", ".join(f"{p} %" for p in found["thresholds"]) or "none"
    extra = " + projected to exceed" if found["projected"] else ""
    out.print(f"[bold]{org_name}[/] alerts at {shown}{extra}")
    for f in found["fired"]:
        what = f"{f['threshold']} %" if f["threshold"] is not None else "projected"
        out.print(
            f"  {found['month']} fired {what} at {f['fired_at']} (MAU {f['mau']:,} of "
            f"{f['cap']:,})",
            highlight=False,
        )


# ---- statements: close, statement, explain -------------------------------------------------
