"""Bookbag's settings plus one benchmark-only route (`/bench/minimal/`).

Both receivers are served by the same gunicorn with these settings, so the only difference
between the two measurements is the view.
"""

from bookbag.settings import *  # noqa: F403
from bookbag.settings import env

ROOT_URLCONF = "benchmarks.bench_urls"

# The minimal receiver's whole configuration: which shop its rows belong to and the secret it
# checks signatures with (no Shop lookup, no decryption).
BENCH_SHOP_ID = env.int("BENCH_SHOP_ID", default=0)
BENCH_WEBHOOK_SECRET = env.str("BENCH_WEBHOOK_SECRET", default="")
