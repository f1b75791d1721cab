"""The demo data: three orgs through the real ingest path, with what every dashboard chart
reads (history, seasonality, segments, levels, statements, refusals, alerts), exact and
deterministic for a given clock. Built once per module (it takes several seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from maumeter.cli import main, shell
from maumeter.core.months import Month
from maumeter.demo import DEMO_ORGS, DEMO_SECRET_KEY, DEMO_WRITE_KEY, create_demo
from maumeter.meter import Meter

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def fixed() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Meter]:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with Meter.open(path, clock=fixed) as meter:
        create_demo(meter)
        yield meter


def figures(meter: Meter) -> dict[str, Any]:
    """What two stores built from the same clock must agree on."""
    found: dict[str, Any] = {}
    for spec in DEMO_ORGS:
        usage = meter.mau(spec.name)
        found[spec.name] = (
            meter.analytics.history(spec.name),
            (usage.mau, usage.identified, usage.impressions, usage.refused, usage.cap),
            [(s.month, s.mau, s.checksum) for s in meter.statements.statements(spec.name)],
        )
    return found


def test_three_orgs_with_their_projects_and_working_keys(built: Meter) -> None:
    assert [o.name for o in built.orgs()] == ["demo", "chatbot", "legacy"]
    for spec in DEMO_ORGS:
        org = built.org(spec.name)
        assert [p.name for p in built.projects(spec.name)] == [p.name for p in spec.projects]
        secret = built.authenticate(spec.secret_key)
        assert secret is not None and secret.kind == "secret" and secret.org_id == org.id
        for project in spec.projects:
            found = built.project_for_key(project.write_key)
            assert found is not None and (found.org_id, found.name) == (org.id, project.name)
    assert built.authenticate(DEMO_WRITE_KEY) and built.authenticate(DEMO_SECRET_KEY)


def test_every_org_has_at_least_18_months_of_history(built: Meter) -> None:
    for spec in DEMO_ORGS:
        history = built.analytics.history(spec.name)
        assert len(history) == spec.months >= 18
        assert all(mau > 0 for _, mau in history)
        assert history[-1][0] == Month(2026, 10)
        assert built.mau(spec.name).mau > 0  # today's activity too


def test_demo_grows_and_legacy_declines(built: Meter) -> None:
    demo = [mau for _, mau in built.analytics.history("demo")]
    assert demo[-1] > 2 * demo[0]
    assert built.analytics.growth("demo").to_dict()  # growth has months to show
    legacy = [mau for _, mau in built.analytics.history("legacy")]
    assert legacy[-4] > legacy[-3] > legacy[-2] > legacy[-1]
    assert legacy[-1] < 0.6 * max(legacy)


def test_chatbot_has_weekly_and_yearly_seasons(built: Meter) -> None:
    weekly = built.analytics.seasonality("chatbot")
    assert weekly.available and weekly.strength is not None and weekly.strength > 0.3
    assert weekly.trough in ("Saturday", "Sunday")
    yearly = built.analytics.seasonality("chatbot", "monthly")
    assert yearly.available and yearly.peak == "December"


def test_every_ended_month_is_closed(built: Meter) -> None:
    for spec in DEMO_ORGS:
        statements = built.statements.statements(spec.name)
        months = [m for m, _ in built.analytics.history(spec.name)]
        assert [s.month for s in statements] == months
        live = dict(built.analytics.history(spec.name))
        assert all(s.mau == live[s.month] and not s.restatements for s in statements)


def test_demo_statement_has_projects_experiments_and_flags(built: Meter) -> None:
    last = built.statements.statements("demo")[-1].figures
    assert set(last["by_project"]) == {"web", "mobile"}
    assert len(last["by_experiment"]) >= 2 and all(last["by_experiment"].values())
    assert len(last["by_flag"]) >= 3 and all(last["by_flag"].values())
    assert last["anonymous"] > 0 and last["identified"] > last["anonymous"]


def test_legacy_refuses_admissions_at_its_hard_cap(built: Meter) -> None:
    usage = built.mau("legacy")
    assert usage.refused > 0
    assert usage.policy == "hard" and built.plan("legacy").policy == "hard"
    assert usage.cap is not None and usage.mau <= usage.cap
    assert usage.mau >= usage.cap - 5  # near it
    fired = {f.key for f in built.alerts.fired("legacy")}
    assert "threshold:100" in fired


def test_demo_is_within_its_soft_plan(built: Meter) -> None:
    live = built.live_usage("demo")
    assert live.policy == "soft" and 0.5 < live.mau / live.effective_cap < 0.9
    assert built.alerts.fired("demo")


def test_segments_by_device_and_trait(built: Meter) -> None:
    month = Month(2026, 10)
    devices = built.analytics.segments.devices("demo", month)
    assert {v for v, n in devices.cells if n} >= {"desktop", "mobile", "tablet"}
    for org, trait in (("demo", "country"), ("demo", "plan"), ("chatbot", "language")):
        cells = built.analytics.segments.traits(org, month, trait).cells
        assert len([v for v, n in cells if v is not None and n]) >= 2
    assert len(built.analytics.segments.devices("chatbot", month).cells) >= 2


def test_levels_show_legacy_at_risk(built: Meter) -> None:
    counts = built.analytics.levels("legacy").counts
    assert counts["at_risk"] > 0 and counts["dormant"] > 0


def test_counts_are_exact(built: Meter) -> None:
    for spec in DEMO_ORGS:
        assert built.verify(spec.name).equal, spec.name


def test_cli_demo_is_deterministic_and_refuses_a_second_run(
    built: Meter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``maumeter demo`` at the same clock builds the same store; a second run is refused."""

    class AtNow(Meter):
        @classmethod
        def open(cls, *args: Any, **kwargs: Any) -> Meter:
            return Meter.open(*args, **{**kwargs, "clock": fixed})

    monkeypatch.setattr(shell, "Meter", AtNow)
    db = tmp_path / "cli.duckdb"
    runner = CliRunner()
    first = runner.invoke(main, ["--db", str(db), "demo"])
    assert first.exit_code == 0, first.output
    for spec in DEMO_ORGS:
        assert spec.secret_key in first.stdout
        assert all(p.write_key in first.stdout for p in spec.projects)
    assert "demo org demo: write key wk_demo_web, secret key sk_demo_org" in first.stdout
    second = runner.invoke(main, ["--db", str(db), "demo"])
    assert second.exit_code == 2
    assert len(second.stderr.strip().splitlines()) == 1 and "already" in second.stderr
    with Meter.open(db, clock=fixed) as again:
        assert figures(again) == figures(built)
