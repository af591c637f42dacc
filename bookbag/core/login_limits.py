"""Failed sign-ins counted in the shared cache (CACHE_URL), for the inbox and the Django admin.

Counted per client address and username (5 failures lock that username from that address) and
per address alone (30, against one address spraying many usernames), for a window that restarts
with each failure. Both sign-in pages share the counters, so the admin is no side door. Keys hold
digests, never a username or an address.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 30
MESSAGE = "Too many failed sign-in attempts. Wait 15 minutes, or reset your password."


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_HOPS proxies the address the outermost of them saw:
    each proxy appends the address it got the request from to X-Forwarded-For, so only the last
    `hops` entries are ours; anything left of them the client wrote itself."""
    hops = getattr(settings, "TRUSTED_PROXY_HOPS", 0)
    if hops > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = [part.strip() for part in forwarded if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def login_counters(request: HttpRequest, username: str) -> dict[str, int]:
    """Cache key → limit, the per-username counter first."""
    client = digest(client_address(request))
    return {
        f"login:{client}:{digest(username[:150].strip().lower())}": MAX_FAILURES_PER_USERNAME,
        f"login:{client}": MAX_FAILURES_PER_ADDRESS,
    }


def over_limit(counters: dict[str, int]) -> bool:
    values = cache.get_many(list(counters))
    return any(values.get(key, 0) >= limit for key, limit in counters.items())


def count_failure(keys) -> None:
    # get + set (not incr): the window restarts with each failure on every cache backend alike.
    keys = list(keys)
    values = cache.get_many(keys)
    cache.set_many({key: values.get(key, 0) + 1 for key in keys}, WINDOW_SECONDS)


def forget_username(counters: dict[str, int]) -> None:
    """After a successful sign-in; the per-address count stays (it limits spraying)."""
    cache.delete(next(iter(counters)))
