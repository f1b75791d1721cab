"""Webhook destinations: which URLs the server may post to (against server-side request forgery).

A webhook URL is chosen by a customer but requested by the server, from inside its network. So
it must be ``http`` or ``https``, name a host, carry no user info, and every address it
resolves to must be public: not loopback, private, link-local, multicast, reserved,
unspecified or otherwise not globally routable, including such IPv4 addresses wrapped in IPv6
(``::ffff:127.0.0.1``, 6to4, Teredo, NAT64). Numeric hosts that only some parsers read as IPv4
(``127.1``, ``2130706433``, ``0x7f.0.0.1``) are refused outright. Operators allow-list networks
(CIDR) or host names in the configuration; the tests allow-list loopback.

Pure: the caller resolves the host (every address, as ``getaddrinfo`` returns them) and passes
the strings; it must then connect to one of exactly those addresses, or a DNS answer that
changes between the check and the request (rebinding) would slip through.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from maumeter.core.errors import InvalidInput, Problem

__all__ = ["Allowlist", "check_url", "refusal"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2048
SCHEMES = frozenset({"http", "https"})
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
_HOST_NAME = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: translated as the site likes


def _host(name: str) -> str:
    return name.lower().rstrip(".")


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Networks and host names a webhook may reach although they are not public.

    A host name entry allows exactly that name, or with a leading ``*.`` its subdomains; an
    allowed name skips the address checks (the operator vouches for it). A network entry
    (``127.0.0.0/8``, ``10.1.2.3``) allows the addresses inside it.
    """

    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str], field_name: str = "webhook_allow") -> Allowlist:
        if isinstance(entries, str):
            entries = [entries]
        networks: list[Network] = []
        hosts: set[str] = set()
        problems: list[Problem] = []
        for i, entry in enumerate(entries):
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
                continue
            except (ValueError, TypeError, AttributeError):
                pass
            name = _host(entry) if isinstance(entry, str) else ""
            if _HOST_NAME.fullmatch(name):
                hosts.add(name)
            else:
                problems.append(
                    Problem(
                        f"{field_name}[{i}]",
                        f"expected a network such as '10.0.0.0/8' or a host name, got {entry!r}",
                    )
                )
        if problems:
            raise InvalidInput(problems)
        return cls(tuple(networks), frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        host = _host(host)
        return host in self.hosts or any(
            h.startswith("*.") and host.endswith(h[1:]) for h in self.hosts
        )

    def allows_address(self, address: Address) -> bool:
        candidates = [address, *_embedded(address)]
        return any(a in n for a in candidates for n in self.networks if a.version == n.version)


def _translated(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped or NAT64 IPv6 address stands for: what it reaches."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _embedded(address: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries, which a gateway or relay may end up reaching."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [_translated(address), address.sixtofour, *(address.teredo or ())]
    return [a for a in found if a is not None]


def refusal(address: Address) -> str | None:
    """Why a webhook may not reach ``address`` ("a loopback address" ...), or None if public.

    An IPv4-mapped or NAT64 address is judged by the IPv4 address it stands for (so IPv6-only
    hosts behind DNS64 can reach public IPv4 endpoints); 6to4 and Teredo addresses must be
    public both outside and inside.
    """
    translated = _translated(address)
    if translated is not None:
        reason = refusal(translated)
        return None if reason is None else f"{reason} inside an IPv6 address"
    if isinstance(address, ipaddress.IPv6Address) and address in _LOCAL_NAT64:
        return "a local-use NAT64 address"
    for inner in _embedded(address):
        reason = refusal(inner)
        if reason is not None:
            return f"{reason} inside an IPv6 address"
    checks = [
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
        ("is_site_local", "a site-local address"),
    ]
    for attribute, reason in checks:
        if getattr(address, attribute, False):
            return reason
    return None if address.is_global else "an address that is not globally routable"


def _fail(url: str, message: str) -> InvalidInput:
    return InvalidInput.field("url", f"{message} (webhook URL {url[:200]!r})")


def check_url(
    url: str, resolved: Sequence[str] = (), allow: Allowlist | Iterable[str] = ()
) -> None:
    """Refuse a webhook URL that is not a public http(s) endpoint; returns None when it is.

    ``resolved`` are the addresses the caller's resolver gave for the URL's host (all of them;
    ignored parts of a DNS answer are how attacks get in); a host name with no address is
    refused, since the check cannot vouch for it. Raises ``InvalidInput`` on field ``url``.
    """
    if not isinstance(url, str) or not url:
        raise InvalidInput.field("url", "expected an http(s) URL")
    allowed = allow if isinstance(allow, Allowlist) else Allowlist.parse(allow)
    if len(url) > MAX_URL_LENGTH:
        raise _fail(url, f"URL longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise _fail(url, "URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port validates it
    except ValueError as e:
        raise _fail(url, f"not a valid URL: {e}") from None
    if parts.scheme not in SCHEMES:
        raise _fail(url, f"scheme {parts.scheme!r} is not allowed; expected http or https")
    if "@" in parts.netloc:
        raise _fail(url, "user info (user:password@) is not allowed in webhook URLs")
    if not parts.hostname:
        raise _fail(url, "the URL has no host")
    host = _host(parts.hostname)
    if allowed.allows_host(host):
        return
    addresses = [*resolved]
    literal = False
    try:
        addresses.append(str(ipaddress.ip_address(host)))
        literal = True
    except ValueError:
        if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
            raise _fail(url, f"host {host!r} is an ambiguous numeric address") from None
        if host == "localhost" or host.endswith(".localhost"):
            raise _fail(url, f"host {host!r} is a loopback name; allow-list it to use it") from None
        if not addresses:
            raise _fail(url, f"host {host!r} did not resolve to any address") from None
    for text in addresses:
        address = ipaddress.ip_address(text)
        reason = refusal(address)
        if reason is not None and not allowed.allows_address(address):
            where = f"{host} is" if literal else f"host {host!r} resolves to {text},"
            raise _fail(
                url,
                f"{where} {reason}; webhooks may reach only public addresses unless the "
                "address is allow-listed in the configuration",
            )
