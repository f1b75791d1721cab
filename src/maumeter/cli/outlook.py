"""Where MAU is going: growth, seasonality, forecasts, account health, the MAU worksheet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from maumeter.cli.shell import backend, emit_json, fail, main, out

PROJECT = click.option("--project", "project_name", default=None, help="One project.")
JSON = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def _ask(ctx: click.Context, name: str, org: str, **arguments: Any) -> Any:
    with backend(ctx) as store:
        return store.analytics(name, org, **arguments)


@main.command()
@click.argument("org_name", metavar="ORG")
@PROJECT
@JSON
@click.pass_context
def growth(ctx: click.Context, org_name: str, project_name: str | None, as_json: bool) -> None:
    """MoM and YoY growth of every complete month, and the compound monthly growth rate."""
    found = _ask(ctx, "growth", org_name, project=project_name)
    if as_json:
        emit_json(found)
        return
    table = Table("month", "MAU", "MoM", "YoY")
    for m in found["months"]:
        table.add_row(m["month"], f"{m['mau']:,}", _rate(m["mom"]), _rate(m["yoy"]))
    out.print(table)
    out.print(f"compound monthly growth {_rate(found['cmgr'])}")


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option(
    "--series", type=click.Choice(["daily", "monthly"]), default="daily", show_default=True
)
@PROJECT
@JSON
@click.pass_context
def seasonality(
    ctx: click.Context, org_name: str, series: str, project_name: str | None, as_json: bool
) -> None:
    """Seasonal decomposition (STL): weekly on daily DAU, yearly on monthly MAU."""
    found = _ask(ctx, "seasonality", org_name, series=series, project=project_name)
    if as_json:
        emit_json(found)
        return
    if not found["available"]:
        out.print(found["reason"])
        return
    out.print(
        f"seasonal strength {found['strength']:.2f}, peak {found['peak']}, trough {found['trough']}"
    )
    table = Table("position", "seasonal effect")
    for position in found["profile"]:
        table.add_row(str(position["position"]), f"{position['seasonal']:+,.1f}")
    out.print(table)


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--horizon", type=click.IntRange(1, 120), default=12, show_default=True)
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.8)
@JSON
@click.pass_context
def forecast(ctx: click.Context, org_name: str, horizon: int, level: float, as_json: bool) -> None:
    """This month's end MAU, the months ahead with intervals, when the cap is reached."""
    found = _ask(ctx, "forecast", org_name, horizon=horizon, level=level)
    if as_json:
        emit_json(found)
        return
    end = found["month_end"]
    if end["expected"] is not None:
        out.print(
            f"{end['month']}: {end['mau']:,} so far, month end {end['expected']:,} "
            f"({end['low']:,}–{end['high']:,}, {end['method']})"
        )
    months = found["months"]
    if not months["available"]:
        out.print(months["reason"])
    else:
        table = Table("month", "expected", f"low ({months['level']:.0%})", "high")
        for p in months["points"]:
            table.add_row(p["month"], f"{p['expected']:,}", f"{p['low']:,}", f"{p['high']:,}")
        out.print(table)
        out.print(f"method {months['method']}")
    if found["cap"] is not None:
        out.print(
            f"cap {found['cap']:,}: reached {found['cap_reached'] or 'not within the horizon'}"
            + (
                f", possibly {found['cap_possibly_reached']}"
                if found["cap_possibly_reached"]
                else ""
            )
        )
    if found["fitting_tier"]:
        out.print(f"tier that fits: {found['fitting_tier']}")


def _health_row(table: Table, h: dict[str, Any]) -> None:
    table.add_row(
        h["org"],
        str(h["score"]),
        "yes" if h["churn_risk"] else "",
        "; ".join(h["reasons"]),
    )


@main.command()
@click.argument("org_name", metavar="ORG")
@JSON
@click.pass_context
def health(ctx: click.Context, org_name: str, as_json: bool) -> None:
    """An org's account health: 0–100 score, churn-risk flag and the reasons."""
    found = _ask(ctx, "health", org_name)
    if as_json:
        emit_json(found)
        return
    table = Table("org", "score", "churn risk", "reasons")
    _health_row(table, found)
    out.print(table)


@main.command()
@JSON
@click.pass_context
def accounts(ctx: click.Context, as_json: bool) -> None:
    """Every org's account health, riskiest first (the operator's view)."""
    with backend(ctx) as store:
        found = store.accounts()
    if as_json:
        emit_json(found)
        return
    table = Table("org", "score", "churn risk", "reasons")
    for h in found:
        _health_row(table, h)
    out.print(table)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@JSON
@click.pass_context
def worksheet(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Optimizely's MAU worksheet: a JSON file (or - for stdin) with channels, monthly unique
    visitors, coverage, bot share and annual growth → estimated MAU and the tier that fits."""
    try:
        text = click.get_text_stream("stdin").read() if str(file) == "-" else file.read_text()
    except OSError as exc:
        fail(f"{file}: {exc.strerror}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        fail(f"{file}: not JSON ({exc})")
    with backend(ctx) as store:
        found = store.worksheet(data)
    if as_json:
        emit_json(found)
        return
    table = Table("channel", "MAU", "peak")
    for c in found["channels"]:
        table.add_row(str(c.get("name")), f"{c.get('mau', 0):,}", f"{c.get('peak', 0):,}")
    out.print(table)
    out.print(
        f"MAU {found['mau']:,} (peak {found['peak']:,}); peak over the horizon "
        f"{found['horizon_peak']:,}; tier now {found['tier_now']['name']}, "
        f"recommended {found['recommended_tier']['name']}"
    )
