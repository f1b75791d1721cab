"""Counting: import history, MAU, series, the counted persons, verify."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from maumeter.cli.shell import (
    backend,
    emit_json,
    err,
    fail,
    main,
    month_option,
    opened,
    out,
)
from maumeter.meter import PERSON_FIELDS
from maumeter.sources import count_rows


@main.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--org", "org_name", required=True)
@click.option("--project", "project_name", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def import_(
    ctx: click.Context, file: Path, org_name: str, project_name: str, as_json: bool
) -> None:
    """Import history (JSONL, JSON, CSV, Parquet): each record's timestamp decides its month."""
    if not file.exists():
        fail(f"FILE: {file} does not exist")
    with opened(ctx) as meter:
        meter.store.project(org_name, project_name)
        total = count_rows(file)
        columns = [
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=err, transient=True, disable=as_json) as bar:
            task = bar.add_task("import", total=total)
            result = meter.import_file(file, org_name, project_name, lambda n: bar.advance(task, n))
    if as_json:
        emit_json(result.to_dict())
        return
    rejected = len(result.rejected)
    out.print(
        f"accepted {result.accepted:,}  duplicates {result.duplicates:,}  rejected {rejected:,}"
    )
    for rejection in result.rejected[:5]:
        reasons = "; ".join(str(p) for p in rejection.problems)
        out.print(f"  record {rejection.index}: {reasons}", highlight=False)
    if len(result.rejected) > 5:
        out.print(f"  … and {len(result.rejected) - 5:,} more rejected records")


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--project", "project_name", default=None)
@click.option(
    "--month", default=None, metavar="YYYY-MM", help="Default: the current month in the org's zone."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def mau(
    ctx: click.Context, org_name: str, project_name: str | None, month: str | None, as_json: bool
) -> None:
    """Monthly active users of an org (the pool) or one project."""
    when = month_option(month)
    with backend(ctx) as store:
        usage = store.usage(org_name, when, project_name)
    if as_json:
        emit_json(usage)
        return
    scope = f"{org_name}/{project_name}" if project_name else org_name
    cap = f" of {usage['cap']:,} ({usage['policy']} cap)" if usage["cap"] is not None else ""
    out.print(f"[bold]{scope}[/] {usage['month']}: [bold]{usage['mau']:,}[/] MAU{cap}")
    out.print(
        f"  identified {usage['identified']:,}  anonymous {usage['anonymous']:,}"
        f"  impressions {usage['impressions']:,}"
        + (f"  refused {usage['refused']:,}" if usage["refused"] else "")
    )


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--month", required=True, metavar="YYYY-MM")
@click.option("--project", "project_name", default=None)
@click.option(
    "--output", type=click.Path(path_type=Path), default=None, help="A .csv file (default: stdout)."
)
@click.pass_context
def export(
    ctx: click.Context, org_name: str, month: str, project_name: str | None, output: Path | None
) -> None:
    """The counted persons of a month, with the event that counted each, as CSV."""
    when = month_option(month)
    written = 0
    with backend(ctx) as store:
        handle = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
        try:
            writer = csv.DictWriter(handle, fieldnames=PERSON_FIELDS)
            writer.writeheader()
            for row in store.persons(org_name, when, project_name):
                writer.writerow(row)
                written += 1
        finally:
            if output:
                handle.close()
    if output:
        out.print(f"wrote {written:,} persons to {output}")


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option(
    "--month", default=None, metavar="YYYY-MM", help="Default: every month with activity."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(ctx: click.Context, org_name: str, month: str | None, as_json: bool) -> None:
    """Recount from the raw events; exit 0 when the live counts equal the recount, 1 if not."""
    when = month_option(month)
    with backend(ctx) as store:
        result = store.verify(org_name, when)
    if as_json:
        emit_json(result)
    else:
        for c in result["checks"]:
            mark = "[green]ok[/]" if c["equal"] else "[red]DIFF[/]"
            scope = c["project"] or "(pool)"
            out.print(
                f"{mark} {c['month']} {scope}: live {c['live']:,} reference {c['reference']:,}"
            )
            if not c["equal"]:
                out.print(
                    f"   missing {c['missing'][:10]} extra {c['extra'][:10]} impressions "
                    f"{c['live_impressions']} vs {c['reference_impressions']}",
                    highlight=False,
                )
        ok = result["equal"]
        out.print("verified: live counts equal the recount" if ok else "verify FAILED")
    sys.exit(0 if result["equal"] else 1)
