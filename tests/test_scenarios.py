"""Scenarios taken from the seed documents (../shared/seeds), end to end through `Meter`."""

from __future__ import annotations

from maumeter.core.months import Month
from maumeter.meter import Meter

MARCH = Month(2024, 3)


def decision(user: str, experiment: str, n: int, **props: object) -> dict[str, object]:
    return {
        "type": "track",
        "userId": user,
        "event": "Decision",
        "messageId": f"{user}-{experiment}-{n}",
        "properties": {"experiment_id": experiment, "variation": "a", **props},
    }


def test_optimizely_attic_and_button(meter: Meter) -> None:
    """3 experiments on the homepage, one with two pages → 4 decisions: 1 MAU, 4 impressions;
    a refresh → 8; three searches with a Full Stack decision each → 11 impressions, 1 MAU."""
    meter.create_org("attic")
    meter.create_project("attic", "web", "decisions-and-tracking")
    visit = [
        decision("v1", "exp1", 0),
        decision("v1", "exp2", 0),
        decision("v1", "exp3", 0),
        decision("v1", "exp3", 1),
    ]
    meter.ingest(visit, "attic", "web")
    usage = meter.mau("attic", MARCH)
    assert (usage.mau, usage.impressions) == (1, 4)
    refresh = [{**d, "messageId": f"{d['messageId']}-refresh"} for d in visit]
    meter.ingest(refresh, "attic", "web")
    assert (meter.mau("attic", MARCH).mau, meter.mau("attic", MARCH).impressions) == (1, 8)
    searches = [decision("v1", "search", n) for n in range(3)]
    meter.ingest(searches, "attic", "web")
    usage = meter.mau("attic", MARCH)
    assert (usage.mau, usage.impressions) == (1, 11)
    assert meter.verify("attic").equal


def test_a_disabled_flag_decision_still_counts(meter: Meter) -> None:
    meter.create_org("o")
    meter.create_project("o", "fs", "decisions-and-tracking")
    meter.ingest([decision("u", "flag", 0, flag_key="new_nav", enabled=False)], "o", "fs")
    assert meter.mau("o", MARCH).mau == 1


def test_jimo_anonymous_inflation(meter: Meter) -> None:
    """One human on two devices without identification is 2 MAU; identified on both, 1."""
    meter.create_org("jimo")
    meter.create_project("jimo", "app", "sdk-load")
    meter.ingest(
        [
            {"type": "track", "anonymousId": "laptop", "event": "SDK Loaded"},
            {"type": "track", "anonymousId": "phone", "event": "SDK Loaded"},
        ],
        "jimo",
        "app",
    )
    usage = meter.mau("jimo", MARCH)
    assert (usage.mau, usage.anonymous, usage.identified) == (2, 2, 0)
    meter.ingest(
        [
            {"type": "identify", "anonymousId": "laptop", "userId": "ada"},
            {"type": "identify", "anonymousId": "phone", "userId": "ada"},
        ],
        "jimo",
        "app",
    )
    usage = meter.mau("jimo", MARCH)
    assert (usage.mau, usage.anonymous, usage.identified) == (1, 0, 1)
    assert [p.person for p in meter.active_persons("jimo", MARCH)] == ["ada"]
    assert meter.verify("jimo").equal


def test_optimizely_cross_project_dedupe(meter: Meter) -> None:
    """One user id in a Web and a Full Stack project: org MAU 1, project MAUs 1 and 1."""
    meter.create_org("opt")
    meter.create_project("opt", "web", "decisions-and-tracking")
    meter.create_project("opt", "fullstack", "decisions-and-tracking")
    meter.ingest([decision("ada", "e1", 0)], "opt", "web")
    meter.ingest([decision("ada", "e2", 0)], "opt", "fullstack")
    assert meter.mau("opt", MARCH).mau == 1
    assert meter.mau("opt", MARCH, "web").mau == 1
    assert meter.mau("opt", MARCH, "fullstack").mau == 1
    persons = meter.active_persons("opt", MARCH)
    assert [(p.person, p.projects) for p in persons] == [("ada", ("fullstack", "web"))]


def test_empty_snippet_counts_nobody(meter: Meter) -> None:
    meter.create_org("o")
    meter.create_project("o", "web", "decisions-and-tracking")
    meter.ingest(
        [{"type": "page", "anonymousId": "a", "context": {"page": {"url": "https://x/"}}}],
        "o",
        "web",
    )
    assert meter.mau("o", MARCH).mau == 0
    assert meter.verify("o").equal


def test_merge_is_retroactive_in_the_month(meter: Meter, clock) -> None:  # type: ignore[no-untyped-def]
    """An anonymous visitor counted on Monday who identifies on Friday as a user also counted
    this month makes the month's MAU drop by one."""
    meter.create_org("o")
    meter.create_project("o", "web")
    meter.ingest([{"type": "page", "anonymousId": "visitor"}], "o", "web")
    meter.ingest([{"type": "page", "userId": "ada"}], "o", "web")
    assert meter.mau("o", MARCH).mau == 2
    clock.advance(days=4)
    meter.ingest([{"type": "identify", "anonymousId": "visitor", "userId": "ada"}], "o", "web")
    assert meter.mau("o", MARCH).mau == 1
    assert meter.verify("o").equal


def test_billing_time_is_the_servers_clock(meter: Meter, clock) -> None:  # type: ignore[no-untyped-def]
    meter.create_org("o")
    meter.create_project("o", "web")
    meter.ingest([{"type": "page", "userId": "u", "timestamp": "2020-01-01T00:00:00Z"}], "o", "web")
    assert meter.mau("o", MARCH).mau == 1
    assert meter.mau("o", Month(2020, 1)).mau == 0


def test_import_uses_recorded_timestamps_and_requires_them(meter: Meter) -> None:
    meter.create_org("o")
    meter.create_project("o", "web")
    result = meter.import_records(
        [
            [
                {"type": "page", "userId": "u", "timestamp": "2023-07-04T10:00:00Z"},
                {"type": "page", "userId": "v"},
            ]
        ],
        "o",
        "web",
    )
    assert result.accepted == 1
    assert [(r.index, r.problems[0].field) for r in result.rejected] == [(1, "timestamp")]
    assert meter.mau("o", Month(2023, 7)).mau == 1


def test_duplicates_are_acknowledged_not_counted(meter: Meter) -> None:
    meter.create_org("o")
    meter.create_project("o", "web")
    first = meter.ingest([{"type": "page", "userId": "u", "messageId": "m"}], "o", "web")
    again = meter.ingest(
        [
            {"type": "page", "userId": "u", "messageId": "m"},
            {"type": "page", "userId": "u", "messageId": "m"},
        ],
        "o",
        "web",
    )
    assert (first.accepted, again.accepted, again.duplicates) == (1, 0, 2)
    assert meter.mau("o", MARCH).impressions == 1


def test_valid_records_are_kept_when_others_are_rejected(meter: Meter) -> None:
    meter.create_org("o")
    meter.create_project("o", "web")
    result = meter.ingest(
        [{"type": "page", "userId": "u"}, {"type": "track", "userId": "v"}], "o", "web"
    )
    assert result.accepted == 1
    assert result.rejected[0].index == 1 and result.rejected[0].problems[0].field == "event"
