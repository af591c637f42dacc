"""Rate limits for the API, counted in the shared cache (file cache on one host, Redis across
hosts: a per-process cache would multiply the limit by the number of workers, shared/TRAPS.md).

Each caller is limited per user (one service user, so one token, per integration): the rate is
`API_THROTTLE_RATE` (default 600/minute); anonymous callers (only the schema and docs accept
them) share `API_ANON_THROTTLE_RATE` per address. Every response carries the draft IETF
headers `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the oldest
counted request leaves the window); a 429 also carries `Retry-After` in whole seconds.
"""

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

RATE_LIMIT_ATTR = "_bookbag_rate_limit"


class _RateLimitHeaders:
    def get_rate(self):
        # Read at each request, not at import (DRF's THROTTLE_RATES is frozen at class creation),
        # so a changed setting takes effect without reloading the module.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        allowed = super().allow_request(request, view)
        if self.rate is not None and getattr(self, "key", None) is not None:
            history = self.history
            reset = self.duration - (self.now - history[-1]) if history else self.duration
            setattr(
                request,
                RATE_LIMIT_ATTR,
                (self.num_requests, max(self.num_requests - len(history), 0), max(reset, 0)),
            )
        return allowed


class UserRateLimit(_RateLimitHeaders, UserRateThrottle):
    scope = "user"


class AnonRateLimit(_RateLimitHeaders, AnonRateThrottle):
    scope = "anon"


class RateLimitHeadersMixin:
    # For API views: the RateLimit-* headers recorded by the throttle go on every response.
    # (A comment, not a docstring: drf-spectacular would show a docstring as each operation's
    # description.)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        recorded = getattr(request, RATE_LIMIT_ATTR, None)
        if recorded is not None:
            limit, remaining, reset = recorded
            response["RateLimit-Limit"] = str(limit)
            response["RateLimit-Remaining"] = str(remaining)
            response["RateLimit-Reset"] = str(math.ceil(reset))
        return response
