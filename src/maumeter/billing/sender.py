"""Sending one signed webhook request to an address that was checked just before.

A webhook URL is checked when it is registered and again at every attempt: DNS may have
changed since (rebinding). The host is resolved once per attempt, every address is checked
(``core.destinations.check_url``), and the request goes to the first of exactly those
addresses: the URL carries the IP, the ``Host`` header the name, and for https the TLS server
name (SNI, and the name the certificate must match) is the host's. So the address checked is
the address connected to. No proxies from the environment, no redirects, no connection reuse
(a pooled TLS connection verified for one name must not carry another's request).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from maumeter.core.destinations import Allowlist, check_url
from maumeter.core.errors import InvalidInput

__all__ = ["Resolver", "Sent", "Target", "resolve", "send", "target"]

Resolver = Callable[[str, int], list[str]]
USER_AGENT = "maumeter-webhooks/1"
DEFAULT_PORTS = {"http": 80, "https": 443}


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (``getaddrinfo``), in its order, without repeats;
    empty when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    found: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True, slots=True)
class Target:
    """Where a request for a URL goes: the pinned URL, the Host header, httpx extensions."""

    url: str
    host: str
    extensions: dict[str, Any]


def target(url: str, allow: Allowlist, resolver: Resolver = resolve) -> Target:
    """Check ``url`` against its host's current addresses and pin the first of them; raises
    ``InvalidInput`` (field ``url``) when the URL may not be reached."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput.field("url", f"not a valid URL: {exc}") from None
    host = parts.hostname or ""
    port = port or DEFAULT_PORTS.get(parts.scheme, 0)
    try:
        literal: str | None = str(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    addresses = [literal] if literal else (resolver(host, port) if host else [])
    check_url(url, addresses, allow)
    if not addresses:
        raise InvalidInput.field("url", f"host {host!r} did not resolve to any address")
    address = ipaddress.ip_address(addresses[0].split("%", 1)[0])
    netloc = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if parts.port is None else f"{shown}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" and not literal else {}
    return Target(pinned, host_header, extensions)


@dataclass(frozen=True, slots=True)
class Sent:
    """What one attempt got: an HTTP status, or an error (refused, unreachable, timed out)."""

    status: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def send(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow: Allowlist,
    timeout: float,
    resolver: Resolver = resolve,
) -> Sent:
    """POST ``body`` to ``url`` (re-checked and pinned) and report the outcome. Never raises:
    one endpoint's oddity must not stall the queue. The response body is not read."""
    started = time.monotonic()

    def done(status: int | None, error: str | None) -> Sent:
        return Sent(status, error, round((time.monotonic() - started) * 1000, 1))

    try:
        where = target(url, allow, resolver)
    except InvalidInput as exc:
        return done(None, f"refused: {exc.message}")
    request_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
        "Host": where.host,
    }
    try:
        with (
            httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client,
            client.stream(
                "POST",
                where.url,
                content=body,
                headers=request_headers,
                extensions=where.extensions,
            ) as response,
        ):
            return done(response.status_code, None)
    except httpx.TimeoutException:
        return done(None, f"timed out after {timeout:g} s")
    except Exception as exc:  # whatever the endpoint does, it is this attempt's error, logged
        return done(None, f"{type(exc).__name__}: {exc}"[:500])
