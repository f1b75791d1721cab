"""Orgs and projects: the billing customers and their product surfaces."""

from __future__ import annotations

import click
from rich.table import Table

from maumeter.cli.shell import (
    backend,
    emit_json,
    main,
    out,
    rule_from,
    rule_options,
)


@main.group()
def org() -> None:
    """Orgs: the billing customers, each one MAU pool."""


@org.command("create")
@click.argument("name")
@click.option(
    "--timezone", default="UTC", show_default=True, help="IANA zone of the billing month."
)
@click.option("--cap", type=click.IntRange(min=0), default=None, help="Monthly MAU allotment.")
@click.option(
    "--policy", type=click.Choice(["hard", "soft", "none"]), default="none", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def org_create(
    ctx: click.Context, name: str, timezone: str, cap: int | None, policy: str, as_json: bool
) -> None:
    """Create an org."""
    with backend(ctx) as store:
        info = store.create_org(name, timezone, cap, policy)
    if as_json:
        emit_json(info)
    else:
        out.print(
            f"created org [bold]{info['org']}[/] "
            f"(time zone {info['timezone']}, policy {info['policy']})"
        )
        out.print(f"secret key (shown once): {info['secret_key']}", highlight=False)


@org.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def org_list(ctx: click.Context, as_json: bool) -> None:
    """List orgs."""
    with backend(ctx) as store:
        rows = store.orgs()
    if as_json:
        emit_json(rows)
        return
    table = Table("org", "timezone", "cap", "policy")
    for r in rows:
        table.add_row(r["org"], r["timezone"], str(r["cap"] or "-"), r["policy"])
    out.print(table)


@main.group()
def project() -> None:
    """Projects: product surfaces of an org, each with a write key and an activity rule."""


@project.command("create")
@click.argument("org_name", metavar="ORG")
@click.argument("name", metavar="PROJECT")
@rule_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def project_create(
    ctx: click.Context,
    org_name: str,
    name: str,
    activity: str | None,
    activity_json: str | None,
    as_json: bool,
) -> None:
    """Create a project and print its write key."""
    rule = rule_from(activity, activity_json)
    with backend(ctx) as store:
        info = store.create_project(org_name, name, rule)
    if as_json:
        emit_json({"org": org_name, "project": info["project"], "write_key": info["write_key"]})
    else:
        out.print(
            f"created project [bold]{info['project']}[/] in {org_name} (activity: {rule.preset})"
        )
        out.print(f"write key (shown once): {info['write_key']}", highlight=False)


@project.command("list")
@click.argument("org_name", metavar="ORG")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def project_list(ctx: click.Context, org_name: str, as_json: bool) -> None:
    """List an org's projects."""
    with backend(ctx) as store:
        rows = store.projects(org_name)
    if as_json:
        emit_json(rows)
        return
    table = Table("project", "activity", "write keys (hints)")
    for r in rows:
        table.add_row(r["project"], r["activity"], " ".join(r["write_keys"]))
    out.print(table)
