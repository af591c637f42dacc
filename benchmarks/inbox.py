"""Inbox benchmark (issue 6): server time and SQL queries of the list and ticket pages at scale.

Run from the repository root:

    .venv/bin/python benchmarks/inbox.py                    # 100,000 tickets, 500,000 messages
    .venv/bin/python benchmarks/inbox.py --reuse            # keep the seeded database from before
    .venv/bin/python benchmarks/inbox.py --tickets 5000 --messages 25000 --runs 10   # smoke test

It creates a scratch PostgreSQL database (`--database`, default `bookbag_bench_inbox`) on the
server named by DATABASE_URL (default postgres://postgres@127.0.0.1:5432), migrates it, fills it
with `manage.py seed_bulk_tickets` (skipped with --reuse when it is already filled), then renders
pages in this process with Django's test Client as a signed-in agent. "Server time" is the time
Django takes to answer (the request handler, middleware, queries and template rendering; no
network). Each scenario: a few warm-up requests, then --runs timed ones; the query count is
taken from one more request. The shared cache is a LocMemCache here (one process).
The database is kept for --reuse; --drop removes it at the end.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_MS = 150


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", default="bookbag_bench_inbox")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args()


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must point to PostgreSQL (the benchmark is about PostgreSQL).")
    return f"{parts.scheme}://{parts.netloc}"


def admin(args) -> psycopg.Connection:
    return psycopg.connect(f"{args.server}/postgres", autocommit=True)


def database_exists(args) -> bool:
    with admin(args) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
        return row.fetchone() is not None


def recreate_database(args) -> None:
    with admin(args) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')


def setup_django(args) -> None:
    os.environ["DATABASE_URL"] = f"{args.server}/{args.database}"
    os.environ["CACHE_URL"] = "locmemcache://"
    os.environ["DEBUG"] = "0"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookbag.settings")
    import django

    django.setup()


def seeded(expected: int) -> bool:
    from tickets.models import Ticket

    return Ticket.objects.filter(shop__domain="bench-store.myshopify.com").count() >= expected


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def main() -> None:
    args = parse_args()
    args.server = server_url()
    fresh = not (args.reuse and database_exists(args))
    if fresh:
        recreate_database(args)
    setup_django(args)

    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from integrations.models import Order
    from tickets.models import Ticket, TicketStatus

    # No setup_test_environment(): its template instrumentation copies every context and
    # would add its own cost to each render. 'testserver' is in ALLOWED_HOSTS already.
    call_command("migrate", verbosity=0)
    if fresh or not seeded(args.tickets):
        print(f"Seeding {args.tickets:,} tickets and {args.messages:,} messages…", flush=True)
        call_command("seed_bulk_tickets", tickets=args.tickets, messages=args.messages)

    from django.contrib.auth import get_user_model

    agent = get_user_model().objects.get(username="bench-agent-1")
    client = Client()
    client.force_login(agent)
    rng = random.Random(7)

    tickets = Ticket.objects.count()
    from tickets.models import Message

    messages = Message.objects.count()
    unresolved_ids = list(
        Ticket.objects.exclude(status=TicketStatus.RESOLVED).values_list("pk", flat=True)[:2000]
    )
    any_ids = list(Ticket.objects.order_by("?").values_list("pk", flat=True)[:2000])
    order_name = Order.objects.filter(tickets__isnull=False).order_by("?").first().name

    def deep_cursor(query: str, pages: int) -> str:
        """Follow `Next` links `pages` times; the URL of the page reached."""
        url = f"/inbox/?{query}"
        for _ in range(pages):
            html = client.get(url).content.decode()
            marker = 'rel="next" href="'
            start = html.find(marker)
            if start < 0:
                break
            url = "/inbox/" + html[start + len(marker) : html.find('"', start + len(marker))]
            url = url.replace("&amp;", "&")
        return url

    deep = deep_cursor("view=all", 40)
    etag_list = client.get("/inbox/poll/?list=1")["ETag"]

    scenarios = [
        ("list: Open (default view)", lambda: "/inbox/", {}),
        ("list: All", lambda: "/inbox/?view=all", {}),
        ("list: Mine", lambda: "/inbox/?view=mine", {}),
        ("list: Unassigned", lambda: "/inbox/?view=unassigned", {}),
        ("list: All, sorted by priority", lambda: "/inbox/?view=all&sort=priority", {}),
        ("list: All, page 41 (keyset)", lambda: deep, {}),
        ("list: Open, tag + priority filter", lambda: "/inbox/?tag=shipping&priority=high", {}),
        ("list: search by order name", lambda: f"/inbox/?view=all&q=%23{order_name[1:]}", {}),
        ("list: Open, counts not cached", lambda: "/inbox/", {"clear_cache": True}),
        ("ticket page (unresolved)", lambda: f"/inbox/tickets/{rng.choice(unresolved_ids)}/", {}),
        ("ticket page (any)", lambda: f"/inbox/tickets/{rng.choice(any_ids)}/", {}),
        ("poll: list, changed (200)", lambda: "/inbox/poll/?list=1", {}),
        (
            "poll: list, unchanged (304)",
            lambda: "/inbox/poll/?list=1",
            {"headers": {"HTTP_IF_NONE_MATCH": etag_list}},
        ),
        ("poll: ticket", lambda: f"/inbox/poll/?ticket={rng.choice(unresolved_ids)}", {}),
        ("search: a word in message text", lambda: "/inbox/?view=all&q=courier", {}),
    ]

    results = []
    for name, url_of, options in scenarios:
        headers = options.get("headers", {})
        timings = []
        statuses = set()
        for i in range(3 + args.runs):
            if options.get("clear_cache"):
                cache.clear()
            url = url_of()
            started = time.perf_counter()
            response = client.get(url, **headers)
            elapsed = (time.perf_counter() - started) * 1000
            statuses.add(response.status_code)
            if i >= 3:
                timings.append(elapsed)
        query_counts = set()
        for _ in range(3):
            if options.get("clear_cache"):
                cache.clear()
            with CaptureQueriesContext(connection) as queries:
                client.get(url_of(), **headers)
            query_counts.add(len(queries.captured_queries))
        results.append((name, timings, query_counts, statuses))
        print(
            f"  {name:<36} p50 {statistics.median(timings):7.1f} ms  "
            f"p95 {percentile(timings, 95):7.1f} ms  queries {sorted(query_counts)}  "
            f"status {sorted(statuses)}",
            flush=True,
        )

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    import django

    print()
    print(
        f"{tickets:,} tickets, {messages:,} messages; PostgreSQL {pg_version}, Django "
        f"{django.get_version()}, Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"{args.runs} runs per scenario."
    )
    print()
    print("| page | p50 ms | p95 ms | SQL queries |")
    print("|---|---:|---:|---:|")
    for name, timings, query_counts, _ in results:
        counts = "/".join(str(c) for c in sorted(query_counts))
        print(f"| {name} | {statistics.median(timings):.1f} | {percentile(timings, 95):.1f} | "
              f"{counts} |")  # fmt: skip
    over = [
        name
        for name, timings, _, _ in results
        if name.startswith(("list", "ticket")) and percentile(timings, 95) > TARGET_MS
    ]
    print()
    verdict = f"Over target (p95): {', '.join(over)}" if over else "All within target (p95)."
    print(f"Target: list and ticket pages under {TARGET_MS} ms server time. {verdict}")

    if args.drop:
        connection.close()
        with admin(args) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
