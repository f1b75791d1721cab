"""The audit log: admin actions, rules and erasures chained per org; tampering is found."""

from __future__ import annotations

from maumeter.meter import Meter
from privacy.helpers import ADA, setup


def test_admin_actions_are_chained_and_verify(meter: Meter) -> None:
    setup(meter)
    key, _ = meter.create_secret_key("acme", actor="secret:sk_abc…")
    meter.revoke_key("acme", key.id, actor="admin")
    meter.set_rule("acme", "web", "any-activity")
    meter.erase("acme", ADA)
    entries = meter.audit.entries("acme")
    actions = [e.action for e in entries]
    for wanted in ("org.create", "project.create", "key.create", "key.revoke", "rule.set"):
        assert wanted in actions
    assert actions[-1] == "person.erase"
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert {e.actor for e in entries} >= {"library", "secret:sk_abc…", "admin"}
    check = meter.audit.verify("acme")
    assert check.intact and check.entries == len(entries) and check.head == entries[-1].hash


def test_tampering_with_the_table_is_found(meter: Meter) -> None:
    setup(meter)
    meter.create_secret_key("acme")
    con = meter.store.cursor()
    con.execute(
        'UPDATE audit_log SET detail = \'{"kind":"write","key_id":99}\' '
        "WHERE org_id = 1 AND action = 'key.create'"
    )
    broken = meter.audit.verify("acme")
    seq = next(e.seq for e in meter.audit.entries("acme") if e.action == "key.create")
    assert not broken.intact and broken.broken_at == seq


def test_cutting_the_end_off_is_found_with_the_head(meter: Meter) -> None:
    setup(meter)
    meter.create_secret_key("acme")
    head = meter.audit.verify("acme").head
    last = meter.audit.entries("acme")[-1].seq
    meter.store.cursor().execute("DELETE FROM audit_log WHERE org_id = 1 AND seq = ?", [last])
    assert meter.audit.verify("acme").intact  # a shorter chain is still a chain...
    assert meter.audit.verify("acme", head=head).broken_at == last  # ... but not that one


def test_instance_wide_entries_have_their_own_chain(meter: Meter) -> None:
    meter.audit.record(None, "admin", "instance.note", {"what": "maintenance"})
    meter.audit.record(None, "admin", "instance.note", {"what": "again"})
    assert [e.seq for e in meter.audit.entries(None)] == [1, 2]
    assert meter.audit.verify(None).intact
