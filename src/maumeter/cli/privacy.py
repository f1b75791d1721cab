"""Privacy and trust: erasure, the audit log, retroactive activity rules."""

from __future__ import annotations

import json
import sys

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


@main.command("erase")
@click.argument("org_name", metavar="ORG")
@click.argument("person_id", metavar="PERSON_ID")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def erase(ctx: click.Context, org_name: str, person_id: str, as_json: bool) -> None:
    """Erase a person by any of their ids, per GDPR article 17; statements keep their counts."""
    with backend(ctx) as store:
        report = store.erase(org_name, person_id)
    if as_json:
        emit_json(report)
        return
    out.print(
        f"erased {report['persons']} person ({report['ids']} ids, {report['events']:,} events) "
        f"from {org_name}; {report['statement_rows']} statement rows tombstoned; store compacted "
        f"in {report['seconds']:.2f} s"
    )
    for s in report["statements"]:
        out.print(f"  {s['month']}: checksum {s['old_checksum']} -> {s['new_checksum']}")


@main.command("audit")
@click.argument("org_name", metavar="ORG")
@click.option("--verify", "check", is_flag=True, help="Exit 1 unless the hash chain holds.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def audit(ctx: click.Context, org_name: str, check: bool, as_json: bool) -> None:
    """The org's audit log (admin actions, closes, restatements, erasures), hash-chained."""
    with backend(ctx) as store:
        found = store.audit(org_name)
    verification = found["verification"]
    if as_json:
        emit_json(found)
    else:
        table = Table("seq", "at", "actor", "action", "detail")
        for e in found["entries"]:
            detail = json.dumps(e["detail"], ensure_ascii=False, sort_keys=True)
            table.add_row(str(e["seq"]), e["at"], e["actor"], e["action"], detail)
        out.print(table)
        if verification["intact"]:
            out.print(
                f"chain intact: {verification['entries']} entries, head {verification['head']}"
            )
        else:
            out.print(f"[red]chain BROKEN at entry {verification['broken_at']}[/]")
    if check:
        sys.exit(0 if verification["intact"] else 1)


@main.group()
def rule() -> None:
    """Activity rules of projects (changes apply retroactively to open months)."""


@rule.command("set")
@click.argument("org_name", metavar="ORG")
@click.argument("project_name", metavar="PROJECT")
@rule_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rule_set(
    ctx: click.Context,
    org_name: str,
    project_name: str,
    activity: str | None,
    activity_json: str | None,
    as_json: bool,
) -> None:
    """Give a project a new rule: open months recount now, closed months get restatements."""
    found = rule_from(activity, activity_json)
    with backend(ctx) as store:
        change = store.set_rule(org_name, project_name, found)
    if as_json:
        emit_json(change)
        return
    out.print(
        f"rule of {org_name}/{project_name} set ({change['activity']['preset']}): "
        f"{change['events_changed']:,} events reclassified, "
        f"{len(change['restatements'])} closed months restated"
    )
