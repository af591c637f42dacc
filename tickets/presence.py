"""Who else has a ticket open, and who is typing a reply: the collision warning.

Kept in the shared cache (CACHE_URL: a file cache on one host, Redis across hosts; never a
per-process LocMemCache, see shared/TRAPS.md) as one small dict per ticket. Each open ticket page
refreshes its entry with every poll (every 2.5 s); an entry not refreshed for FRESH_SECONDS
is gone.
Two agents writing at the same instant can drop each other's entry until the next poll: a
warning shown a poll later is fine here, a lock would not be worth it.
"""

import time

from django.core.cache import cache

from tickets.access import display_name

FRESH_SECONDS = 10
KEY_TTL = 60
STATES = ("viewing", "replying")


def _key(ticket_id: int) -> str:
    return f"inbox:presence:{ticket_id}"


def _fresh(entries: dict, now: float) -> dict:
    return {uid: e for uid, e in entries.items() if now - e.get("at", 0) <= FRESH_SECONDS}


def touch(ticket_id: int, user, state: str = "viewing") -> list[dict]:
    """Record that `user` has the ticket open (or is replying); return the others present."""
    now = time.time()
    entries = _fresh(cache.get(_key(ticket_id)) or {}, now)
    entries[str(user.pk)] = {
        "name": display_name(user),
        "state": state if state in STATES else "viewing",
        "at": now,
    }
    cache.set(_key(ticket_id), entries, KEY_TTL)
    return others(ticket_id, user, entries)


def leave(ticket_id: int, user) -> None:
    entries = cache.get(_key(ticket_id)) or {}
    if entries.pop(str(user.pk), None) is not None:
        cache.set(_key(ticket_id), entries, KEY_TTL)


def others(ticket_id: int, user, entries: dict | None = None) -> list[dict]:
    if entries is None:
        entries = cache.get(_key(ticket_id)) or {}
    now = time.time()
    return sorted(
        (
            {"name": e["name"], "state": e["state"]}
            for uid, e in _fresh(entries, now).items()
            if uid != str(user.pk)
        ),
        key=lambda e: (e["state"] != "replying", e["name"]),
    )
