"""Frozen statements: the list reconciles with the count and with a naive recount; closing is
idempotent; late events and merges after a close become restatements; explain; inflation."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maumeter.core import statement as core
from maumeter.core.activity import ActivityRule, Verdict
from maumeter.core.counting import LoggedEvent, reference_count
from maumeter.core.errors import InvalidInput, NotFound
from maumeter.core.months import Month, zone
from maumeter.meter import Meter

MARCH, APRIL = Month(2024, 3), Month(2024, 4)
AFTER_MARCH = datetime(2024, 4, 2, tzinfo=UTC)
STAFF_RULE = ActivityRule.from_json({"preset": "any-activity", "internal_user_ids": ["staff"]})


def track(who: dict[str, str], event: str = "Seen", **properties: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "properties": properties, **who}


def history(at: datetime, record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "timestamp": at.isoformat()}


def reference(meter: Meter, org: str) -> Any:
    info = meter.store.org(org)
    rules = {p.name: p.activity for p in meter.projects(org)}
    log = (LoggedEvent(p, t, e) for p, t, e in meter.store.log(info))
    return reference_count(log, rules, zone(info.timezone))


def keys_of(meter: Meter, org: str, month: Month) -> list[str]:
    return meter.statements.persons(org, month).column("person_key").to_pylist()


@pytest.fixture
def shop(meter: Meter, clock: Any) -> Meter:
    """Org ``shop``: projects web (staff internal) and app (decisions); March activity with a
    merge, an internal user, a bot, experiments and flags; the clock in April."""
    meter.create_org("shop")
    meter.create_project("shop", "web", STAFF_RULE)
    meter.create_project("shop", "app", "decisions-and-tracking")
    meter.ingest(
        [
            track({"userId": "ada"}, "Decision", experiment_id="e1", flag_key="nav"),
            track({"anonymousId": "a-1"}),
            {"type": "identify", "anonymousId": "a-2", "userId": "bob"},
            track({"anonymousId": "a-2"}),
            track({"anonymousId": "a-3"}, "Decision", experiment_id="e2"),
            track({"userId": "staff"}),
            {**track({"userId": "crawler"}), "context": {"userAgent": "Googlebot/2.1"}},
            {"type": "identify", "userId": "idle"},
        ],
        "shop",
        "web",
    )
    meter.ingest(
        [
            track({"userId": "ada"}, "Decision", experiment_id="e2", flag_key="nav"),
            track({"userId": "staff"}, "Decision", experiment_id="e1"),
            track({"anonymousId": "a-3"}, "Decision", flag_key="dark"),
        ],
        "shop",
        "app",
    )
    clock.now = AFTER_MARCH
    return meter


def test_the_list_has_exactly_mau_rows_its_checksum_verifies_and_equals_a_naive_recount(
    shop: Meter,
) -> None:
    usage = shop.mau("shop", MARCH)
    statement = shop.statements.close("shop", MARCH)
    keys = keys_of(shop, "shop", MARCH)
    assert statement.mau == usage.mau == len(keys) == 5
    assert core.checksum(keys) == statement.checksum
    assert (
        set(keys) == reference(shop, "shop").persons(MARCH) == {"ada", "a-1", "bob", "a-3", "staff"}
    )
    figures = statement.to_dict()
    assert (figures["identified"], figures["anonymous"]) == (usage.identified, usage.anonymous)
    assert figures["impressions"] == usage.impressions
    assert figures["by_project"] == {"web": shop.mau("shop", MARCH, "web").mau, "app": 3}
    assert figures["recommended_tier"]["name"] == "starter"
    assert figures["effective_cap"] == shop.month_cap("shop", MARCH).effective_cap
    rows = {r["person_key"]: r for r in shop.statements.persons("shop", MARCH).to_pylist()}
    assert rows["bob"]["ids"] == ["bob", "a-2"] and rows["bob"]["identified"]
    assert rows["staff"]["project"] == "app"  # internal in web: counted by app only
    assert (rows["ada"]["event"], rows["ada"]["experiment"], rows["ada"]["flag"]) == (
        "Decision",
        "e1",
        "nav",
    )


def test_per_experiment_and_flag_mau_equal_a_naive_count(shop: Meter) -> None:
    statement = shop.statements.close("shop", MARCH).to_dict()
    ref = reference(shop, "shop")
    counted = ref.persons(MARCH)
    info = shop.store.org("shop")
    rules = {p.name: p.activity for p in shop.projects("shop")}
    key_of = {ident: key for key, ids in ref.ids_of.items() for ident in ids}
    per: dict[str, dict[str, set[str]]] = {
        "experiment_id": defaultdict(set),
        "flag_key": defaultdict(set),
    }
    for project, _, event in shop.store.log(info):
        if rules[project].evaluate(event) is not Verdict.QUALIFIES:
            continue
        actor = ("user", event.user_id) if event.user_id else ("anon", event.anonymous_id)
        key = key_of.get(actor)  # type: ignore[arg-type]
        if key not in counted or (project == "web" and key == "staff"):
            continue
        for prop, seen in per.items():
            if prop in event.properties:
                seen[str(event.properties[prop])].add(key)
    assert statement["by_experiment"] == {k: len(v) for k, v in per["experiment_id"].items()}
    assert statement["by_flag"] == {k: len(v) for k, v in per["flag_key"].items()}
    assert statement["by_experiment"] == {"e1": 2, "e2": 2}  # staff via app, a-3 and ada


def test_closing_refuses_a_month_not_yet_ended_and_is_idempotent(shop: Meter, clock: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        shop.statements.close("shop", APRIL)
    assert refused.value.problems[0].field == "month"
    clock.now = datetime(2024, 3, 31, 23, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        shop.statements.close("shop", MARCH)  # an hour before its end
    clock.now = AFTER_MARCH
    first = shop.statements.close("shop", MARCH)
    clock.advance(days=3)
    again = shop.statements.close("shop", MARCH)
    assert again == first and again.closed_at == AFTER_MARCH
    assert len(keys_of(shop, "shop", MARCH)) == first.mau
    assert [s.month for s in shop.statements.statements("shop")] == [MARCH]
    with pytest.raises(NotFound):
        shop.statements.get("shop", APRIL)


def test_late_events_after_close_make_a_restatement_and_leave_the_statement(shop: Meter) -> None:
    frozen = shop.statements.close("shop", MARCH)
    keys = keys_of(shop, "shop", MARCH)
    late = [history(datetime(2024, 3, 20, tzinfo=UTC), track({"userId": "late"}))]
    shop.import_records([late], "shop", "web")
    after = shop.statements.get("shop", MARCH)
    assert (after.mau, after.checksum, after.closed_at) == (
        frozen.mau,
        frozen.checksum,
        frozen.closed_at,
    )
    assert keys_of(shop, "shop", MARCH) == keys
    (record,) = after.restatements
    assert record.restatement.reason == core.Cause.LATE_EVENTS
    assert (record.restatement.added, record.restatement.removed) == (("late",), ())
    assert (record.restatement.previous_mau, record.restatement.new_mau) == (5, 6)
    assert after.current_mau == 6 == shop.mau("shop", MARCH).mau
    shop.import_records([late], "shop", "web")  # a duplicate changes nothing
    assert shop.statements.check(AFTER_MARCH) == []
    assert len(shop.statements.get("shop", MARCH).restatements) == 1


def test_an_identity_merge_after_close_makes_a_restatement(shop: Meter, clock: Any) -> None:
    frozen = shop.statements.close("shop", MARCH)
    assert "a-1" in keys_of(shop, "shop", MARCH)
    shop.ingest([{"type": "identify", "anonymousId": "a-1", "userId": "ada"}], "shop", "web")
    made = shop.statements.check(clock.now)
    (record,) = made
    assert record.restatement.reason == core.Cause.IDENTITY_MERGE
    assert (record.restatement.added, record.restatement.removed) == ((), ("a-1",))
    assert shop.statements.get("shop", MARCH).checksum == frozen.checksum
    assert shop.statements.check(clock.now) == []  # reconciled: nothing more to say
    assert shop.statements.restate("shop", "rule-change") == []  # an explicit recount agrees


def test_auto_close_closes_ended_months_after_the_grace_period(meter: Meter, clock: Any) -> None:
    meter.create_org("o")
    meter.create_project("o", "web")
    meter.ingest([track({"userId": "u"})], "o", "web")
    clock.now = datetime(2024, 4, 3, 23, tzinfo=UTC)
    assert meter.statements.auto_close(clock.now) == []  # within 3 days of March's end
    clock.now = datetime(2024, 5, 4, 1, tzinfo=UTC)
    closed = meter.statements.auto_close(clock.now)
    assert [(s.month, s.mau) for s in closed] == [(MARCH, 1), (APRIL, 0)]
    assert meter.statements.auto_close(clock.now) == []


def test_export_csv_and_parquet(shop: Meter, tmp_path: Path) -> None:
    statement = shop.statements.close("shop", MARCH)
    assert shop.statements.export("shop", MARCH, tmp_path / "p.csv") == statement.mau
    assert shop.statements.export("shop", MARCH, tmp_path / "p.parquet") == statement.mau
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0].startswith("person_key,identified,ids,first_time,project")
    keys = [line.split(",")[0] for line in lines[1:]]
    assert core.checksum(keys) == statement.checksum and keys == sorted(keys)
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    for row in rows:  # ISO 8601 in UTC, as the API answers; ids a JSON array
        assert datetime.fromisoformat(row["first_time"]).tzinfo is not None
        assert row["first_time"].endswith("Z") and "T" in row["first_time"]
        assert row["person_key"] in json.loads(row["ids"])
    table = pq.read_table(tmp_path / "p.parquet")
    assert core.checksum(table.column("person_key").to_pylist()) == statement.checksum
    with pytest.raises(InvalidInput):
        shop.statements.export("shop", MARCH, tmp_path / "p.txt")


# ---- explain --------------------------------------------------------------------------------


def test_explain_counted_internal_bot_never_active_unknown(shop: Meter) -> None:
    ada = shop.statements.explain("shop", "ada", MARCH)
    assert ada.counted and ada.qualifying_events == 2 and ada.projects == ("app", "web")
    assert ada.first is not None and ada.first["project"] == "web"
    assert ada.first["rule"]["matcher"] == {"type": "track"}
    bob = shop.statements.explain("shop", "a-2", MARCH)  # any id explains the whole person
    assert bob.counted and bob.person == "bob"
    assert bob.ids == (("user", "bob"), ("anonymous", "a-2"))
    bot = shop.statements.explain("shop", "crawler", MARCH)
    assert (bot.counted, bot.reason) == (False, "bot")
    idle = shop.statements.explain("shop", "idle", MARCH)
    assert idle.reason == "not-activity"  # an identify is not activity
    assert shop.statements.explain("shop", "ada", APRIL).reason == "no-activity"
    assert shop.statements.explain("shop", "nobody", MARCH).reason == "unknown-id"
    staff = shop.statements.explain("shop", "staff", MARCH)
    assert staff.counted and staff.projects == ("app",)  # internal only in web
    shop.statements.close("shop", MARCH)
    assert shop.statements.explain("shop", "ada", MARCH).in_statement is True
    assert shop.statements.explain("shop", "crawler", MARCH).in_statement is False


def test_explain_internal_and_refused(meter: Meter, clock: Any) -> None:
    meter.create_org("gate", cap=1, policy="hard")
    web = meter.create_project("gate", "web", STAFF_RULE)
    meter.ingest([track({"userId": "staff"})], "gate", "web")
    assert meter.admit(web, {"userId": "first"}).admitted
    assert not meter.admit(web, {"userId": "second"}).admitted
    staff = meter.statements.explain("gate", "staff", MARCH)
    assert (staff.counted, staff.reason) == (False, "internal")
    refused = meter.statements.explain("gate", "second", MARCH)
    assert (refused.counted, refused.reason) == (False, "refused")
    first = meter.statements.explain("gate", "first", MARCH)
    assert first.counted and first.first is not None
    assert first.first["rule"]["matcher"] == {"type": "admit"}


# ---- anonymous inflation --------------------------------------------------------------------


def naive_inflation(meter: Meter, org: str, month: Month) -> tuple[int, int]:
    """(MAU as seen, later identified) straight from the log and the reference count."""
    info = meter.store.org(org)
    ref = reference(meter, org)
    counted = ref.persons(month)
    key_of = {ident: key for key, ids in ref.ids_of.items() for ident in ids}
    log = list(meter.store.log(info))
    link: dict[str, datetime] = {}
    for _, at, e in log:
        linked = e.previous_id if e.type == "alias" else e.anonymous_id
        if linked is not None and e.user_id is not None:
            link[linked] = min(at, link.get(linked, at))
    rules = {p.name: p.activity for p in meter.projects(org)}
    seen: set[tuple[str, str]] = set()
    early: set[str] = set()
    tz = zone(info.timezone)
    for project, at, e in log:
        if Month.of(at, tz) != month or rules[project].evaluate(e) is not Verdict.QUALIFIES:
            continue
        actor = ("user", e.user_id) if e.user_id else ("anon", e.anonymous_id)
        key = key_of.get(actor)  # type: ignore[arg-type]
        if key not in counted:
            continue
        identified_now = any(k == "user" for k, _ in ref.ids_of[key])
        if e.user_id is None and identified_now and at < link.get(e.anonymous_id, at):  # type: ignore[arg-type]
            seen.add(("anon", e.anonymous_id))  # type: ignore[arg-type]
            early.add(e.anonymous_id)  # type: ignore[arg-type]
        else:
            seen.add(("person", key))
    return len(seen), len(early)


def test_anonymous_inflation_against_a_naive_computation(meter: Meter, clock: Any) -> None:
    meter.create_org("jimo")
    meter.create_project("jimo", "app", "sdk-load")
    day = datetime(2024, 3, 1, tzinfo=UTC)
    sdk = {"type": "track", "event": "SDK Loaded"}
    meter.import_records(
        [
            [
                history(day, {**sdk, "anonymousId": "laptop"}),
                history(day + timedelta(days=1), {**sdk, "anonymousId": "phone"}),
                history(day + timedelta(days=2), {**sdk, "userId": "ada"}),
                history(day + timedelta(days=3), {**sdk, "anonymousId": "tablet"}),
                history(day + timedelta(days=4), {**sdk, "anonymousId": "kiosk"}),
                history(
                    day + timedelta(days=5),
                    {"type": "identify", "anonymousId": "laptop", "userId": "ada"},
                ),
                history(
                    day + timedelta(days=40),
                    {"type": "alias", "previousId": "phone", "userId": "ada"},
                ),
            ]
        ],
        "jimo",
        "app",
    )
    found = meter.statements.inflation("jimo", MARCH)
    assert (found.mau, found.identified, found.anonymous) == (3, 1, 2)  # ada, tablet, kiosk
    assert (found.mau_as_seen, found.later_identified) == naive_inflation(meter, "jimo", MARCH)
    assert (found.mau_as_seen, found.later_identified, found.inflation) == (5, 2, 2)
    assert found.to_dict()["anonymous_share"] == pytest.approx(2 / 3, abs=1e-6)


# ---- properties -----------------------------------------------------------------------------

START = datetime(2024, 2, 25, tzinfo=UTC)
anons = st.sampled_from(["a0", "a1", "a2", "a3", "a4"])
users = st.sampled_from(["u0", "u1", "u2", "staff"])


@st.composite
def record(draw: st.DrawFn) -> dict[str, Any]:
    at = START + timedelta(hours=draw(st.integers(0, 24 * 40)))
    kind = draw(st.sampled_from(["anon", "user", "both", "alias", "page"]))
    out: dict[str, Any] = {"timestamp": at.isoformat(), "type": "track", "event": "Seen"}
    if kind == "alias":
        out = {
            "timestamp": at.isoformat(),
            "type": "alias",
            "previousId": draw(anons),
            "userId": draw(users),
        }
    elif kind == "page":
        out.update(type="page", anonymousId=draw(anons))
    else:
        if kind in ("anon", "both"):
            out["anonymousId"] = draw(anons)
        if kind in ("user", "both"):
            out["userId"] = draw(users)
    if draw(st.booleans()):
        out["properties"] = {"experiment_id": draw(st.sampled_from(["x", "y"]))}
    return out


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(record(), min_size=1, max_size=30))
def test_closing_is_idempotent_and_the_list_is_the_reference_count(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, Any]]
) -> None:
    path = tmp_path_factory.mktemp("p") / "s.duckdb"
    now = datetime(2024, 5, 2, tzinfo=UTC)
    with Meter.open(path, clock=lambda: now) as meter:
        meter.create_org("o", timezone="America/New_York")
        meter.create_project("o", "web", STAFF_RULE)
        meter.create_project("o", "app", "decisions-and-tracking")
        half = len(records) // 2
        meter.import_records([records[:half]], "o", "web")
        meter.import_records([records[half:]], "o", "app")
        ref = reference(meter, "o")
        for month in (Month(2024, 2), MARCH, APRIL):
            first = meter.statements.close("o", month)
            again = meter.statements.close("o", month)
            keys = keys_of(meter, "o", month)
            assert first == again and first.mau == len(keys) == ref.mau(month)
            assert set(keys) == ref.persons(month)
            assert core.checksum(keys) == first.checksum


# ---- faces ----------------------------------------------------------------------------------


def test_api_close_statement_persons_explain_inflation(shop: Meter) -> None:
    from fastapi.testclient import TestClient

    from maumeter.api.app import create_app

    secret = shop.create_secret_key("shop")[1]
    client = TestClient(create_app(shop))
    auth = {"Authorization": f"Bearer {secret}"}
    base = "/api/v1/orgs/shop"
    assert client.post(f"{base}/statements/2024-04/close", headers=auth).status_code == 400
    closed = client.post(f"{base}/statements/2024-03/close", headers=auth).json()
    assert closed["mau"] == 5 and closed["restatements"] == []
    assert client.get(f"{base}/statements", headers=auth).json() == [closed]
    assert client.get(f"{base}/statements/2024-03", headers=auth).json() == closed
    assert client.get(f"{base}/statements/2024-04", headers=auth).status_code == 404
    text = client.get(f"{base}/statements/2024-03/persons", headers=auth).text
    keys = [line.split(",")[0] for line in text.splitlines()[1:]]
    assert core.checksum(keys) == closed["checksum"]
    parquet = client.get(f"{base}/statements/2024-03/persons?format=parquet", headers=auth)
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 5
    why = client.get(
        f"{base}/explain", params={"person": "crawler", "month": "2024-03"}, headers=auth
    ).json()
    assert (why["counted"], why["reason"]) == (False, "bot")
    inflation = client.get(f"{base}/inflation?month=2024-03", headers=auth).json()
    assert inflation["mau"] == 5
    assert client.get(f"{base}/statements", headers={}).status_code == 401


def test_cli_close_statement_explain(shop: Meter, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from maumeter.cli import main

    db = str(shop.store.path)  # type: ignore[attr-defined]
    shop.statements.close("shop", MARCH)
    shop.close()
    runner = CliRunner()
    closed = runner.invoke(main, ["--db", db, "close", "shop", "--month", "2024-03", "--json"])
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.output)["mau"] == 5
    out = tmp_path / "persons.csv"
    shown = runner.invoke(
        main, ["--db", db, "statement", "shop", "--month", "2024-03", "--persons", str(out)]
    )
    assert shown.exit_code == 0, shown.output
    assert "5" in shown.output and len(out.read_text().splitlines()) == 6
    why = runner.invoke(
        main, ["--db", db, "explain", "shop", "a-2", "--month", "2024-03", "--json"]
    )
    assert why.exit_code == 0 and json.loads(why.output)["person"] == "bob"
    inflated = runner.invoke(
        main, ["--db", db, "inflation", "shop", "--month", "2024-03", "--json"]
    )
    assert inflated.exit_code == 0, inflated.output
    figures = json.loads(inflated.output)
    assert figures["mau"] == 5 and figures["mau_identified_on_first_sight"] == 5
    open_month = runner.invoke(main, ["--db", db, "close", "shop", "--month", "2099-01"])
    assert open_month.exit_code == 2 and "month" in open_month.output


def test_erasure_after_close_keeps_the_count_and_a_replay_stays_erased(shop: Meter) -> None:
    frozen = shop.statements.close("shop", MARCH)
    shop.erase("shop", "a-2")  # bob, by one of his ids
    after = shop.statements.get("shop", MARCH)
    keys = keys_of(shop, "shop", MARCH)
    assert after.mau == frozen.mau == len(keys) and "bob" not in keys
    assert core.checksum(keys) == after.checksum
    assert sum(core.is_tombstone(k) for k in keys) == 1
    assert shop.statements.restate("shop", core.Cause.ERASURE.value) == []
    replay = [history(datetime(2024, 3, 3, tzinfo=UTC), track({"userId": "bob"}))]
    shop.import_records([replay], "shop", "web")
    assert shop.statements.get("shop", MARCH).restatements == ()


def test_explain_takes_the_raw_id_when_ids_are_pseudonymised(tmp_path: Path, clock: Any) -> None:
    from maumeter.store.privacy import Secrets

    secrets = Secrets(pseudonymize="pseudonym-secret-for-tests", erasure="erasure-secret")
    with Meter.open(tmp_path / "p.duckdb", clock=clock, secrets=secrets) as meter:
        meter.create_org("o")
        meter.create_project("o", "web")
        meter.ingest([track({"userId": "ada", "anonymousId": "laptop"})], "o", "web")
        found = meter.statements.explain("o", "laptop", MARCH)
        assert found.counted and found.person == meter.privacy.pseudonym("o", "ada")
