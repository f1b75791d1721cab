"""PostHog's capture API, translated into the Segment shape that :func:`events.parse_event` reads.

Pure: standard library only, no I/O, no clock. The HTTP face decodes the body, calls
:func:`unpack` and :func:`translate`, and hands the records to the same ingest as ``/v1/batch``.

What PostHog's libraries send (read from their source: posthog-js ``posthog-core.ts`` and
``request.ts``, posthog-python 7.x ``client.py`` and ``request.py``):

* a body that is one event, a JSON array of events (posthog-js), or
  ``{"api_key", "batch": [...], "sent_at"}`` (posthog-python, posthog-node);
* the project key as ``api_key`` or ``token`` at the top of the body, or in each event (posthog-js
  puts it in ``properties.token``);
* an event: ``event`` (the name), ``distinct_id`` (posthog-js: ``properties.distinct_id``),
  ``properties``, ``uuid``, ``timestamp``, ``$set`` / ``$set_once`` (top level or in
  ``properties``).

The mapping (one rule per line; :func:`translate_event` applies it):

=======================  ======================================================================
PostHog                  Segment
=======================  ======================================================================
``distinct_id``          ``userId``; ``anonymousId`` when ``properties.$is_identified`` is
                         explicitly ``false`` (posthog-js before ``identify``)
``$identify``            ``identify``: ``userId`` = ``distinct_id``, ``anonymousId`` =
                         ``$anon_distinct_id`` (the two are linked: one person)
``$create_alias``        ``alias``: ``previousId`` = ``distinct_id`` (the old id),
                         ``userId`` = ``properties.alias`` (the new one); also
                         ``$merge_dangerously``, which has the same shape
``$set``, ``$set_once``  ``identify`` with those traits: a profile update, not activity (a
                         nightly CRM sync through posthog-python ``set()`` must not make every
                         user active)
``$groupidentify``       ``group`` (``groupId`` = ``$group_key``, traits = ``$group_set``)
``$pageview``            ``page``: name = ``$pathname``, else ``title``
``$screen``              ``screen``: name = ``$screen_name``
any other event          ``track`` with ``event`` = its name
``$set``/``$set_once``   ``traits`` on any event (``$set`` wins over ``$set_once``, top level
                         over ``properties``)
``uuid``                 ``messageId`` (a retried batch is a duplicate, not new activity)
``timestamp``            ``timestamp``; ``sent_at`` (the event's, else the batch's) → ``sentAt``
``$current_url`` …       ``context.page`` (``url``, ``path`` ← ``$pathname``, ``referrer`` ←
                         ``$referrer``, ``title``), so URL activity rules work on every event
``$raw_user_agent`` …    ``context.userAgent`` (first of ``$raw_user_agent``, ``$useragent``,
                         ``$browser``), so bot exclusion works
``$lib``, ``$ip``        ``context.library`` (name, version ← ``$lib_version``), ``context.ip``
=======================  ======================================================================

``properties`` keep everything the client sent (PostHog's own names included, so activity rules
can be written with them) except the key (``token`` — a credential is not stored), the ids
(``distinct_id``, ``$anon_distinct_id``, ``alias``) and ``$set`` / ``$set_once`` (now traits).

An item that cannot be translated is rejected at its own index with every problem, named with
PostHog's field names; its neighbours are still taken. Checks that the Segment shape makes anyway
(timestamp format, name lengths) are left to :func:`events.parse_event`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from maumeter.core.errors import InvalidInput, Problem
from maumeter.core.events import MAX_MESSAGE_ID_LENGTH, MAX_NAME_LENGTH, normalize_id, parse_time
from maumeter.core.events import _kind as kind_of

KEY_FIELDS: Final = ("api_key", "token")
PAGEVIEW: Final = "$pageview"
SCREEN: Final = "$screen"
IDENTIFY: Final = "$identify"
ALIASES: Final = ("$create_alias", "$merge_dangerously")
PROFILE_UPDATES: Final = ("$set", "$set_once")
GROUP_IDENTIFY: Final = "$groupidentify"
USER_AGENT_KEYS: Final = ("$raw_user_agent", "$useragent", "$browser")
# Properties that are not kept: the project key and the ids/traits the record carries itself.
DROPPED: Final = frozenset({"token", "distinct_id", "$set", "$set_once"})


@dataclass(frozen=True, slots=True)
class Capture:
    """A capture request's body, unpacked: its events, the key at its top and its ``sent_at``."""

    items: list[Any]
    api_key: str | None = None
    sent_at: Any = None

    def key(self) -> str | None:
        """The request's project key: the body's, else the first an event names."""
        if self.api_key is not None:
            return self.api_key
        for item in self.items:
            found = item_key(item)
            if found is not None:
                return found
        return None


@dataclass(frozen=True, slots=True)
class Translation:
    """One entry per item: its Segment record, or ``None`` and its problems (by index)."""

    records: list[dict[str, Any] | None]
    problems: dict[int, list[Problem]] = field(default_factory=dict)


def unpack(payload: Any) -> Capture:
    """The events of a capture body: one event, an array of events, or ``{"batch": [...]}``."""
    if isinstance(payload, list):
        return Capture(payload)
    if not isinstance(payload, Mapping):
        raise InvalidInput.field(
            "body",
            f"expected a PostHog event, an array of events or {{'batch': [...]}}, "
            f"got {kind_of(payload)}",
        )
    api_key = _key_of(payload)
    if "batch" in payload:
        batch = payload["batch"]
        if not isinstance(batch, list):
            raise InvalidInput.field("batch", f"expected an array of events, got {kind_of(batch)}")
        return Capture(batch, api_key, payload.get("sent_at"))
    return Capture([payload], api_key, None)


def item_key(item: Any) -> str | None:
    """The project key one event names: ``api_key``/``token``, or ``properties.token``."""
    if not isinstance(item, Mapping):
        return None
    found = _key_of(item)
    if found is not None:
        return found
    properties = item.get("properties")
    if isinstance(properties, Mapping):
        token = properties.get("token")
        if isinstance(token, str) and token:
            return token
    return None


def translate(capture: Capture, key: str | None = None) -> Translation:
    """Every item of ``capture`` as a Segment record; ``key`` is the key the request was accepted
    with: an event naming another project's key is rejected (one request writes one project)."""
    records: list[dict[str, Any] | None] = []
    problems: dict[int, list[Problem]] = {}
    for index, item in enumerate(capture.items):
        record, found = translate_event(item, sent_at=capture.sent_at)
        own = item_key(item)
        if key is not None and own is not None and own != key:
            found.append(
                Problem("api_key", "differs from the request's key; send one project's events")
            )
        if found:
            records.append(None)
            problems[index] = found
        else:
            records.append(record)
    return Translation(records, problems)


def translate_event(
    item: Any, *, sent_at: Any = None
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One PostHog event as a Segment record, or ``None`` and every problem found."""
    problems: list[Problem] = []
    if not isinstance(item, Mapping):
        return None, [Problem("record", f"expected a PostHog event object, got {kind_of(item)}")]
    name = item.get("event")
    if name is None:
        problems.append(Problem("event", "required: the event's name, such as $pageview"))
    elif not isinstance(name, str) or not name.strip():
        problems.append(Problem("event", f"expected a non-empty string, got {_shown(name)}"))
    properties = _object(item.get("properties"), "properties", problems)

    raw_id = item.get("distinct_id")
    id_field = "distinct_id"
    if raw_id is None:
        raw_id = properties.get("distinct_id")
        id_field = "properties.distinct_id"
    if raw_id is None:
        problems.append(Problem("distinct_id", "required (top level or properties.distinct_id)"))
    distinct_id = normalize_id(raw_id, id_field, problems)
    message_id = normalize_id(item.get("uuid"), "uuid", problems, limit=MAX_MESSAGE_ID_LENGTH)
    sent = item.get("sent_at", sent_at)
    parse_time(sent, "sent_at", problems)
    traits = _traits(item, properties, problems)

    record: dict[str, Any] = {}
    moved: tuple[str, ...] = ()
    if isinstance(name, str) and name.strip():
        record, moved = _typed(name, distinct_id, item, properties, problems)
    if problems:
        return None, problems

    if message_id is not None:
        record["messageId"] = message_id
    if item.get("timestamp") is not None:
        record["timestamp"] = item["timestamp"]
    if sent is not None:
        record["sentAt"] = sent
    if traits and "traits" not in record:
        record["traits"] = traits
    record["properties"] = {
        k: v for k, v in properties.items() if k not in DROPPED and k not in moved
    }
    context = _context(properties)
    if context:
        record["context"] = context
    return record, problems


def _typed(
    name: str,
    distinct_id: str | None,
    item: Mapping[str, Any],
    properties: Mapping[str, Any],
    problems: list[Problem],
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The type-specific part of the record (type, ids, event or page/screen name), and the
    properties it consumed."""
    if name == IDENTIFY:
        record: dict[str, Any] = {"type": "identify", "userId": distinct_id}
        anon_field = "properties.$anon_distinct_id"
        raw_anon = properties.get("$anon_distinct_id")
        if raw_anon is None:
            anon_field, raw_anon = "$anon_distinct_id", item.get("$anon_distinct_id")
        anon = normalize_id(raw_anon, anon_field, problems)
        if anon is not None and anon != distinct_id:
            record["anonymousId"] = anon
        return record, ("$anon_distinct_id",)
    if name in ALIASES:
        raw_alias = properties.get("alias")
        if raw_alias is None:
            problems.append(Problem("properties.alias", f"required for {name}: the new id"))
        alias = normalize_id(raw_alias, "properties.alias", problems)
        return {"type": "alias", "previousId": distinct_id, "userId": alias}, ("alias",)

    id_key = "anonymousId" if properties.get("$is_identified") is False else "userId"
    record = {id_key: distinct_id}
    if name in PROFILE_UPDATES:
        record["type"] = "identify"
    elif name == GROUP_IDENTIFY:
        record["type"] = "group"
        group_key = normalize_id(properties.get("$group_key"), "properties.$group_key", problems)
        if group_key is not None:
            record["groupId"] = group_key
        group_traits = _object(properties.get("$group_set"), "properties.$group_set", problems)
        if group_traits:
            record["traits"] = group_traits
    elif name == PAGEVIEW:
        record["type"] = "page"
        page_name = _name(properties.get("$pathname")) or _name(properties.get("title"))
        if page_name is not None:
            record["name"] = page_name
    elif name == SCREEN:
        record["type"] = "screen"
        screen_name = _name(properties.get("$screen_name"))
        if screen_name is not None:
            record["name"] = screen_name
    else:
        record["type"] = "track"
        record["event"] = name
    return record, ()


def _traits(
    item: Mapping[str, Any], properties: Mapping[str, Any], problems: list[Problem]
) -> dict[str, Any]:
    """``$set_once`` under ``$set``; the top-level copy over the one in ``properties``."""
    traits: dict[str, Any] = {}
    for key in PROFILE_UPDATES[::-1]:  # $set_once first, so $set wins
        traits.update(_object(properties.get(key), f"properties.{key}", problems))
        traits.update(_object(item.get(key), key, problems))
    return traits


def _context(properties: Mapping[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    page = {
        target: value
        for target, source in (
            ("url", "$current_url"),
            ("path", "$pathname"),
            ("referrer", "$referrer"),
            ("title", "title"),
        )
        if isinstance(value := properties.get(source), str) and value
    }
    if page:
        context["page"] = page
    for source in USER_AGENT_KEYS:
        agent = properties.get(source)
        if isinstance(agent, str) and agent:
            context["userAgent"] = agent
            break
    lib = properties.get("$lib")
    if isinstance(lib, str) and lib:
        library = {"name": lib}
        version = properties.get("$lib_version")
        if isinstance(version, str) and version:
            library["version"] = version
        context["library"] = library
    ip = properties.get("$ip")
    if isinstance(ip, str) and ip:
        context["ip"] = ip
    return context


def _key_of(obj: Mapping[str, Any]) -> str | None:
    for name in KEY_FIELDS:
        value = obj.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _object(value: Any, field_name: str, problems: list[Problem]) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    problems.append(Problem(field_name, f"expected a JSON object, got {kind_of(value)}"))
    return {}


def _name(value: Any) -> str | None:
    """A page or screen name when usable; an odd one is left out rather than failing the event."""
    if isinstance(value, str) and value.strip() and len(value) <= MAX_NAME_LENGTH:
        return value
    return None


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else kind_of(value)
    return text if len(text) <= 60 else text[:57] + "..."
