"""PostHog capture payloads become Segment records that parse_event accepts; every mapping rule,
and bad items itemised by index with PostHog's field names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from maumeter.core.errors import InvalidInput
from maumeter.core.events import Event, parse_event
from maumeter.core.posthog import Capture, item_key, translate, translate_event, unpack


def event_of(item: dict[str, Any], **kwargs: Any) -> Event:
    record, problems = translate_event(item, **kwargs)
    assert problems == [], problems
    assert record is not None
    return parse_event(record)


def fields(item: Any) -> list[str]:
    record, problems = translate_event(item)
    assert record is None
    return [p.field for p in problems]


# -- ids ----------------------------------------------------------------------------------------


def test_distinct_id_is_the_user_id() -> None:
    event = event_of({"event": "Logged In", "distinct_id": "ada", "properties": {"plan": "pro"}})
    assert (event.type, event.event, event.user_id, event.anonymous_id) == (
        "track",
        "Logged In",
        "ada",
        None,
    )
    assert event.properties == {"plan": "pro"}


def test_distinct_id_inside_properties_as_posthog_js_sends_it() -> None:
    event = event_of({"event": "clicked", "properties": {"distinct_id": "ada", "token": "wk_x"}})
    assert event.user_id == "ada"
    assert "distinct_id" not in event.properties and "token" not in event.properties


def test_integer_distinct_id_becomes_a_string() -> None:
    assert event_of({"event": "e", "distinct_id": 42}).user_id == "42"


def test_explicitly_unidentified_is_anonymous() -> None:
    event = event_of(
        {"event": "clicked", "properties": {"distinct_id": "anon-1", "$is_identified": False}}
    )
    assert (event.user_id, event.anonymous_id) == (None, "anon-1")
    assert event.properties["$is_identified"] is False


@pytest.mark.parametrize("flag", [True, None, "false", 0])
def test_only_an_explicit_false_makes_it_anonymous(flag: Any) -> None:
    event = event_of({"event": "e", "distinct_id": "u", "properties": {"$is_identified": flag}})
    assert event.user_id == "u"


# -- identify and alias -------------------------------------------------------------------------


def test_identify_links_the_anonymous_id_and_takes_set_as_traits() -> None:
    event = event_of(
        {
            "event": "$identify",
            "properties": {
                "distinct_id": "ada",
                "$anon_distinct_id": "anon-1",
                "$is_identified": True,
            },
            "$set": {"email": "ada@example.com"},
            "$set_once": {"first_seen": "2024-03-01", "email": "old@example.com"},
        }
    )
    assert (event.type, event.user_id, event.anonymous_id) == ("identify", "ada", "anon-1")
    assert event.traits == {"email": "ada@example.com", "first_seen": "2024-03-01"}
    assert "$anon_distinct_id" not in event.properties and "$set" not in event.properties


def test_identify_anon_id_at_top_level_and_set_in_properties() -> None:
    event = event_of(
        {
            "event": "$identify",
            "distinct_id": "ada",
            "$anon_distinct_id": "anon-1",
            "properties": {"$set": {"name": "Ada"}},
        }
    )
    assert (event.user_id, event.anonymous_id, event.traits) == ("ada", "anon-1", {"name": "Ada"})


def test_identify_without_anon_id_or_with_the_same_id() -> None:
    plain = event_of({"event": "$identify", "distinct_id": "ada"})
    assert (plain.type, plain.user_id, plain.anonymous_id) == ("identify", "ada", None)
    same = event_of(
        {"event": "$identify", "distinct_id": "ada", "properties": {"$anon_distinct_id": "ada"}}
    )
    assert same.anonymous_id is None


def test_identify_is_identified_even_if_flagged_otherwise() -> None:
    event = event_of(
        {"event": "$identify", "distinct_id": "ada", "properties": {"$is_identified": False}}
    )
    assert event.user_id == "ada"


def test_top_level_set_wins_over_properties_set() -> None:
    event = event_of(
        {
            "event": "e",
            "distinct_id": "u",
            "properties": {"$set": {"a": 1, "b": 1}},
            "$set": {"b": 2},
        }
    )
    assert event.traits == {"a": 1, "b": 2}


def test_create_alias_old_id_is_distinct_id_new_id_is_alias() -> None:
    # posthog-python alias(previous_id, distinct_id) sends distinct_id=previous_id and
    # properties.alias=distinct_id; posthog-js alias(alias, original) the same way round.
    event = event_of(
        {
            "event": "$create_alias",
            "distinct_id": "anon-1",
            "properties": {"distinct_id": "anon-1", "alias": "ada"},
        }
    )
    assert (event.type, event.previous_id, event.user_id) == ("alias", "anon-1", "ada")
    assert "alias" not in event.properties


def test_merge_dangerously_is_an_alias_too() -> None:
    event = event_of(
        {"event": "$merge_dangerously", "distinct_id": "ada", "properties": {"alias": "ada2"}}
    )
    assert (event.type, event.previous_id, event.user_id) == ("alias", "ada", "ada2")


@pytest.mark.parametrize("name", ["$set", "$set_once"])
def test_profile_updates_are_identifies_not_activity(name: str) -> None:
    event = event_of({"event": name, "distinct_id": "ada", name: {"plan": "pro"}})
    assert (event.type, event.user_id, event.traits) == ("identify", "ada", {"plan": "pro"})


def test_group_identify_is_a_group() -> None:
    event = event_of(
        {
            "event": "$groupidentify",
            "distinct_id": "ada",
            "properties": {
                "$group_type": "company",
                "$group_key": "acme",
                "$group_set": {"seats": 11},
            },
        }
    )
    assert event.type == "group"
    assert event.extra["groupId"] == "acme"
    assert event.traits == {"seats": 11}


# -- page, screen, track ------------------------------------------------------------------------


def test_pageview_is_a_page_with_url_path_and_name() -> None:
    event = event_of(
        {
            "event": "$pageview",
            "properties": {
                "distinct_id": "anon-1",
                "$is_identified": False,
                "$current_url": "https://app.example.com/pricing?x=1",
                "$pathname": "/pricing",
                "$referrer": "https://google.com/",
                "title": "Pricing",
            },
        }
    )
    assert (event.type, event.name, event.anonymous_id) == ("page", "/pricing", "anon-1")
    assert event.page_url == "https://app.example.com/pricing?x=1"
    assert event.context["page"] == {
        "url": "https://app.example.com/pricing?x=1",
        "path": "/pricing",
        "referrer": "https://google.com/",
        "title": "Pricing",
    }
    # PostHog's own names stay in properties, so activity rules can use them.
    assert event.properties["$current_url"] == "https://app.example.com/pricing?x=1"


def test_pageview_name_falls_back_to_title_and_odd_names_are_left_out() -> None:
    titled = event_of({"event": "$pageview", "distinct_id": "u", "properties": {"title": "Home"}})
    assert titled.name == "Home"
    odd = event_of({"event": "$pageview", "distinct_id": "u", "properties": {"$pathname": 7}})
    assert odd.type == "page" and odd.name is None


def test_screen_takes_screen_name() -> None:
    event = event_of({"event": "$screen", "distinct_id": "u", "properties": {"$screen_name": "X"}})
    assert (event.type, event.name) == ("screen", "X")


@pytest.mark.parametrize("name", ["$pageleave", "$autocapture", "$feature_flag_called", "Signup"])
def test_any_other_event_is_a_track_of_that_name(name: str) -> None:
    event = event_of({"event": name, "distinct_id": "u"})
    assert (event.type, event.event) == ("track", name)


def test_url_and_user_agent_on_any_event_feed_activity_rules() -> None:
    event = event_of(
        {
            "event": "$autocapture",
            "distinct_id": "u",
            "properties": {
                "$current_url": "https://x/app",
                "$raw_user_agent": "Mozilla/5.0 (bot-ish)",
                "$browser": "Chrome",
            },
        }
    )
    assert event.page_url == "https://x/app"
    assert event.user_agent == "Mozilla/5.0 (bot-ish)"


@pytest.mark.parametrize(
    ("props", "agent"),
    [({"$useragent": "UA/1"}, "UA/1"), ({"$browser": "Chrome"}, "Chrome"), ({}, None)],
)
def test_user_agent_sources_in_order(props: dict[str, Any], agent: str | None) -> None:
    assert event_of({"event": "e", "distinct_id": "u", "properties": props}).user_agent == agent


# -- message id, times, context -----------------------------------------------------------------


def test_uuid_timestamp_sent_at_library_and_ip() -> None:
    event = event_of(
        {
            "event": "e",
            "distinct_id": "u",
            "uuid": "0190a3c2-0000-7000-8000-000000000001",
            "timestamp": "2024-03-01T12:00:00+00:00",
            "properties": {"$lib": "posthog-python", "$lib_version": "7.91.1", "$ip": "1.2.3.4"},
        },
        sent_at="2024-03-01T12:00:05+00:00",
    )
    assert event.message_id == "0190a3c2-0000-7000-8000-000000000001"
    assert not event.message_id_derived
    assert event.timestamp == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert event.sent_at == datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert event.context["library"] == {"name": "posthog-python", "version": "7.91.1"}
    assert event.context["ip"] == "1.2.3.4"


def test_an_event_without_uuid_gets_a_content_id() -> None:
    event = event_of({"event": "e", "distinct_id": "u"})
    assert event.message_id_derived and event.message_id.startswith("mm-")


# -- bodies and keys ----------------------------------------------------------------------------


def test_unpack_the_three_shapes() -> None:
    single = unpack({"api_key": "k", "event": "e", "distinct_id": "u"})
    assert (len(single.items), single.key()) == (1, "k")
    array = unpack([{"event": "e", "properties": {"token": "k2", "distinct_id": "u"}}])
    assert (len(array.items), array.key()) == (1, "k2")
    batch = unpack({"api_key": "k3", "batch": [{}, {}], "sent_at": "2024-03-01T00:00:00Z"})
    assert (len(batch.items), batch.key(), batch.sent_at) == (2, "k3", "2024-03-01T00:00:00Z")
    assert unpack({"token": "k4", "batch": []}).key() == "k4"
    assert unpack({"batch": [{"event": "e", "api_key": "k5"}]}).key() == "k5"
    assert unpack([]).key() is None


@pytest.mark.parametrize(
    ("payload", "field"), [("text", "body"), (3, "body"), ({"batch": 1}, "batch")]
)
def test_unpack_refuses_other_shapes(payload: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        unpack(payload)
    assert caught.value.problems[0].field == field


def test_item_key_sources() -> None:
    assert item_key({"api_key": "a"}) == "a"
    assert item_key({"token": "t"}) == "t"
    assert item_key({"properties": {"token": "p"}}) == "p"
    assert item_key({"properties": {"token": ""}}) is None
    assert item_key("nope") is None


def test_batch_sent_at_applies_to_each_event() -> None:
    capture = unpack(
        {"batch": [{"event": "e", "distinct_id": "u"}], "sent_at": "2024-03-01T00:00Z"}
    )
    record = translate(capture).records[0]
    assert record is not None and record["sentAt"] == "2024-03-01T00:00Z"


# -- problems, itemised -------------------------------------------------------------------------


def test_bad_items_are_itemised_by_index_with_posthog_field_names() -> None:
    capture = Capture(
        [
            {"event": "ok", "distinct_id": "u"},
            "not an object",
            {"properties": []},
            {"event": "", "distinct_id": {"x": 1}, "uuid": 5.5},
            {"event": "$create_alias", "distinct_id": "u"},
            {"event": "e", "distinct_id": "u", "$set": "no", "sent_at": "yesterday"},
            {"event": "$identify", "distinct_id": "u", "properties": {"$anon_distinct_id": ""}},
            {"event": "e", "distinct_id": "u", "api_key": "another-project"},
        ]
    )
    translation = translate(capture, "k")
    assert translation.records[0] is not None
    assert all(r is None for r in translation.records[1:])
    got = {i: [p.field for p in ps] for i, ps in translation.problems.items()}
    assert got == {
        1: ["record"],
        2: ["event", "properties", "distinct_id"],
        3: ["event", "distinct_id", "uuid"],
        4: ["properties.alias"],
        5: ["sent_at", "$set"],
        6: ["properties.$anon_distinct_id"],
        7: ["api_key"],
    }
    assert all(p.message for ps in translation.problems.values() for p in ps)


def test_problem_messages_say_what_was_expected() -> None:
    _, problems = translate_event({"event": 3, "properties": {"distinct_id": True}})
    assert [str(p) for p in problems] == [
        "event: expected a non-empty string, got a number",
        "properties.distinct_id: expected a string or an integer, got a boolean",
    ]
    assert fields({"event": "$create_alias", "distinct_id": "u", "properties": {"alias": 1.5}}) == [
        "properties.alias"
    ]


def test_records_that_translate_still_meet_segment_checks() -> None:
    record, problems = translate_event({"event": "x" * 2000, "distinct_id": "u"})
    assert problems == [] and record is not None
    with pytest.raises(InvalidInput) as caught:
        parse_event(record)
    assert [p.field for p in caught.value.problems] == ["event"]


# -- RudderStack shapes (core/events.py normalisation) -------------------------------------------


def test_rudderstack_identify_traits_in_context_and_original_timestamp() -> None:
    event = parse_event(
        {
            "type": "identify",
            "userId": "ada",
            "context": {"traits": {"email": "ada@example.com"}},
            "originalTimestamp": "2024-03-01T12:00:00Z",
            "channel": "server",
        }
    )
    assert event.traits == {"email": "ada@example.com"}
    assert event.timestamp == datetime(2024, 3, 1, 12, tzinfo=UTC)
    own = parse_event(
        {"type": "identify", "userId": "a", "traits": {"x": 1}, "context": {"traits": {"y": 2}}}
    )
    assert own.traits == {"x": 1}
    with pytest.raises(InvalidInput) as caught:
        parse_event({"type": "track", "userId": "a", "event": "e", "originalTimestamp": "soon"})
    assert [p.field for p in caught.value.problems] == ["originalTimestamp"]
