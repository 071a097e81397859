"""Which Host names and addresses count as this server (the defence against DNS rebinding)."""
from __future__ import annotations

import ipaddress
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # a dual-stack socket reports 127.0.0.1 as ::ffff:127.0.0.1
    return (mapped or address).is_loopback


def host_allowed(header: str | None, local: Any, names: frozenset[str]) -> bool:
    """Whether a Host header names this server: one of ``names``, or the address the client reached it on.

    A page on a rebound DNS name (evil.example resolving to 127.0.0.1) sends
    its own name as Host, and its Origin matches it, so only a fixed list stops
    it. The port is not compared: SSH tunnels and proxies change it, and no
    rebinding attack needs another one.
    """
    name = host_key(_host_part(header)) if header else ""
    if not name:
        return False
    if name in names:
        return True
    here = host_key(str(local[0])) if local else None
    return name == here or (here is not None and is_loopback(here) and name in LOOPBACK_NAMES)


def _host_part(header: str) -> str:
    """The host of a Host header value, without the port ("[::1]:8765" → "::1"); "" when malformed."""
    header = header.strip()
    if header.startswith("["):
        host, sep, rest = header[1:].partition("]")
        return host if sep and (not rest or (rest[0] == ":" and rest[1:].isdigit())) else ""
    host, _, port = header.partition(":")
    return host if not port or port.isdigit() else ""


def host_key(host: str) -> str:
    """A host name or address in one spelling: lower case, no brackets or trailing dot, IPv4-mapped unwrapped."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return str(getattr(address, "ipv4_mapped", None) or address)


def is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False
