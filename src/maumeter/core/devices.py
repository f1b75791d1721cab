"""Device type of an event: mobile, tablet, desktop, or unknown when nothing says.

Jimo advises a separate mobile segment; the seeds' SDKs say what they run on in two ways:

1. ``context.device.type`` — a form factor from some SDKs (PostHog-style ``Mobile``,
   ``Tablet``, ``Desktop``), or only an OS name from the Segment / RudderStack mobile SDKs
   (``ios``, ``android``), which does not tell a phone from a tablet;
2. ``context.userAgent`` — browsers.

**Precedence**: a form factor in ``context.device.type`` wins (the SDK knows the hardware).
Otherwise the user agent decides (:data:`USER_AGENT_RULES`, first match wins). Otherwise an OS
name means mobile (``ipados`` tablet): most app traffic is phones, and an app reporting only
its OS is a mobile app. Anything else is ``unknown`` — a guess would pollute the segment.

Bots (the activity rules' :data:`~maumeter.core.activity.DEFAULT_BOT_PATTERNS`) are
``unknown`` whatever they pretend to be: Googlebot's smartphone crawler claims Android Mobile.

Known limit: Safari on iPadOS 13+ sends a macOS desktop user agent by default; without an SDK
that reports the form factor those iPads count as desktops. No server-side rule can tell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from maumeter.core.activity import DEFAULT_BOT_PATTERNS, MAX_USER_AGENT_CHARS

__all__ = [
    "DEVICE_TYPES",
    "FORM_FACTORS",
    "USER_AGENT_RULES",
    "DeviceType",
    "device_type",
    "device_type_of_context",
]

DeviceType = Literal["mobile", "tablet", "desktop", "unknown"]
DEVICE_TYPES: tuple[DeviceType, ...] = ("mobile", "tablet", "desktop", "unknown")

FORM_FACTORS: Final[Mapping[str, DeviceType]] = {
    "mobile": "mobile",
    "phone": "mobile",
    "smartphone": "mobile",
    "handset": "mobile",
    "tablet": "tablet",
    "desktop": "desktop",
    "computer": "desktop",
    "laptop": "desktop",
    "pc": "desktop",
}
"""``context.device.type`` values (lower-cased) that name a form factor."""

_OS_NAMES: Final[Mapping[str, DeviceType]] = {
    "ios": "mobile",
    "android": "mobile",
    "ipados": "tablet",
}

# fmt: off
USER_AGENT_RULES: Final[tuple[tuple[str, DeviceType], ...]] = (
    ("|".join(DEFAULT_BOT_PATTERNS), "unknown"),          # crawlers, previewers, scripts
    (r"ipad", "tablet"),
    (r"tablet|kindle|silk/|playbook", "tablet"),          # Firefox "(Android; Tablet)", Kindle
    (r"android(?!.*mobile)", "tablet"),                   # Android without "Mobile": a tablet
    (r"iphone|ipod|android|mobile|iemobile|windows phone|blackberry|opera mini", "mobile"),
    (r"windows nt|macintosh|mac os x|\bcros\b|x11|linux x86_64", "desktop"),
)
# fmt: on
"""``(pattern, type)`` searched in order, ignoring case, in the first 512 characters of the
user agent; the first match decides. The Android split is Google's own guidance: Android
browsers on phones put ``Mobile`` in the user agent, on tablets they do not."""

_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), kind) for pattern, kind in USER_AGENT_RULES)


def device_type(reported: str | None = None, user_agent: str | None = None) -> DeviceType:
    """The device type from ``context.device.type`` (``reported``) and the user agent."""
    hint = reported.strip().lower() if isinstance(reported, str) else ""
    if hint in FORM_FACTORS:
        return FORM_FACTORS[hint]
    if isinstance(user_agent, str) and user_agent:
        text = user_agent[:MAX_USER_AGENT_CHARS]
        for pattern, kind in _COMPILED:
            if pattern.search(text):
                return kind
    return _OS_NAMES.get(hint, "unknown")


def device_type_of_context(context: Mapping[str, Any] | None) -> DeviceType:
    """:func:`device_type` of an event's ``context`` (``device.type`` and ``userAgent``)."""
    if not isinstance(context, Mapping):
        return "unknown"
    device = context.get("device")
    reported = device.get("type") if isinstance(device, Mapping) else None
    user_agent = context.get("userAgent")
    return device_type(
        reported if isinstance(reported, str) else None,
        user_agent if isinstance(user_agent, str) else None,
    )
