"""The `maumeter` command: a thin shell over `Meter`.

Errors are one line naming what is wrong, on stderr, with exit code 2; never a traceback.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from maumeter import sidecar
from maumeter.client import Backend, Local, Remote
from maumeter.config import SETTINGS, privacy_secrets, setting, webhook_policy
from maumeter.config import tiers as config_tiers
from maumeter.core.activity import parse_rule_arg
from maumeter.core.errors import InvalidInput, MaumeterError, StoreUnavailable
from maumeter.core.months import Month
from maumeter.meter import METRICS, PERSON_FIELDS, Meter
from maumeter.sources import count_rows

F = TypeVar("F", bound=Callable[..., Any])
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
@click.option(
    "--activity",
    default=None,
    help="Preset: any-activity, sdk-load, decisions-and-tracking, conversation.",
)
@click.option("--activity-json", default=None, metavar="RULE", help="A custom rule as JSON.")
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
    if activity and activity_json:
        fail("give --activity or --activity-json, not both")
    with backend(ctx) as store:
        rule = parse_rule_arg(activity, activity_json)
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


@main.command()
@click.argument("org_name", metavar="ORG")
@click.option("--metric", type=click.Choice(list(METRICS)), required=True)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD")
@click.option("--project", "project_name", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def series(
    ctx: click.Context,
    org_name: str,
    metric: str,
    start: str,
    end: str,
    project_name: str | None,
    as_json: bool,
) -> None:
    """DAU per day, WAU per ISO week, MAU per month, or rolling 30 days for each day."""
    first, last = day_option(start, "--from"), day_option(end, "--to")
    if last < first:
        fail(f"--to: must not be before --from ({first})")
    with backend(ctx) as store:
        points = store.series(org_name, metric, first, last, project_name)
    if as_json:
        emit_json(points)
        return
    table = Table("period", metric)
    for point in points:
        table.add_row(point["period"], f"{point['value']:,}")
    out.print(table)


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


# ---- exclusions and privacy: erasure, the audit log, retroactive rules ----------------------


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
@click.option("--activity", default=None, help="Preset: any-activity, sdk-load, ...")
@click.option("--activity-json", default=None, metavar="RULE", help="A custom rule as JSON.")
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
    if activity and activity_json:
        fail("give --activity or --activity-json, not both")
    with backend(ctx) as store:
        found = parse_rule_arg(activity, activity_json)
        change = store.set_rule(org_name, project_name, found)
    if as_json:
        emit_json(change)
        return
    out.print(
        f"rule of {org_name}/{project_name} set ({change['activity']['preset']}): "
        f"{change['events_changed']:,} events reclassified, "
        f"{len(change['restatements'])} closed months restated"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
