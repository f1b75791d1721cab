"""Plans and live usage: tiers, an org's plan, the effective cap, the month so far."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from maumeter.cli.shell import (
    backend,
    emit_json,
    fail,
    main,
    month_option,
    out,
)


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def usage(ctx: click.Context, org_name: str, as_json: bool) -> None:
    """Live usage of the current month: MAU against the effective cap, and its projection."""
    with backend(ctx) as store:
        live = store.live_usage(org_name)
    if as_json:
        emit_json(live)
        return
    cap = live["effective_cap"]
    used = f" of {cap:,} ({live['percent_used']:.1f} %, {live['policy']} cap)" if cap else ""
    out.print(f"[bold]{org_name}[/] {live['month']}: [bold]{live['mau']:,}[/] MAU{used}")
    if live["carried_in"]:
        out.print(f"  allotment {live['allotment']:,} + rolled over {live['carried_in']:,}")
    out.print(
        f"  identified {live['identified']:,}  anonymous {live['anonymous']:,}"
        f"  refused {live['refused']:,}  overage {live['overage']:,}"
    )
    projection = live["projection"]
    if projection is not None:
        out.print(
            f"  projected month end: {projection['expected']:,} MAU "
            f"(80 % interval {projection['low']:,}–{projection['high']:,}, {projection['method']})"
        )
    if live["breach_day"]:
        out.print(f"  [bold red]cap projected to be reached on {live['breach_day']}[/]")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tiers(ctx: click.Context, as_json: bool) -> None:
    """The tier table plans are chosen from (setting MAUMETER_TIERS)."""
    with backend(ctx) as store:
        rows = store.tiers()
    if as_json:
        emit_json(rows)
        return
    table = Table("tier", "allotment", "monthly price", "overage price per MAU")
    for r in rows:
        allotment = f"{r['allotment']:,}" if r["allotment"] is not None else "custom"
        table.add_row(r["name"], allotment, r["monthly_price"] or "-", r["overage_price"] or "-")
    out.print(table)


@main.group()
def plan() -> None:
    """Plans: an org's allotment, enforcement policy, contract term and rollover."""


@plan.command("show")
@click.argument("org_name", metavar="ORG")
@click.option("--month", default=None, metavar="YYYY-MM", help="Also show this month's cap.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan_show(ctx: click.Context, org_name: str, month: str | None, as_json: bool) -> None:
    """Show the org's plan and the effective cap of a month (default: the current one)."""
    with backend(ctx) as store:
        found = store.plan(org_name)
        link = store.month_cap(org_name, month_option(month))
    if as_json:
        emit_json({**found, "cap": link})
        return
    _print_plan(found)
    out.print(
        f"{link['month']}: allotment {link['allotment']:,} + carried in {link['carried_in']:,}"
        f" = effective cap {link['effective_cap']:,}; MAU {link['mau']:,},"
        f" overage {link['overage']:,}, carried out {link['carried_out']:,}"
    )


@plan.command("set")
@click.argument("org_name", metavar="ORG")
@click.option("--tier", default=None, help="A tier of `maumeter tiers` (default: the default).")
@click.option("--allotment", type=click.IntRange(min=0), default=None, help="Custom tier MAU.")
@click.option("--policy", type=click.Choice(["hard", "soft", "none"]), default=None)
@click.option("--term-start", default=None, metavar="YYYY-MM", help="First month of the term.")
@click.option("--term-months", type=click.IntRange(min=1), default=None, help="Term length.")
@click.option("--rollover/--no-rollover", default=None, help="Carry unused allotment over.")
@click.option("--max-carried", type=click.IntRange(min=0), default=None)
@click.option("--monthly-price", default=None, metavar="DECIMAL")
@click.option("--overage-price", default=None, metavar="DECIMAL", help="Per MAU over the cap.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan_set(
    ctx: click.Context,
    org_name: str,
    tier: str | None,
    allotment: int | None,
    policy: str | None,
    term_start: str | None,
    term_months: int | None,
    rollover: bool | None,
    max_carried: int | None,
    monthly_price: str | None,
    overage_price: str | None,
    as_json: bool,
) -> None:
    """Set the org's plan; options left out take the tier's defaults."""
    if (term_start is None) != (term_months is None):
        fail("--term-start and --term-months go together")
    if max_carried is not None and not rollover:
        fail("--max-carried needs --rollover")
    body: dict[str, Any] = {
        "tier": tier,
        "allotment": allotment,
        "policy": policy,
        "monthly_price": monthly_price,
        "overage_price": overage_price,
    }
    if term_start is not None:
        body["term"] = {"start": term_start, "months": term_months}
    if rollover is not None:
        body["rollover"] = {"enabled": rollover, "max_carried": max_carried}
    with backend(ctx) as store:
        found = store.set_plan(org_name, {k: v for k, v in body.items() if v is not None})
    if as_json:
        emit_json(found)
    else:
        _print_plan(found)


def _print_plan(found: dict[str, Any]) -> None:
    tier = found["tier"] or "custom"
    out.print(
        f"[bold]{found['org']}[/]: tier {tier}, allotment {found['allotment']:,} MAU, "
        f"policy {found['policy']}, time zone {found['timezone']}"
    )
    term = found["term"]
    if term:
        out.print(f"  term: {term['months']} months from {term['start']} (renews back to back)")
    rollover = found["rollover"]
    if rollover["enabled"]:
        bound = rollover["max_carried"]
        out.print("  rollover: on" + (f", at most {bound:,} carried" if bound is not None else ""))
    prices = [(n, found[n]) for n in ("monthly_price", "overage_price") if found[n] is not None]
    if prices:
        out.print("  " + ", ".join(f"{n.replace('_', ' ')} {v}" for n, v in prices))
