"""Rule changes are retroactive: open months recount at once (as a naive recount says), closed
statements stay frozen and get a restatement, the store's rule caches follow."""

from __future__ import annotations

from dataclasses import replace

from maumeter.core.activity import DEFAULT_BOT_PATTERNS, DEFAULT_RULE
from maumeter.meter import Meter
from privacy.helpers import JAN, MAR, history, naive_mau, setup

STRICT = replace(
    DEFAULT_RULE,
    bot_user_agents=(*DEFAULT_BOT_PATTERNS, "acmemonitor"),
    internal_user_ids=frozenset({"staff-1"}),
)


def test_a_new_rule_recounts_open_months_and_restates_closed_ones(meter: Meter) -> None:
    statements = setup(meter)
    frozen = statements.get("acme", JAN)
    assert meter.mau("acme", MAR).mau == 6

    change = meter.set_rule("acme", "web", STRICT, actor="cli")

    assert change.events_changed == 2  # the monitor's two events are bots now
    assert meter.mau("acme", MAR).mau == naive_mau(history(), MAR, STRICT, set()) == 4
    assert meter.mau("acme", MAR, "web").mau == 4
    assert meter.verify("acme").equal  # the verdict column is the current rule's
    kept = statements.get("acme", JAN)
    assert (kept.mau, kept.checksum) == (frozen.mau, frozen.checksum)
    [restated] = kept.restatements
    assert restated.restatement.reason == "rule-change"
    assert restated.restatement.removed == ("monitor", "staff-1")
    assert restated.restatement.new_mau == naive_mau(history(), JAN, STRICT, set()) == 3
    *_, entry, restated_entry = meter.audit.entries("acme")
    assert (entry.action, entry.actor) == ("rule.set", "cli")
    assert restated_entry.action == "statement.restate"
    assert restated_entry.detail["reason"] == "rule-change"
    assert (restated_entry.detail["removed"], restated_entry.detail["added"]) == (2, 0)
    assert entry.detail["internal_user_ids"] == 1  # how many, never which


def test_the_new_rule_applies_to_later_events_and_after_a_restart(
    meter: Meter, tmp_path: object
) -> None:
    setup(meter)
    meter.set_rule("acme", "web", STRICT)
    later = [
        {"type": "track", "userId": "other-bot", "event": "Logged In",
         "context": {"userAgent": "AcmeMonitor/3"}},
        {"type": "track", "userId": "staff-1", "event": "Logged In"},
        {"type": "track", "userId": "dana", "event": "Logged In"},
    ]  # fmt: skip
    meter.ingest(later, "acme", "web")
    assert meter.mau("acme", MAR).mau == 5  # dana only
    assert meter.store.project("acme", "web").activity == STRICT
    path = meter.store.path
    meter.close()
    with Meter.open(path, clock=meter.clock) as again:
        assert again.mau("acme", MAR).mau == 5
        assert again.store.project("acme", "web").activity == STRICT


def test_relaxing_a_rule_brings_persons_back(meter: Meter) -> None:
    setup(meter)
    meter.set_rule("acme", "web", STRICT)
    meter.set_rule("acme", "web", "any-activity")
    assert meter.mau("acme", MAR).mau == 6
    assert meter.verify("acme").equal
