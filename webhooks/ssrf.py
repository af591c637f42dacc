"""The SSRF guard for outbound webhooks.

An endpoint URL is customer-controlled, so Bookbag must never be talked into POSTing to its own
network: loopback, private ranges, the cloud metadata service (169.254.169.254), CGNAT, multicast
and so on. The guard resolves the host with ``getaddrinfo`` (so odd spellings such as
``0177.0.0.1`` or ``2130706433`` are seen as the 127.0.0.1 they really are), unwraps IPv4 carried
inside IPv6 (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64) and requires every address to be
globally routable. The transport then connects to the very address checked here, so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot slip through.

``settings.WEBHOOK_ALLOWED_HOSTS`` lists host names, addresses or CIDR networks allowed anyway
(a receiver on the company network, or the test server on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges refused even when a Python version's ``is_global`` tables think otherwise (3.11's
# tables predate some IANA updates, and call multicast "global").
_BLOCKED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), reason)
    for net, reason in (
        ("0.0.0.0/32", "the unspecified address"),
        ("0.0.0.0/8", "an address in the 'this network' range 0.0.0.0/8"),
        ("10.0.0.0/8", "a private network address"),
        ("100.64.0.0/10", "a carrier-grade NAT address (100.64.0.0/10)"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (the range of the cloud metadata service)"),
        ("172.16.0.0/12", "a private network address"),
        ("192.0.0.0/24", "an IETF protocol assignment address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay anycast address"),
        ("192.168.0.0/16", "a private network address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("::/96", "a deprecated IPv4-compatible address"),
        ("100::/64", "a discard-only address"),
        ("2001:db8::/32", "a documentation address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeDestination(Exception):
    """The URL or the address it resolves to may not receive webhooks.

    ``str(exc)`` is a complete sentence for an admin form or an attempt's error column.
    """


class DNSError(UnsafeDestination):
    """The host name could not be resolved (often transient: the attempt is retried)."""


def check_url(url: str) -> None:
    """Validate an endpoint URL when it is saved: syntax first, then the addresses it resolves to.

    Raises UnsafeDestination with a message meant for the person who typed the URL.
    """
    _scheme, host, port = _parse(url)
    resolve_safe(host, port)


def split_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL that passes the syntax checks; UnsafeDestination if not.

    The host comes back without IPv6 brackets and the port is filled in from the scheme.
    """
    return _parse(url)


def resolve_safe(host: str, port: int) -> list[str]:
    """Resolve ``host`` and return its addresses (IPv4 first), all checked.

    Every address must be globally routable unless the host name, the address or a network in
    WEBHOOK_ALLOWED_HOSTS allows it; a single bad address refuses the whole host (an attacker's
    DNS can answer with one public and one private address).
    """
    host = _normalize_host(host)
    if not host:
        raise UnsafeDestination("The URL has no host name.")
    allowed_names, allowed_networks = _allowlist()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:
        raise UnsafeDestination(f"The host name {host!r} is not a valid domain name.") from exc
    except socket.gaierror as exc:
        raise DNSError(f"Could not resolve the host {host!r}: {exc.strerror or exc}.") from exc
    except OSError as exc:
        raise DNSError(f"Could not resolve the host {host!r}: {exc}.") from exc

    host_allowed = host in allowed_names
    v4: list[str] = []
    v6: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        text = str(sockaddr[0])
        try:
            address = ipaddress.ip_address(text)
        except ValueError as exc:
            raise UnsafeDestination(
                f"The host {host!r} resolved to {text!r}, which is not an IP address."
            ) from exc
        if not host_allowed:
            reason = _refusal(address, allowed_networks)
            if reason:
                if host == text:
                    what = f"[{text}]" if address.version == 6 else text
                    what = f"{what}: it is {reason}"
                else:
                    what = f"{host!r}: it resolves to {text}, which is {reason}"
                raise UnsafeDestination(
                    f"Refusing to send webhooks to {what}. Only publicly routable addresses are "
                    "allowed (an administrator can allow this one in WEBHOOK_ALLOWED_HOSTS)."
                )
        bucket = v4 if family == socket.AF_INET else v6
        if text not in bucket:
            bucket.append(text)
    addresses = v4 + v6
    if not addresses:
        raise DNSError(f"The host {host!r} resolved to no addresses.")
    return addresses


def _parse(url: str) -> tuple[str, str, int]:
    if not isinstance(url, str) or not url.strip():
        raise UnsafeDestination("Enter a URL.")
    if any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in url) or "\\" in url:
        raise UnsafeDestination("The URL may not contain spaces, control characters or '\\'.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination(f"The URL is not valid ({exc}).") from exc
    scheme = parts.scheme.lower()
    allow_http = bool(getattr(settings, "WEBHOOK_ALLOW_HTTP", False))
    if scheme == "http" and not allow_http:
        raise UnsafeDestination("The URL must use https:// (plain http:// is not allowed here).")
    if scheme not in ("https", "http"):
        accepted = "https:// or http://" if allow_http else "https://"
        raise UnsafeDestination(f"The URL must start with {accepted}.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeDestination("The URL may not contain a user name or password (user:pass@).")
    host = _normalize_host(parts.hostname or "")
    if not host:
        raise UnsafeDestination("The URL has no host name.")
    if port is None:
        port = 443 if scheme == "https" else 80
    if not 1 <= port <= 65535:
        raise UnsafeDestination("The URL's port must be between 1 and 65535.")
    return scheme, host, port


def _normalize_host(host: str) -> str:
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".").lower()


def _allowlist() -> tuple[set[str], list[IPNetwork]]:
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", None) or ():
        entry = str(entry).strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(_normalize_host(entry))
    return names, networks


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries by 6to4, Teredo or NAT64 (mapped is separate)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _refusal(address: IPAddress, allowed: list[IPNetwork]) -> str:
    """Why ``address`` may not be used ("" when it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
    if _allowed(address, allowed):
        return ""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if mapped is not None:
        inner = _refusal(mapped, allowed)
        return f"an IPv4-mapped form of {mapped}, which is {inner}" if inner else ""
    reason = _classify(address)
    if reason:
        return reason
    for inner in _embedded_ipv4(address):
        inner_reason = "" if _allowed(inner, allowed) else _classify(inner)
        if inner_reason:
            return f"an address embedding {inner} (6to4, Teredo or NAT64), which is {inner_reason}"
    return ""


def _allowed(address: IPAddress, allowed: list[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in allowed)


def _classify(address: IPAddress) -> str:
    for network, reason in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return reason
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private or special-purpose address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a publicly routable address"
    return ""
