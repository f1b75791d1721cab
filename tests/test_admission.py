"""The admission gate through `Meter`: policies, exclusions, atomicity under concurrency."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.conftest import Clock

from maumeter.core.admission import Reason, decide
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month
from maumeter.meter import Meter

MARCH = Month(2024, 3)


def setup(meter: Meter, policy: str, cap: int | None, rule: str = "conversation"):  # type: ignore[no-untyped-def]
    meter.create_org("acme", cap=cap, policy=policy)
    return meter.create_project("acme", "web", rule)


@pytest.mark.parametrize(
    ("policy", "cap", "mau", "counted", "excluded", "expected"),
    [
        ("hard", 2, 2, True, False, (True, True, Reason.ALREADY_COUNTED, 2)),
        ("hard", 2, 1, False, False, (True, True, Reason.WITHIN_CAP, 2)),
        ("hard", 2, 2, False, False, (False, False, Reason.CAP_REACHED, 2)),
        ("soft", 2, 2, False, False, (True, True, Reason.OVERAGE, 3)),
        ("soft", 2, 1, False, False, (True, True, Reason.WITHIN_CAP, 2)),
        ("none", None, 9, False, False, (True, True, Reason.WITHIN_CAP, 10)),
        ("hard", 0, 0, False, True, (True, False, Reason.EXCLUDED, 0)),
    ],
)
def test_decide(policy, cap, mau, counted, excluded, expected) -> None:  # type: ignore[no-untyped-def]
    d = decide(policy, cap, mau, counted, excluded)
    assert (d.admitted, d.counted, d.reason, d.mau) == expected


def test_hard_cap_refuses_new_persons_and_keeps_counted_ones(meter: Meter) -> None:
    web = setup(meter, "hard", 2)
    assert meter.admit(web, {"userId": "a"}).reason is Reason.WITHIN_CAP
    assert meter.admit(web, {"anonymousId": "b"}).reason is Reason.WITHIN_CAP
    refused = meter.admit(web, {"userId": "c"})
    assert (refused.admitted, refused.counted, refused.reason, refused.mau) == (
        False,
        False,
        Reason.CAP_REACHED,
        2,
    )
    again = meter.admit(web, {"userId": "a"})
    assert (again.admitted, again.reason) == (True, Reason.ALREADY_COUNTED)
    # b identifies as d: still the same counted person
    assert meter.admit(web, {"userId": "d", "anonymousId": "b"}).reason is Reason.ALREADY_COUNTED
    meter.admit(web, {"userId": "c"})
    usage = meter.mau("acme", MARCH)
    assert (usage.mau, usage.cap, usage.policy, usage.refused) == (2, 2, "hard", 1)
    # admissions are activity even under the "conversation" rule; refusals are not events
    assert usage.impressions == 4
    assert meter.verify("acme").equal


def test_soft_cap_counts_overage(meter: Meter) -> None:
    web = setup(meter, "soft", 1)
    assert meter.admit(web, {"userId": "a"}).reason is Reason.WITHIN_CAP
    d = meter.admit(web, {"userId": "b"})
    assert (d.admitted, d.counted, d.reason, d.mau) == (True, True, Reason.OVERAGE, 2)
    assert meter.mau("acme", MARCH).mau == 2


def test_bots_and_internal_persons_are_served_not_counted(meter: Meter) -> None:
    meter.create_org("acme", cap=1, policy="hard")
    rule = {
        "preset": "any-activity",
        "internal_email_domains": ["acme.com"],
        "internal_user_ids": ["staff-1"],
    }
    from maumeter.core.activity import ActivityRule

    web = meter.create_project("acme", "web", ActivityRule.from_json(rule))
    bot = {"anonymousId": "x", "context": {"userAgent": "Googlebot/2.1"}}
    staff = {"userId": "staff-1"}
    mail = {"userId": "e", "context": {"traits": {"email": "e@acme.com"}}}
    for request in (bot, staff, mail):
        d = meter.admit(web, request)
        assert (d.admitted, d.counted, d.reason) == (True, False, Reason.EXCLUDED)
    assert meter.admit(web, {"userId": "real"}).reason is Reason.WITHIN_CAP
    assert meter.mau("acme", MARCH).mau == 1
    assert meter.verify("acme").equal


def test_bad_admission_requests_name_the_field(meter: Meter) -> None:
    web = setup(meter, "hard", 5)
    with pytest.raises(InvalidInput) as exc:
        meter.admit(web, {"context": {}})
    assert exc.value.problems[0].field == "userId"
    with pytest.raises(InvalidInput):
        meter.admit(web, ["a"])
    assert meter.mau("acme", MARCH).mau == 0


def test_a_new_month_starts_a_new_allotment(meter: Meter, clock: Clock) -> None:
    web = setup(meter, "hard", 1)
    assert meter.admit(web, {"userId": "a"}).admitted
    assert not meter.admit(web, {"userId": "b"}).admitted
    clock.advance(days=20)
    assert meter.admit(web, {"userId": "b"}).reason is Reason.WITHIN_CAP


@pytest.mark.parametrize("seed", range(8))
def test_concurrent_admissions_at_the_cap(meter: Meter, seed: int) -> None:
    """Cap 100, 100-k counted; 200 concurrent admissions (150 new persons, 50 counted ones):
    exactly k new persons get in, no counted person is refused, the count ends at the cap."""
    rng = random.Random(seed)
    k = rng.randint(0, 60)
    web = setup(meter, "hard", 100)
    counted = [f"old-{i}" for i in range(100 - k)]
    meter.ingest(
        [{"type": "track", "userId": u, "event": "Message Sent"} for u in counted], "acme", "web"
    )
    requests = [{"userId": f"new-{i}"} for i in range(150)]
    requests += [{"userId": rng.choice(counted)} for _ in range(50)]
    rng.shuffle(requests)
    with ThreadPoolExecutor(max_workers=32) as pool:
        decisions = list(pool.map(lambda r: (r, meter.admit(web, r)), requests))
    new_in = [r for r, d in decisions if r["userId"].startswith("new") and d.admitted]
    false_refusals = [r for r, d in decisions if r["userId"].startswith("old") and not d.admitted]
    assert len(new_in) == k and false_refusals == []
    assert all(d.mau <= 100 for _, d in decisions)
    usage = meter.mau("acme", MARCH)
    assert (usage.mau, usage.refused) == (100, 150 - k)
    assert meter.verify("acme").equal


def test_concurrent_batches_share_commits_and_keep_their_own_accounting(meter: Meter) -> None:
    """Batches from many threads are written together (one merged batch per group): each
    still learns exactly which of its own records were duplicates."""
    meter.create_org("acme")
    meter.create_project("acme", "web")
    rng = random.Random(3)
    batches = [
        [
            {
                "type": "track",
                "userId": f"u{rng.randint(0, 50)}",
                "event": "e",
                "messageId": f"m{rng.randint(0, 400)}",
            }
            for _ in range(rng.randint(1, 30))
        ]
        for _ in range(120)
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda b: meter.ingest(b, "acme", "web"), batches))
    for batch, result in zip(batches, results, strict=True):
        assert result.accepted + result.duplicates == len(batch)
        assert result.accepted <= len({r["messageId"] for r in batch})
    distinct = {r["messageId"] for b in batches for r in b}
    assert sum(r.accepted for r in results) == len(distinct)
    assert meter.mau("acme", MARCH).impressions == len(distinct)
    assert meter.verify("acme").equal
