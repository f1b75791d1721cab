"""Events in the Segment tracking-API shape: validation that reports every problem, and
normalisation into one typed value.

Why this shape: existing Segment, RudderStack and PostHog SDKs already send it, so a vendor can
point them at maumeter unchanged. Validation never stops at the first problem: a client fixing a
record wants to see all of them at once, each naming the field and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal

from maumeter.core.errors import InvalidInput, Problem

EventType = Literal["identify", "track", "page", "screen", "group", "alias", "admit"]
EVENT_TYPES: Final[tuple[str, ...]] = ("identify", "track", "page", "screen", "group", "alias")
# ``admit`` is written by the admission gate (an SDK asking to load), never sent by clients.
ADMIT: Final = "admit"
STORED_TYPES: Final[tuple[str, ...]] = (*EVENT_TYPES, ADMIT)

MAX_ID_LENGTH: Final = 255
MAX_MESSAGE_ID_LENGTH: Final = 100
MAX_NAME_LENGTH: Final = 1024

# Top-level keys with a meaning of their own; anything else is kept verbatim in ``extra``.
KNOWN_KEYS: Final = frozenset(
    {
        "type",
        "userId",
        "anonymousId",
        "previousId",
        "event",
        "name",
        "properties",
        "traits",
        "context",
        "messageId",
        "timestamp",
        "sentAt",
        "receivedAt",
        "writeKey",
    }
)
OBJECT_FIELDS: Final = ("properties", "traits", "context")


@dataclass(frozen=True, slots=True, eq=True)
class Event:
    """A valid, normalised event: ids are strings, times are aware UTC datetimes.

    ``timestamp`` and ``sent_at`` are the client's clock; billing never uses them for live
    traffic (the server's receive time decides the month), only for imported history.
    """

    type: str
    message_id: str
    user_id: str | None = None
    anonymous_id: str | None = None
    previous_id: str | None = None
    event: str | None = None
    name: str | None = None
    timestamp: datetime | None = None
    sent_at: datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    message_id_derived: bool = False

    @property
    def actor_id(self) -> str:
        """The id that decides who did this: the user id when known, else the anonymous id."""
        return self.user_id if self.user_id is not None else self.anonymous_id  # type: ignore[return-value]

    @property
    def page_url(self) -> str | None:
        page = self.context.get("page")
        if isinstance(page, Mapping):
            url = page.get("url")
            if isinstance(url, str):
                return url
        url = self.properties.get("url")
        return url if isinstance(url, str) else None

    @property
    def user_agent(self) -> str | None:
        ua = self.context.get("userAgent")
        return ua if isinstance(ua, str) else None

    def to_record(self) -> dict[str, Any]:
        """Back to the wire shape (camelCase keys, ISO-8601 times), omitting absent fields."""
        record: dict[str, Any] = {"type": self.type, "messageId": self.message_id}
        for key, value in (
            ("userId", self.user_id),
            ("anonymousId", self.anonymous_id),
            ("previousId", self.previous_id),
            ("event", self.event),
            ("name", self.name),
        ):
            if value is not None:
                record[key] = value
        if self.timestamp is not None:
            record["timestamp"] = format_time(self.timestamp)
        if self.sent_at is not None:
            record["sentAt"] = format_time(self.sent_at)
        for key in OBJECT_FIELDS:
            value = getattr(self, key)
            if value:
                record[key] = value
        record.update(self.extra)
        return record


def format_time(instant: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a ``Z``, the form Segment's libraries send."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any, field_name: str, problems: list[Problem]) -> datetime | None:
    """An ISO-8601 string as an aware UTC datetime; naive times are taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(
            Problem(field_name, f"expected an ISO-8601 date-time string, got {_kind(value)}")
        )
        return None
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        problems.append(
            Problem(
                field_name,
                f"expected an ISO-8601 date-time such as 2024-03-01T12:00:00Z, got {_short(value)}",
            )
        )
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        problems.append(Problem(field_name, f"date-time out of range: {_short(value)}"))
        return None


def normalize_id(
    value: Any, field_name: str, problems: list[Problem], limit: int = MAX_ID_LENGTH
) -> str | None:
    """Ids are strings; integers are accepted and written as decimal strings (clients send both)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.append(Problem(field_name, f"expected a string or an integer, got {_kind(value)}"))
        return None
    text = str(value) if isinstance(value, int) else value
    if not text.strip():
        problems.append(Problem(field_name, "must not be empty"))
        return None
    if len(text) > limit:
        problems.append(Problem(field_name, f"must be at most {limit} characters, got {len(text)}"))
        return None
    return text


def validate(record: Any, *, default_type: str | None = None) -> list[Problem]:
    """Every problem of one record; an empty list means it is valid."""
    problems: list[Problem] = []
    _parse(record, default_type, problems, EVENT_TYPES)
    return problems


def parse_event(
    record: Any, *, default_type: str | None = None, types: tuple[str, ...] = EVENT_TYPES
) -> Event:
    """The normalised event, or :class:`InvalidInput` carrying every problem of the record.

    ``default_type`` is the type implied by an endpoint such as ``/v1/track``; a record's own
    ``type`` must agree with it. ``types`` are the types accepted (clients: not ``admit``).
    """
    problems: list[Problem] = []
    event = _parse(record, default_type, problems, types)
    if problems or event is None:
        raise InvalidInput(problems or [Problem("record", "invalid")])
    return event


def _parse(
    record: Any, default_type: str | None, problems: list[Problem], types: tuple[str, ...]
) -> Event | None:
    if not isinstance(record, Mapping):
        problems.append(Problem("record", f"expected a JSON object, got {_kind(record)}"))
        return None
    raw_type = record.get("type", default_type)
    if raw_type is None:
        problems.append(Problem("type", f"required; expected one of {', '.join(EVENT_TYPES)}"))
    elif raw_type not in types:
        problems.append(
            Problem("type", f"expected one of {', '.join(EVENT_TYPES)}, got {_short(raw_type)}")
        )
    elif default_type is not None and raw_type != default_type:
        problems.append(
            Problem("type", f"this endpoint takes {default_type!r} events, got {raw_type!r}")
        )
    etype = raw_type if raw_type in types else None

    user_id = normalize_id(record.get("userId"), "userId", problems)
    anonymous_id = normalize_id(record.get("anonymousId"), "anonymousId", problems)
    if record.get("userId") is None and record.get("anonymousId") is None:
        problems.append(Problem("userId", "either userId or anonymousId is required"))
    previous_id = normalize_id(record.get("previousId"), "previousId", problems)
    if etype == "alias":
        if record.get("previousId") is None:
            problems.append(
                Problem("previousId", "required for alias events (the id being aliased)")
            )
        if record.get("userId") is None:
            problems.append(Problem("userId", "required for alias events (the id aliased to)"))

    event_name = _text(record.get("event"), "event", problems)
    if etype == "track" and record.get("event") is None:
        problems.append(Problem("event", "required for track events (the name of the action)"))
    name = _text(record.get("name"), "name", problems)

    raw_message_id = record.get("messageId")
    message_id = normalize_id(raw_message_id, "messageId", problems, limit=MAX_MESSAGE_ID_LENGTH)
    # RudderStack's browser and mobile SDKs stamp ``originalTimestamp`` (plus ``sentAt``) and no
    # ``timestamp``: it is the same client clock, so it stands in (and stays in ``extra``).
    if record.get("timestamp") is None and record.get("originalTimestamp") is not None:
        timestamp = parse_time(record.get("originalTimestamp"), "originalTimestamp", problems)
    else:
        timestamp = parse_time(record.get("timestamp"), "timestamp", problems)
    sent_at = parse_time(record.get("sentAt"), "sentAt", problems)

    objects: dict[str, dict[str, Any]] = {}
    for key in OBJECT_FIELDS:
        value = record.get(key)
        if value is None:
            objects[key] = {}
        elif isinstance(value, Mapping):
            objects[key] = dict(value)
        else:
            problems.append(Problem(key, f"expected a JSON object, got {_kind(value)}"))
    if problems or etype is None:
        return None
    # RudderStack's libraries send identify traits in ``context.traits`` only (rudder-sdk-python:
    # "putting traits inside context"): an identify with no traits of its own takes those.
    context_traits = objects["context"].get("traits")
    if etype == "identify" and not objects["traits"] and isinstance(context_traits, Mapping):
        objects["traits"] = dict(context_traits)

    extra = {k: v for k, v in record.items() if k not in KNOWN_KEYS}
    derived = raw_message_id is None
    event = Event(
        type=etype,
        message_id=message_id or "",
        user_id=user_id,
        anonymous_id=anonymous_id,
        previous_id=previous_id,
        event=event_name,
        name=name,
        timestamp=timestamp,
        sent_at=sent_at,
        properties=objects["properties"],
        traits=objects["traits"],
        context=objects["context"],
        extra=extra,
        message_id_derived=derived,
    )
    if derived:
        event = _with_message_id(event, derive_message_id(event))
    return event


def parse_plain(
    record: Any, received_at: datetime, default_type: str | None = None
) -> Event | None:
    """``skew_corrected(parse_event(record), received_at)`` for the everyday record, in one pass.

    SDKs send the same few shapes all day: a track, page or screen with a string id, a
    ``messageId``, ISO times and objects. Those are checked here without building problem
    lists; anything else (an error, an alias or identify, an integer id, a missing
    ``messageId``, RudderStack's ``originalTimestamp``) returns None and goes through
    :func:`parse_event`, which words every problem. The property test holds both equal."""
    if type(record) is not dict:
        return None
    etype = record.get("type", default_type)
    if type(etype) is not str or etype not in _PLAIN_TYPES:
        return None
    if default_type is not None and etype != default_type:
        return None
    user_id = record.get("userId")
    anonymous_id = record.get("anonymousId")
    message_id = record.get("messageId")
    event_name = record.get("event")
    name = record.get("name")
    if (
        (user_id is None and anonymous_id is None)
        or not _plain_text(user_id, MAX_ID_LENGTH)
        or not _plain_text(anonymous_id, MAX_ID_LENGTH)
        or message_id is None
        or not _plain_text(message_id, MAX_MESSAGE_ID_LENGTH)
        or not _plain_text(event_name, MAX_NAME_LENGTH)
        or not _plain_text(name, MAX_NAME_LENGTH)
        or (etype == "track" and event_name is None)
        or record.get("previousId") is not None
        or "originalTimestamp" in record
    ):
        return None
    problems: list[Problem] = []
    timestamp = parse_time(record.get("timestamp"), "timestamp", problems)
    sent_at = parse_time(record.get("sentAt"), "sentAt", problems)
    properties = record.get("properties")
    traits = record.get("traits")
    context = record.get("context")
    if (
        problems
        or not (properties is None or type(properties) is dict)
        or not (traits is None or type(traits) is dict)
        or not (context is None or type(context) is dict)
    ):
        return None
    extra = {k: v for k, v in record.items() if k not in KNOWN_KEYS}
    if timestamp is not None and sent_at is not None:
        try:
            corrected = received_at - (sent_at - timestamp)
        except OverflowError:
            return None
        if corrected != timestamp:
            extra["originalTimestamp"] = format_time(timestamp)
            timestamp = corrected
    return Event(
        type=etype,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        event=event_name,
        name=name,
        timestamp=timestamp,
        sent_at=sent_at,
        properties=dict(properties) if properties else {},
        traits=dict(traits) if traits else {},
        context=dict(context) if context else {},
        extra=extra,
    )


_PLAIN_TYPES: Final = frozenset({"track", "page", "screen", "group"})


def _plain_text(value: Any, limit: int) -> bool:
    """Absent, or a string with something in it, within ``limit``."""
    return value is None or (type(value) is str and 0 < len(value) <= limit and not value.isspace())


def skew_corrected(event: Event, received_at: datetime) -> Event:
    """Segment's clock-skew correction, for analytics (billing never reads ``timestamp``).

    A device's clock may be off; ``sentAt`` is stamped by the same clock when the batch leaves,
    so ``receivedAt - (sentAt - timestamp)`` is when it happened by the server's clock. The
    client's own value is kept as ``originalTimestamp``, as Segment does."""
    if event.timestamp is None or event.sent_at is None:
        return event
    try:
        corrected = received_at - (event.sent_at - event.timestamp)
    except OverflowError:
        return event
    if corrected == event.timestamp:
        return event
    extra = {**event.extra, "originalTimestamp": format_time(event.timestamp)}
    return replace(event, timestamp=corrected, extra=extra)


def derive_message_id(event: Event) -> str:
    """A message id from the content, so a client's blind retry of an id-less event is a duplicate.

    ``sentAt`` is left out (a retry re-stamps it); everything else, normalised, is in. Two truly
    identical id-less events in one org are therefore one event: send a messageId to avoid that.
    """
    body = {k: v for k, v in event.to_record().items() if k not in ("messageId", "sentAt")}
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return "mm-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _with_message_id(event: Event, message_id: str) -> Event:
    return Event(
        type=event.type,
        message_id=message_id,
        user_id=event.user_id,
        anonymous_id=event.anonymous_id,
        previous_id=event.previous_id,
        event=event.event,
        name=event.name,
        timestamp=event.timestamp,
        sent_at=event.sent_at,
        properties=event.properties,
        traits=event.traits,
        context=event.context,
        extra=event.extra,
        message_id_derived=True,
    )


def _text(value: Any, field_name: str, problems: list[Problem]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(Problem(field_name, f"expected a string, got {_kind(value)}"))
        return None
    if not value.strip():
        problems.append(Problem(field_name, "must not be empty"))
        return None
    if len(value) > MAX_NAME_LENGTH:
        problems.append(
            Problem(field_name, f"must be at most {MAX_NAME_LENGTH} characters, got {len(value)}")
        )
        return None
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
