"""Engagement analytics: series, stickiness, frequency, lifecycle, retention, activity levels,
segments.

Each command prints a table, or with ``--json`` the document the API answers (in process, or
through the running server holding the store).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import click
from rich.table import Table

from maumeter.analytics.series import METRICS
from maumeter.cli.shell import backend, day_option, emit_json, fail, main, month_option, out

INTERVALS = click.Choice(["day", "week", "month"])
WEEK_STARTS = click.Choice(["monday", "sunday"])
LEVELS = ["highly_active", "active", "at_risk", "dormant"]


def _day(value: str | None, name: str) -> date | None:
    return day_option(value, name) if value is not None else None


def _dates(start: str | None, end: str | None) -> dict[str, date | None]:
    """``start``/``end`` arguments from ``--from``/``--to`` (each optional)."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if first is not None and last is not None and last < first:
        fail(f"--to: must not be before --from ({first})")
    return {"start": first, "end": last}


def _range_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--to", "end", default=None, metavar="YYYY-MM-DD")(command)
    return click.option("--from", "start", default=None, metavar="YYYY-MM-DD")(command)


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")(command)
    return click.option("--project", "project_name", default=None, help="One project.")(command)


def _ask(ctx: click.Context, name: str, org: str, **arguments: Any) -> Any:
    with backend(ctx) as store:
        return store.analytics(name, org, **arguments)


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.1%}"


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--metric", type=click.Choice(list(METRICS)), required=True)
@_range_options
@click.option("--week-start", type=WEEK_STARTS, default="monday", show_default=True)
@click.option("--by", default=None, help="Split: trait:NAME, property:NAME or device.")
@_common
@click.pass_context
def series(
    ctx: click.Context,
    org_name: str,
    metric: str,
    start: str | None,
    end: str | None,
    week_start: str,
    by: str | None,
    project_name: str | None,
    as_json: bool,
) -> None:
    """DAU per day, WAU per week, MAU per month, or rolling 7/30 days for each day
    (default: the last 30 days)."""
    points = _ask(
        ctx,
        "series",
        org_name,
        metric=metric,
        **_dates(start, end),
        project=project_name,
        week_start=week_start,
        by=by,
    )
    if as_json:
        emit_json(points)
        return
    table = Table("period", metric, *(["breakdown"] if by else []))
    for point in points:
        cells = [point["period"], f"{point['value']:,}"]
        if by:
            cells.append(
                ", ".join(f"{c['value'] or '(none)'} {c['persons']:,}" for c in point["breakdown"])
            )
        table.add_row(*cells)
    out.print(table)


@main.command()
@click.argument("org_name", metavar="ORG")
@_range_options
@_common
@click.pass_context
def stickiness(
    ctx: click.Context,
    org_name: str,
    start: str | None,
    end: str | None,
    project_name: str | None,
    as_json: bool,
) -> None:
    """DAU/MAU per day and its mean per month (default: the last 30 days)."""
    found = _ask(
        ctx,
        "stickiness",
        org_name,
        **_dates(start, end),
        project=project_name,
    )
    if as_json:
        emit_json(found)
        return
    table = Table("month", "days", "MAU", "mean DAU/MAU")
    for m in found["monthly"]:
        table.add_row(m["month"], str(m["days"]), f"{m['mau']:,}", _percent(m["ratio"]))
    out.print(table)


@main.command()
@click.argument("org_name", metavar="ORG")
@_range_options
@click.option("--interval", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--week-start", type=WEEK_STARTS, default="monday", show_default=True)
@_common
@click.pass_context
def frequency(
    ctx: click.Context,
    org_name: str,
    start: str | None,
    end: str | None,
    interval: str,
    week_start: str,
    project_name: str | None,
    as_json: bool,
) -> None:
    """How many persons were active on exactly k days (or weeks) of the range."""
    found = _ask(
        ctx,
        "frequency",
        org_name,
        **_dates(start, end),
        interval=interval,
        project=project_name,
        week_start=week_start,
    )
    if as_json:
        emit_json(found)
        return
    table = Table(f"active {interval}s", "persons")
    for k, n in found["counts"].items():
        table.add_row(k, f"{n:,}")
    out.print(table)


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--interval", type=INTERVALS, default="month", show_default=True)
@_range_options
@click.option("--week-start", type=WEEK_STARTS, default="monday", show_default=True)
@_common
@click.pass_context
def lifecycle(
    ctx: click.Context,
    org_name: str,
    interval: str,
    start: str | None,
    end: str | None,
    week_start: str,
    project_name: str | None,
    as_json: bool,
) -> None:
    """New, returning, resurrecting and dormant persons per interval (default: the last 12)."""
    rows = _ask(
        ctx,
        "lifecycle",
        org_name,
        interval=interval,
        **_dates(start, end),
        project=project_name,
        week_start=week_start,
    )
    if as_json:
        emit_json(rows)
        return
    table = Table("period", "new", "returning", "resurrecting", "dormant")
    for r in rows:
        table.add_row(
            r["period"],
            f"{r['new']:,}",
            f"{r['returning']:,}",
            f"{r['resurrecting']:,}",
            f"{r['dormant']:,}",
        )
    out.print(table)


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--interval", type=INTERVALS, default="month", show_default=True)
@_range_options
@click.option("--week-start", type=WEEK_STARTS, default="monday", show_default=True)
@click.option("--horizon", type=click.IntRange(0, 3660), default=None)
@_common
@click.pass_context
def retention(
    ctx: click.Context,
    org_name: str,
    interval: str,
    start: str | None,
    end: str | None,
    week_start: str,
    horizon: int | None,
    project_name: str | None,
    as_json: bool,
) -> None:
    """Cohorts by first interval of activity and the share active k intervals later."""
    cohorts = _ask(
        ctx,
        "retention",
        org_name,
        interval=interval,
        **_dates(start, end),
        project=project_name,
        week_start=week_start,
        horizon=horizon,
    )
    if as_json:
        emit_json(cohorts)
        return
    width = max((len(c["shares"]) for c in cohorts), default=0)
    table = Table("cohort", "size", *(f"+{k}" for k in range(width)))
    for c in cohorts:
        shares = [_percent(s) for s in c["shares"]]
        table.add_row(c["cohort"], f"{c['size']:,}", *shares, *[""] * (width - len(shares)))
    out.print(table)


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--day", default=None, metavar="YYYY-MM-DD", help="Default: today.")
@click.option("--list", "listed", type=click.Choice(LEVELS), default=None, help="List persons.")
@click.option(
    "--previous",
    type=click.Choice([*LEVELS, "absent"]),
    default=None,
    help="With --list: only those at this level one window earlier.",
)
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--window", type=click.IntRange(1, 3660), default=None, help="Days (28).")
@click.option("--highly-active-days", type=click.IntRange(1, 3660), default=None)
@click.option("--decline-ratio", type=click.FloatRange(0, 1), default=None)
@click.option("--unseen-days", type=click.IntRange(1, 3660), default=None)
@click.option("--population-days", type=click.IntRange(1, 3660), default=None)
@_common
@click.pass_context
def levels(
    ctx: click.Context,
    org_name: str,
    day: str | None,
    listed: str | None,
    previous: str | None,
    limit: int,
    offset: int,
    window: int | None,
    highly_active_days: int | None,
    decline_ratio: float | None,
    unseen_days: int | None,
    population_days: int | None,
    project_name: str | None,
    as_json: bool,
) -> None:
    """Highly active / active / at risk / dormant persons, and the movement between levels."""
    rules = {
        "window": window,
        "highly_active_days": highly_active_days,
        "decline_ratio": decline_ratio,
        "unseen_days": unseen_days,
        "population_days": population_days,
    }
    when = _day(day, "--day")
    if listed is None:
        if previous is not None:
            ctx.fail("--previous needs --list")
        report = _ask(ctx, "levels", org_name, day=when, project=project_name, **rules)
        if as_json:
            emit_json(report)
            return
        table = Table("level", report["day"], report["previous_day"])
        for level in LEVELS:
            now, then = report["counts"][level], report["previous_counts"][level]
            table.add_row(level, f"{now:,}", f"{then:,}")
        out.print(table)
        return
    found = _ask(
        ctx,
        "levels/persons",
        org_name,
        level=listed,
        day=when,
        project=project_name,
        previous=previous,
        limit=limit,
        offset=offset,
        **rules,
    )
    if as_json:
        emit_json(found)
        return
    for person in found["persons"]:
        click.echo(person)


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--by", required=True, help="device, or trait:NAME (e.g. trait:country).")
@click.option("--month", default=None, metavar="YYYY-MM", help="Default: the current month.")
@click.option("--persons", "value", default=None, help="List the persons of this cell.")
@click.option("--no-value", is_flag=True, help="List the persons without the trait.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@_common
@click.pass_context
def segments(
    ctx: click.Context,
    org_name: str,
    by: str,
    month: str | None,
    value: str | None,
    no_value: bool,
    limit: int,
    offset: int,
    project_name: str | None,
    as_json: bool,
) -> None:
    """A month's MAU by a trait's latest value or by device type, or the persons of a cell."""
    when = month_option(month)
    if value is None and not no_value:
        found = _ask(ctx, "segments", org_name, by=by, month=when, project=project_name)
        if as_json:
            emit_json(found)
            return
        table = Table(found["dimension"], "persons", "share")
        for cell in found["cells"]:
            label = "(none)" if cell["value"] is None else cell["value"]
            table.add_row(label, f"{cell['persons']:,}", _percent(cell["share"]))
        out.print(table)
        out.print(f"MAU {found['mau']:,} ({found['month']})")
        return
    if value is not None and no_value:
        fail("give --persons VALUE or --no-value, not both")
    found = _ask(
        ctx,
        "segments/persons",
        org_name,
        by=by,
        value=value,
        month=when,
        project=project_name,
        limit=limit,
        offset=offset,
    )
    if as_json:
        emit_json(found)
        return
    for person in found["persons"]:
        click.echo(person)
