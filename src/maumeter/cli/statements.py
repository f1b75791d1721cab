"""Statements: closing a month, the frozen statement and its list, explain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from maumeter.cli.shell import (
    backend,
    emit_json,
    err,
    fail,
    main,
    month_option,
    out,
)


@main.command("close")
@click.argument("org_name", metavar="ORG")
@click.option("--month", required=True, metavar="YYYY-MM", help="An ended month.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def close_month(ctx: click.Context, org_name: str, month: str, as_json: bool) -> None:
    """Close an ended month: freeze its statement and counted-person list."""
    when = month_option(month)
    with backend(ctx) as store:
        found = store.close_month(org_name, when)  # type: ignore[arg-type]
    if as_json:
        emit_json(found)
        return
    _print_statement(found)


@main.command("statement")
@click.argument("org_name", metavar="ORG")
@click.option("--month", required=True, metavar="YYYY-MM")
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--persons",
    "persons_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the counted-person list to this .csv or .parquet file.",
)
@click.pass_context
def statement(
    ctx: click.Context, org_name: str, month: str, as_json: bool, persons_file: Path | None
) -> None:
    """A closed month's frozen statement, its restatements, and its counted-person list."""
    when = month_option(month)
    if persons_file is not None and persons_file.suffix.lower() not in (".csv", ".parquet"):
        fail(f"--persons: expected a .csv or .parquet file, got {persons_file}")
    with backend(ctx) as store:
        found = store.statement(org_name, when)  # type: ignore[arg-type]
        rows = store.statement_persons(org_name, when, persons_file) if persons_file else None  # type: ignore[arg-type]
    if as_json:
        emit_json(found)
    else:
        _print_statement(found)
    if rows is not None:
        err.print(f"wrote {rows:,} persons to {persons_file}", highlight=False)


def _print_statement(s: dict[str, Any]) -> None:
    out.print(
        f"[bold]{s['org']}[/] {s['month']}: [bold]{s['mau']:,}[/] MAU (closed {s['closed_at']})"
    )
    out.print(
        f"  identified {s['identified']:,}  anonymous {s['anonymous']:,}  "
        f"impressions {s['impressions']:,}  refused {s['refused']:,}"
    )
    out.print(
        f"  effective cap {s['effective_cap']:,} (carried in {s['carried_in']:,}, out "
        f"{s['carried_out']:,})  overage {s['overage']:,}  total {s['charges']['total'] or '-'}"
    )
    out.print(f"  recommended tier {s['recommended_tier']['name']}")
    for title, key in (("project", "by_project"), ("experiment", "by_experiment"),
                       ("flag", "by_flag")):  # fmt: skip
        if s[key]:
            out.print(f"  by {title}: " + ", ".join(f"{k} {v:,}" for k, v in s[key].items()))
    out.print(f"  checksum {s['checksum']}", highlight=False)
    for r in s["restatements"]:
        out.print(
            f"  restated {r['created_at']} ({r['reason']}): {r['previous_mau']:,} -> "
            f"{r['new_mau']:,}, +{len(r['added'])} -{len(r['removed'])}",
            highlight=False,
        )


@main.command("explain")
@click.argument("org_name", metavar="ORG")
@click.argument("person_id", metavar="PERSON_ID")
@click.option(
    "--month", default=None, metavar="YYYY-MM", help="Default: the current month in the org's zone."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def explain(
    ctx: click.Context, org_name: str, person_id: str, month: str | None, as_json: bool
) -> None:
    """Why a person was, or was not, counted in a month."""
    when = month_option(month)
    with backend(ctx) as store:
        found = store.explain(org_name, person_id, when)
    if as_json:
        emit_json(found)
        return
    mark = (
        "[green]counted[/]" if found["counted"] else f"[yellow]not counted ({found['reason']})[/]"
    )
    out.print(f"[bold]{person_id}[/] in {found['month']}: {mark}")
    out.print(f"  {found['detail']}", highlight=False)
    if found["person"] is not None:
        ids = ", ".join(f"{i['kind']}:{i['id']}" for i in found["ids"])
        out.print(f"  person {found['person']} ids {ids}", highlight=False)
    if found["first"]:
        rule = found["first"]["rule"]
        out.print(f"  rule {rule['preset']}, matcher {rule.get('matcher')}", highlight=False)
    if found["in_statement"] is not None:
        out.print(f"  in the frozen statement: {'yes' if found['in_statement'] else 'no'}")


@main.command("inflation")
@click.argument("org_name", metavar="ORG")
@click.option(
    "--month", default=None, metavar="YYYY-MM", help="Default: the current month in the org's zone."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def inflation(ctx: click.Context, org_name: str, month: str | None, as_json: bool) -> None:
    """Anonymous inflation: how much of a month's MAU is anonymous, how many anonymous persons
    were identified later, and the MAU had everyone been identified on first sight."""
    when = month_option(month)
    with backend(ctx) as store:
        found = store.inflation(org_name, when)
    if as_json:
        emit_json(found)
        return
    share = 100.0 * found["anonymous_share"]
    out.print(
        f"[bold]{org_name}[/] {found['month']}: {found['mau']:,} MAU, "
        f"{found['anonymous']:,} anonymous ({share:.1f} %)"
    )
    out.print(
        f"  identified later {found['later_identified']:,}; as first seen "
        f"{found['mau_as_seen']:,} MAU, identified on first sight "
        f"{found['mau_identified_on_first_sight']:,} (inflation {found['inflation']:,})"
    )


# ---- exclusions and privacy: erasure, the audit log, retroactive rules ----------------------
