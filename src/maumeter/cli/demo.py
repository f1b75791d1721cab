"""`maumeter demo`: fill a store with the demo orgs (what `serve` does on an empty store)."""

from __future__ import annotations

import time

import click

from maumeter.cli.shell import fail, main, opened, out
from maumeter.config import setting
from maumeter.demo import DEMO_ORGS, create_demo, key_lines


@main.command("demo")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generators.")
@click.pass_context
def demo_command(ctx: click.Context, seed: int) -> None:
    """Create the demo orgs (demo, chatbot, legacy): 18 months and more of activity through the
    real ingest path, closed statements, refused admissions; print their well-known keys.

    Refused when a demo org already exists in the store. Demo keys are public: never run this
    on a store that serves real traffic."""
    with opened(ctx) as meter:
        names = [spec.name for spec in DEMO_ORGS]
        found = sorted(set(names) & {info.name for info in meter.orgs()})
        if found:
            fail(
                f"{ctx.obj['db']} already has demo data (orgs {', '.join(found)}); use another --db"
            )
        meter.statements.configure(setting("experiment_key"), setting("flag_key"))
        started = time.monotonic()
        create_demo(meter, seed)
        elapsed = time.monotonic() - started
        out.print(
            f"created the demo orgs {', '.join(names)} in {ctx.obj['db']} ({elapsed:.1f} s)",
            highlight=False,
        )
        for line in key_lines():
            out.print(line, highlight=False, soft_wrap=True)
