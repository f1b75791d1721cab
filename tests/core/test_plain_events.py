"""The one-pass check of everyday records (``parse_plain``) against the careful path.

Whenever ``parse_plain`` takes a record, the event must be exactly what ``parse_event``
followed by ``skew_corrected`` makes of it; whenever the careful path rejects a record,
``parse_plain`` must have declined it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.events import parse_event, parse_plain, skew_corrected

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

ids = st.one_of(
    st.none(),
    st.sampled_from(["u1", "", "  ", "\t", "a" * 255, "a" * 256, "x" * 101]),
    st.text(max_size=8),
    st.integers(-5, 5),
    st.booleans(),
    st.lists(st.integers(), max_size=1),
)
times = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2026-03-01T11:59:00Z",
            "2026-03-01T11:59:00.123z",
            "2026-03-01T12:00:00+02:00",
            "2026-03-01 11:00:00",
            " 2026-03-01T11:59:00Z ",
            "yesterday",
            "9999-12-31T23:59:59-05:00",
            "0001-01-01T00:00:00+01:00",
        ]
    ),
    st.integers(0, 10),
)
objects = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["a", "url", "experiment_id"]), st.integers(), max_size=2),
    st.sampled_from([[], "x", 1, {"page": {"url": "https://x.test/a"}}]),
)
names = st.one_of(st.none(), st.sampled_from(["Signed Up", "", " ", "e" * 1025]), st.integers(0, 2))


@st.composite
def records(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from([None, [], "track", 3]))
    record: dict[str, Any] = {}
    fields = {
        "type": st.sampled_from(
            ["track", "page", "screen", "group", "identify", "alias", "admit", "bogus", None]
        ),
        "userId": ids,
        "anonymousId": ids,
        "previousId": ids,
        "messageId": ids,
        "event": names,
        "name": names,
        "timestamp": times,
        "sentAt": times,
        "originalTimestamp": times,
        "properties": objects,
        "traits": objects,
        "context": objects,
        "integrations": st.just({"All": True}),
        "writeKey": st.just("wk_x"),
        "channel": st.just("web"),
    }
    for key, strategy in fields.items():
        if draw(st.booleans()):
            record[key] = draw(strategy)
    return record


@settings(max_examples=3000, deadline=None)
@given(
    records(),
    st.sampled_from([None, "track", "page", "identify"]),
    st.integers(-3600, 3600),
)
def test_plain_agrees_with_the_careful_path(
    record: Any, default_type: str | None, skew: int
) -> None:
    received = RECEIVED + timedelta(seconds=skew)
    plain = parse_plain(record, received, default_type)
    try:
        careful = skew_corrected(parse_event(record, default_type=default_type), received)
    except InvalidInput:
        assert plain is None
        return
    assert plain is None or plain == careful


def test_the_everyday_track_takes_the_one_pass_path() -> None:
    record = {
        "type": "track",
        "userId": "u1",
        "event": "Signed Up",
        "messageId": "m1",
        "timestamp": "2026-03-01T11:59:00Z",
        "sentAt": "2026-03-01T11:59:30Z",
        "properties": {"plan": "pro"},
        "context": {"ip": "203.0.113.1"},
        "integrations": {"All": True},
    }
    plain = parse_plain(record, RECEIVED)
    assert plain is not None
    assert plain.timestamp == RECEIVED - timedelta(seconds=30)
    assert plain.extra == {
        "integrations": {"All": True},
        "originalTimestamp": "2026-03-01T11:59:00.000Z",
    }
    assert plain == skew_corrected(parse_event(record), RECEIVED)
