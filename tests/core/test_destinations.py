"""Webhook URL safety: schemes, user info, non-public addresses, wrapped IPv4, allow lists."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.destinations import Allowlist, check_url, refusal
from maumeter.core.errors import InvalidInput

PUBLIC = ["93.184.215.14"]


def refused(url: str, resolved: list[str] | None = None, allow: list[str] | None = None) -> str:
    with pytest.raises(InvalidInput) as e:
        check_url(url, PUBLIC if resolved is None else resolved, allow or [])
    (problem,) = e.value.problems
    assert problem.field == "url"
    return problem.message


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/maumeter",
        "http://hooks.example.com:8080/x?y=1",
        "HTTPS://Hooks.Example.COM./x",
        "https://93.184.215.14/hook",
        "https://[2606:4700::1111]/hook",
    ],
)
def test_public_http_urls_pass(url: str) -> None:
    assert check_url(url, PUBLIC) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com/", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("example.com/hook", "scheme"),
        ("https:///path", "no host"),
        ("https://user:pw@example.com/", "user info"),
        ("https://@example.com/", "user info"),
        ("https://example.com\\@127.0.0.1/", "user info"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://exa mple.com/", "whitespace"),
        ("https://example.com/\nx", "whitespace"),
        ("https://[::1/", "not a valid URL"),
        ("https://example.com/" + "a" * 3000, "longer"),
    ],
)
def test_malformed_urls_are_refused(url: str, words: str) -> None:
    assert words in refused(url)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://[::1]:8000/", "loopback"),
        ("http://10.0.0.5/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://100.64.0.1/", "not globally routable"),
        ("http://240.0.0.1/", "address"),
        ("http://[fc00::1]/", "private"),
        ("http://[::ffff:127.0.0.1]/", "loopback address inside an IPv6"),
        ("http://[::ffff:10.0.0.1]/", "private address inside an IPv6"),
        ("http://[2002:7f00:1::]/", "loopback address inside an IPv6"),
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local address inside an IPv6"),
        ("http://[64:ff9b:1::1]/", "NAT64"),
        ("http://127.1/", "ambiguous numeric"),
        ("http://2130706433/", "ambiguous numeric"),
        ("http://0x7f.0.0.1/", "ambiguous numeric"),
        ("http://0x7f000001/", "ambiguous numeric"),
        ("http://127.000.000.001/", "ambiguous numeric"),
        ("http://1.2.3.4.5/", "ambiguous numeric"),
        ("http://localhost:8000/", "loopback name"),
        ("http://api.localhost/", "loopback name"),
    ],
)
def test_literal_non_public_hosts_are_refused(url: str, words: str) -> None:
    assert words in refused(url, resolved=[])


@pytest.mark.parametrize(
    "resolved",
    [["127.0.0.1"], ["93.184.215.14", "10.0.0.1"], ["::ffff:192.168.0.1"], ["fd00::1"]],
)
def test_names_resolving_to_non_public_addresses_are_refused(resolved: list[str]) -> None:
    message = refused("https://rebind.example.com/", resolved)
    assert "rebind.example.com" in message and "allow-listed" in message


def test_a_name_that_did_not_resolve_is_refused() -> None:
    assert "did not resolve" in refused("https://nowhere.example/", resolved=[])


def test_public_addresses_wrapped_in_ipv6_pass() -> None:
    check_url("https://v4only.example.com/", ["::ffff:93.184.215.14", "64:ff9b::5db8:d70e"])


def test_allow_list_by_network() -> None:
    loopback = ["127.0.0.0/8", "::1"]
    check_url("http://127.0.0.1:8123/hook", [], loopback)
    check_url("http://[::1]:8123/hook", [], loopback)
    check_url("http://[::ffff:127.0.0.1]/hook", [], loopback)
    check_url("http://receiver.test/hook", ["127.0.0.1", "::1"], loopback)
    assert "private" in refused("http://10.0.0.1/", [], loopback)
    assert "user info" in refused("http://u@127.0.0.1/", [], loopback)
    assert "scheme" in refused("ftp://127.0.0.1/", [], loopback)


def test_allow_list_by_host_name() -> None:
    check_url("http://localhost:8000/hook", [], ["localhost"])
    check_url("http://hooks.corp.internal/x", ["10.2.3.4"], ["hooks.corp.internal"])
    check_url("http://a.b.corp.internal/x", [], ["*.corp.internal"])
    assert "private" in refused("http://corp.internal.evil.com/", ["10.0.0.1"], ["*.corp.internal"])
    assert "loopback" in refused("http://localhost.example.com/", ["127.0.0.1"], ["localhost"])


def test_allowlist_parse() -> None:
    allow = Allowlist.parse(["127.0.0.0/8", "10.1.2.3", "::1/128", "Hooks.Example.", "*.corp"])
    assert len(allow.networks) == 3
    assert allow.hosts == {"hooks.example", "*.corp"}
    assert Allowlist.parse("127.0.0.1").networks == (ipaddress.ip_network("127.0.0.1/32"),)
    with pytest.raises(InvalidInput) as e:
        Allowlist.parse(["10.0.0.0/33", "not a host", "", "*"])
    assert [p.field for p in e.value.problems] == [f"webhook_allow[{i}]" for i in range(4)]
    # an Allowlist is used as is
    check_url("http://127.0.0.1/", [], Allowlist.parse(["127.0.0.1"]))


def test_refusal_reasons() -> None:
    assert refusal(ipaddress.ip_address("8.8.8.8")) is None
    assert refusal(ipaddress.ip_address("2606:4700::1111")) is None
    assert refusal(ipaddress.ip_address("127.0.0.1")) == "a loopback address"


# --- properties ------------------------------------------------------------------------------

v4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@given(v4)
def test_every_ipv4_address_is_judged_the_same_bare_mapped_and_by_name(
    address: ipaddress.IPv4Address,
) -> None:
    public = refusal(address) is None
    assert public == (address.is_global and not address.is_multicast)
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert (refusal(mapped) is None) == public
    for url, resolved in (
        (f"http://{address}/", []),
        (f"http://[{mapped}]/", []),
        ("http://host.example.com/", [str(address)]),
        ("http://host.example.com/", [str(mapped)]),
    ):
        if public:
            check_url(url, resolved)
        else:
            with pytest.raises(InvalidInput):
                check_url(url, resolved)
            check_url(url, resolved, [f"{address}/32"])  # allow-listing lets it through
