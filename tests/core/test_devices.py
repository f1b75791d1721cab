"""Device type from context.device.type or a real user agent."""

from __future__ import annotations

import pytest

from maumeter.core.devices import device_type, device_type_of_context

UA = {
    "iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "ipad": "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "android_phone": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "android_tablet": "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.6367.82 Safari/537.36",
    "firefox_android_tablet": "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 "
    "Firefox/125.0",
    "firefox_android_phone": "Mozilla/5.0 (Android 13; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
    "kindle": "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36"
    " (KHTML, like Gecko) Silk/3.68 like Chrome/39.0.2171.93 Safari/537.36",
    "windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    "macos": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "linux": "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "chromebook": "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "googlebot_smartphone": "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "headless": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.0.0 Safari/537.36",
    "curl": "curl/8.5.0",
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "okhttp": "okhttp/4.12.0",
}


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("iphone", "mobile"),
        ("ipad", "tablet"),
        ("android_phone", "mobile"),
        ("android_tablet", "tablet"),
        ("firefox_android_tablet", "tablet"),
        ("firefox_android_phone", "mobile"),
        ("kindle", "tablet"),
        ("windows", "desktop"),
        ("macos", "desktop"),  # iPadOS Safari sends this too: documented limit
        ("linux", "desktop"),
        ("chromebook", "desktop"),
        ("googlebot_smartphone", "unknown"),
        ("bingbot", "unknown"),
        ("headless", "unknown"),
        ("curl", "unknown"),
        ("facebook", "unknown"),
        ("okhttp", "unknown"),  # an HTTP library says nothing about the device
    ],
)
def test_user_agents(agent: str, expected: str) -> None:
    assert device_type(user_agent=UA[agent]) == expected


@pytest.mark.parametrize(
    ("reported", "agent", "expected"),
    [
        ("Tablet", "android_phone", "tablet"),  # a form factor from the SDK wins
        ("mobile", None, "mobile"),
        (" Desktop ", None, "desktop"),
        ("ios", None, "mobile"),  # an OS name alone: an app on a phone
        ("android", None, "mobile"),
        ("ipados", None, "tablet"),
        ("ios", "ipad", "tablet"),  # an OS name defers to a user agent that knows better
        ("android", "googlebot_smartphone", "unknown"),
        ("smart-tv", None, "unknown"),
        (None, None, "unknown"),
        ("", "", "unknown"),
    ],
)
def test_reported_type_and_precedence(reported, agent, expected) -> None:
    assert device_type(reported, UA[agent] if agent else agent) == expected


def test_from_an_event_context() -> None:
    assert device_type_of_context({"device": {"type": "ios"}, "userAgent": UA["ipad"]}) == "tablet"
    assert device_type_of_context({"userAgent": UA["windows"]}) == "desktop"
    assert device_type_of_context({"device": "phone", "userAgent": 42}) == "unknown"
    assert device_type_of_context(None) == "unknown"
