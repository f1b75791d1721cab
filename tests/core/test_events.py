"""Validation reports every problem of a record, naming the field and what was expected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maumeter.core.errors import InvalidInput
from maumeter.core.events import derive_message_id, parse_event, validate


def fields(record: object, **kwargs: object) -> list[str]:
    return [p.field for p in validate(record, **kwargs)]


def test_a_valid_track_is_normalised() -> None:
    event = parse_event(
        {
            "type": "track",
            "userId": 42,
            "event": "Logged In",
            "messageId": "m1",
            "timestamp": "2024-03-01T12:00:00.000Z",
            "properties": {"plan": "pro"},
            "channel": "web",
        }
    )
    assert event.user_id == "42"
    assert event.timestamp == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert event.properties == {"plan": "pro"}
    assert event.extra == {"channel": "web"}
    assert not event.message_id_derived


def test_every_problem_is_reported_at_once() -> None:
    problems = validate(
        {
            "type": "track",
            "userId": "",
            "anonymousId": True,
            "messageId": "x" * 101,
            "timestamp": "yesterday",
            "properties": [1],
            "traits": "x",
            "context": 3,
        }
    )
    assert {p.field for p in problems} == {
        "userId",
        "anonymousId",
        "messageId",
        "timestamp",
        "properties",
        "traits",
        "context",
        "event",
    }
    assert all(p.message for p in problems)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"type": "track", "event": "x"}, "userId"),
        ({"type": "track", "userId": "u"}, "event"),
        ({"type": "alias", "userId": "u"}, "previousId"),
        ({"type": "page", "userId": "u" * 256}, "userId"),
        ({"type": "page", "userId": "   "}, "userId"),
        ({"type": "page", "userId": 1.5}, "userId"),
        ({"type": "page", "userId": None, "anonymousId": ["a"]}, "anonymousId"),
        ({"type": "bogus", "userId": "u"}, "type"),
        ({"userId": "u"}, "type"),
        ({"type": "page", "userId": "u", "timestamp": 1700000000}, "timestamp"),
        ({"type": "page", "userId": "u", "sentAt": "2024-13-01T00:00:00Z"}, "sentAt"),
    ],
)
def test_each_rule_names_its_field(record: dict[str, object], field: str) -> None:
    assert field in fields(record)


def test_not_an_object() -> None:
    assert fields([1, 2]) == ["record"]


def test_endpoint_type_must_agree() -> None:
    assert "type" in fields({"type": "page", "userId": "u"}, default_type="track")
    assert parse_event({"userId": "u", "event": "e"}, default_type="track").type == "track"


def test_invalid_raises_with_all_problems() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_event({"type": "track"})
    assert {p.field for p in caught.value.problems} == {"userId", "event"}


def test_naive_timestamps_are_utc_and_offsets_convert() -> None:
    assert parse_event(
        {"type": "page", "userId": "u", "timestamp": "2024-03-01T00:00:00"}
    ).timestamp == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_event(
        {"type": "page", "userId": "u", "timestamp": "2024-03-01T01:00:00+01:00"}
    ).timestamp == datetime(2024, 3, 1, tzinfo=UTC)


def test_derived_message_id_is_stable_and_ignores_sent_at() -> None:
    a = parse_event({"type": "track", "userId": 7, "event": "x", "sentAt": "2024-01-01T00:00:00Z"})
    b = parse_event(
        {"type": "track", "userId": "7", "event": "x", "sentAt": "2024-02-01T00:00:00Z"}
    )
    c = parse_event({"type": "track", "userId": "7", "event": "y"})
    assert a.message_id_derived and a.message_id == b.message_id != c.message_id
    assert a.message_id == derive_message_id(a)
    assert len(a.message_id) <= 100


def test_round_trip_through_the_wire_shape() -> None:
    event = parse_event(
        {
            "type": "alias",
            "userId": "u",
            "previousId": "a",
            "messageId": "m",
            "timestamp": "2024-03-01T00:00:00.123Z",
            "context": {"ip": "1.2.3.4"},
        }
    )
    assert parse_event(event.to_record()) == event


def test_skew_correction_uses_sent_at_and_keeps_the_original() -> None:
    from datetime import UTC, datetime

    from maumeter.core.events import parse_event, skew_corrected

    event = parse_event(
        {
            "type": "track",
            "userId": "u",
            "event": "e",
            "timestamp": "2026-11-22T10:00:00Z",
            "sentAt": "2026-11-22T10:00:05Z",  # the device clock is 1 h behind the server
        }
    )
    received = datetime(2026, 11, 22, 11, 0, 10, tzinfo=UTC)
    fixed = skew_corrected(event, received)
    assert fixed.timestamp == datetime(2026, 11, 22, 11, 0, 5, tzinfo=UTC)
    assert fixed.extra["originalTimestamp"] == "2026-11-22T10:00:00.000Z"
    assert fixed.message_id == event.message_id
    assert skew_corrected(parse_event({"type": "page", "userId": "u"}), received).timestamp is None
