"""Pipeline benchmark (issue 9): signed Shopify webhooks in, customer emails and merchant
webhooks out, through real processes, with 1, 2 and 4 worker processes on both brokers.

Run from the repository root:

    .venv/bin/python benchmarks/pipeline.py --quick             # smoke test (about a minute)
    .venv/bin/python benchmarks/pipeline.py                     # 6 configurations x 3,000
    .venv/bin/python benchmarks/pipeline.py --configs redis:4   # one configuration x 20,000
    .venv/bin/python benchmarks/pipeline.py --configs orm:2 --events 6000 --rate 20

`--events` defaults to 20,000 for a single configuration and to 3,000 per configuration when
several run (six configurations of 20,000 take hours on 2 cores).

For each configuration (broker:workers) it copies a scratch PostgreSQL database (migrated and
seeded once: a shop, one customer with an open ticket per order, two endpoints at a loopback
receiver), starts gunicorn (2 sync workers), `manage.py qcluster` (Q_WORKERS = workers) and
`manage.py sweep --loop`, and sends the webhooks of N/6 orders (created, shipped, in transit,
delivered, refunded, cancelled; benchmarks/harness.py `Story`) as fast as C client threads get
200s (or at `--rate` per second), orders overlapping. Then it waits until every row is worked
off and prints:

- inbound acknowledgements/s and the p50/p99 acknowledgement latency (client side);
- events processed/s (inbound rows done over the time from the first acceptance to the last)
  and rows/s (events, emails and deliveries finished over the whole run, until nothing is open);
- end to end, from acceptance (the inbound row's created_at) to the customer email being sent
  (Notification.sent_at) and to the outbound delivery arriving at the receiver (p50/p99);
- the backlog curve: open outbox rows sampled every second;
- where the CPU went (client, web, workers, sweeper, PostgreSQL) and the audit of
  benchmarks/harness.py `check_books` (nothing lost, nothing doubled).

Every process is stopped by its PID, the scratch databases are dropped and the Redis database
(`--redis-url`, database 12 by default) is flushed at the end, error or not. The machine's other
load shows up in the CPU line: figures taken on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/pipeline.py` from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    HEALTHY,
    OUTBOX_TABLES,
    Behaviour,
    Books,
    Db,
    DriveResult,
    Receiver,
    Shopify,
    Stack,
    check_books,
    create_database,
    drop_database,
    interleave,
    stories,
)
from benchmarks.inbound import box_cpu, machine  # noqa: E402
from benchmarks.pipeline_cpu import TierMeter  # noqa: E402

SHOP = "pipeline.myshopify.com"
SHOP_SECRET = "pipeline-shop-webhook-secret"
EVENTS_PER_STORY = 6
# Which of an order's webhooks (harness.PHASES) causes which email and which outbound event.
EMAIL_PHASE = {
    "shipping_confirmation": 1,
    "shipment_update": 3,
    "refund_issued": 4,
    "order_cancelled": 5,
}
EVENT_PHASE = {"order.fulfilled": 1, "refund.created": 4, "order.cancelled": 5}
ENDPOINTS = [
    {"name": "crm"},  # every event type
    {"name": "erp", "event_types": ["order.fulfilled", "refund.created"]},
]
DEFAULT_CONFIGS = "orm:1,orm:2,orm:4,redis:1,redis:2,redis:4"
QUICK_CONFIGS = "orm:2,redis:2"
REDIS_LIST = "django_q:bookbag:q"  # django-q2's Redis list for cluster "bookbag"
REQUEST_TIMEOUT = 10.0


@dataclasses.dataclass(frozen=True)
class Config:
    broker: str  # "orm" or "redis"
    workers: int

    @property
    def label(self) -> str:
        return f"{self.broker} x{self.workers}"


def parse_configs(text: str) -> list[Config]:
    configs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = re.fullmatch(r"(orm|redis):(\d+)", item)
        if not match or int(match[2]) < 1:
            raise argparse.ArgumentTypeError(f"{item!r}: expected orm:N or redis:N (N >= 1)")
        configs.append(Config(match[1], int(match[2])))
    if not configs:
        raise argparse.ArgumentTypeError("no configuration given")
    return configs


# --- results ------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclasses.dataclass
class Sample:
    t: float  # seconds since the drive started
    inbound: int
    notifications: int
    deliveries: int
    queue: int  # messages waiting in the broker

    @property
    def open(self) -> int:
        return self.inbound + self.notifications + self.deliveries


@dataclasses.dataclass
class Run:
    config: Config
    events: int = 0
    acked: int = 0
    statuses: Counter = dataclasses.field(default_factory=Counter)
    ack_latencies: list[float] = dataclasses.field(default_factory=list)  # seconds
    drive_seconds: float = 0.0
    processed: int = 0
    rows_done: int = 0  # inbound events, emails and deliveries finished
    process_seconds: float = 0.0  # first acceptance to last event processed
    drain_seconds: float = 0.0  # drive start to nothing open
    settled: bool = False
    email_latencies: list[float] = dataclasses.field(default_factory=list)
    delivery_latencies: list[float] = dataclasses.field(default_factory=list)
    samples: list[Sample] = dataclasses.field(default_factory=list)
    reenqueued: int = 0  # rows the sweeper handed out (retries, deferrals, or a long queue)
    cpu: dict[str, float] = dataclasses.field(default_factory=dict)
    books: Books | None = None

    @property
    def ack_per_s(self) -> float:
        return self.acked / self.drive_seconds if self.drive_seconds else 0.0

    @property
    def processed_per_s(self) -> float:
        return self.processed / self.process_seconds if self.process_seconds else 0.0

    @property
    def work_per_s(self) -> float:
        """Outbox rows (events, emails, deliveries) finished per second of the whole run."""
        return self.rows_done / self.drain_seconds if self.drain_seconds else 0.0

    @property
    def non_200(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")

    def curve(self, points: int = 16) -> str:
        """The backlog (open rows, all three outboxes) at about `points` evenly spaced seconds."""
        if not self.samples:
            return ""
        step = max(1, len(self.samples) // points)
        shown = self.samples[::step]
        if shown[-1] is not self.samples[-1]:
            shown.append(self.samples[-1])
        return " ".join(f"{s.t:.0f}s:{s.open}" for s in shown)

    def peak(self) -> Sample | None:
        return max(self.samples, key=lambda s: s.open, default=None)


# --- driving Shopify's side ---------------------------------------------------------------------


def drive(
    shopify: Shopify, hooks, concurrency: int, deadline: float, run: Run, rate: float = 0.0
) -> DriveResult:
    """C threads post the webhooks in order; anything but a 200 is retried (as Shopify would)
    until the deadline. Closed loop (rate 0): each thread posts as soon as its previous answer
    came, latency from the first post to the 200. Open loop (rate > 0): webhook i is due at
    t0 + i/rate and its latency counts from then, so a server falling behind shows."""
    result = DriveResult()
    counter = itertools.count()
    lock = threading.Lock()
    t0 = time.perf_counter()

    def worker() -> None:
        mine = DriveResult()
        latencies = []
        while time.monotonic() < deadline:
            i = next(counter)
            if i >= len(hooks):
                break
            started = time.perf_counter()
            if rate:
                started = t0 + i / rate
                if started > time.perf_counter():
                    time.sleep(started - time.perf_counter())
            accepted = shopify.deliver(hooks[i], mine, deadline, retry_every=0.2)
            if accepted:
                latencies.append(time.perf_counter() - started)
        with lock:
            result.merge(mine)
            run.ack_latencies.extend(latencies)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic()) + 2 * REQUEST_TIMEOUT)
    run.drive_seconds = time.perf_counter() - t0
    return result


# --- watching the backlog -----------------------------------------------------------------------


def open_rows(db: Db) -> dict[str, int]:
    """Rows still to be worked on per outbox (the partial due index covers the open states)."""
    counts = {}
    for name, table in OUTBOX_TABLES.items():
        counts[name] = db.value(
            f"SELECT count(*) FROM {table} WHERE status IN ('pending', 'in_progress') "
            "AND (status = 'in_progress' OR next_attempt_at IS NOT NULL)"
        )
    return counts


def queue_length(db: Db, redis_client) -> int:
    if redis_client is not None:
        return int(redis_client.llen(REDIS_LIST))
    return db.value("SELECT count(*) FROM django_q_ormq")


class Sampler:
    """Samples the backlog (and the CPU of each tier) about once a second, in its own thread
    with its own database connection."""

    def __init__(self, database_url: str, redis_client, meter: TierMeter, interval: float = 1.0):
        self.db = Db(database_url)
        self.redis = redis_client
        self.meter = meter
        self.interval = interval
        self.samples: list[Sample] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.t0 = time.monotonic()

    def start(self) -> Sampler:
        self.t0 = time.monotonic()
        self.meter.start()
        self.thread.start()
        return self

    def sample(self) -> Sample:
        counts = open_rows(self.db)
        s = Sample(
            time.monotonic() - self.t0,
            counts["inbound"],
            counts["notification"],
            counts["delivery"],
            queue_length(self.db, self.redis),
        )
        self.samples.append(s)
        return s

    def _loop(self) -> None:
        while not self.stopping.is_set():
            tick = time.monotonic()
            self.sample()
            self.meter.sample()
            self.stopping.wait(max(0.0, self.interval - (time.monotonic() - tick)))

    def stop(self) -> dict[str, float]:
        self.stopping.set()
        self.thread.join(timeout=10)
        self.db.close()
        return self.meter.stop()


def wait_drained(sampler: Sampler, accepted: int, timeout: float) -> bool:
    """True once every accepted event is processed and no outbox row or queue message is left
    (two quiet samples in a row), within `timeout` seconds."""
    db = Db(sampler.db.url)
    deadline = time.monotonic() + timeout
    quiet = 0
    try:
        while time.monotonic() < deadline:
            finished = db.value(
                "SELECT count(*) FROM integrations_inboundwebhook "
                "WHERE status IN ('done', 'dead', 'ignored')"
            )
            last = sampler.samples[-1] if sampler.samples else None
            if finished >= accepted and last is not None and not last.open and not last.queue:
                quiet += 1
                if quiet >= 2:
                    return True
            else:
                quiet = 0
            time.sleep(0.5)
        return False
    finally:
        db.close()


# --- reading the results ------------------------------------------------------------------------


def end_to_end(db: Db, hooks, receiver: Receiver, names: dict[int, str], run: Run) -> None:
    """Acceptance -> email sent, and acceptance -> delivery arrived, per effect."""
    by_story_phase = {(h.story, h.phase): h.webhook_id for h in hooks}
    accepted_at = {
        r["webhook_id"]: r["created_at"].timestamp()
        for r in db.rows("SELECT webhook_id, created_at FROM integrations_inboundwebhook")
    }
    first_row = db.rows(
        "SELECT min(created_at) AS first, max(processed_at) AS last, "
        "count(*) FILTER (WHERE status = 'done') AS done FROM integrations_inboundwebhook"
    )[0]
    run.processed = first_row["done"]
    run.rows_done = sum(
        db.value(f"SELECT count(*) FROM {table} WHERE status = 'done'")
        for table in OUTBOX_TABLES.values()
    )
    if first_row["first"] and first_row["last"]:
        run.process_seconds = (first_row["last"] - first_row["first"]).total_seconds()

    def cause(shopify_customer_id: int, phase: int) -> float | None:
        webhook_id = by_story_phase.get((shopify_customer_id - 7_000_000_000, phase))
        return accepted_at.get(webhook_id)

    for r in db.rows(
        "SELECT c.shopify_id, n.template_key, n.sent_at FROM notifications_notification n "
        "JOIN integrations_customer c ON c.id = n.customer_id WHERE n.sent_at IS NOT NULL"
    ):
        at = cause(r["shopify_id"], EMAIL_PHASE.get(r["template_key"], -1))
        if at is not None:
            run.email_latencies.append(r["sent_at"].timestamp() - at)
    events = {
        r["message_id"]: (r["shopify_id"], r["type"])
        for r in db.rows(
            "SELECT e.message_id, e.type, c.shopify_id FROM webhooks_event e "
            "JOIN integrations_customer c ON c.id = e.customer_id"
        )
    }
    first_arrival: dict[tuple[str, str], float] = {}
    for a in receiver.arrivals:
        if a.answer == "200" and a.verified and a.endpoint in names.values():
            key = (a.endpoint, a.webhook_id)
            first_arrival[key] = min(a.at, first_arrival.get(key, a.at))
    for (_endpoint, message_id), arrived in first_arrival.items():
        if message_id in events:
            customer, event_type = events[message_id]
            at = cause(customer, EVENT_PHASE.get(event_type, -1))
            if at is not None:
                run.delivery_latencies.append(arrived - at)


def sweeper_reenqueued(log_path: Path) -> int:
    """Rows the sweeper handed to the queue: it prints "<label>: n, …" after each busy sweep."""
    total = 0
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return 0
    for line in text.splitlines():
        total += sum(int(n) for n in re.findall(r"\.\w+: (\d+)", line))
    return total


# --- one configuration --------------------------------------------------------------------------


def run_config(
    config: Config,
    *,
    args,
    template: str,
    workdir: Path,
    receiver: Receiver,
    seeded: dict,
    all_stories,
) -> Run:
    run = Run(config)
    database = f"bookbag_pipeline_{config.broker}_{config.workers}"
    admin = f"{args.pg_url}/postgres"
    database_url = f"{args.pg_url}/{database}?conn_max_age=60"
    redis_client = None
    overrides = {}
    if args.queue_lease:
        overrides["OUTBOX_QUEUE_LEASE_SECONDS"] = str(args.queue_lease)
    if config.broker == "redis":
        import redis

        redis_client = redis.Redis.from_url(args.redis_url)
        redis_client.flushdb()
        overrides["REDIS_URL"] = args.redis_url
    hooks = interleave(all_stories, gap=max(40, min(len(all_stories), 500)))
    run.events = len(hooks)
    with receiver.lock:
        receiver.arrivals.clear()
    create_database(admin, database, template=template)
    stack = Stack(
        database_url,
        workdir,
        web_workers=args.web_workers,
        q_workers=config.workers,
        **overrides,
    )
    db = Db(database_url)
    sampler = None
    try:
        stack.start()
        warm = requests_session()
        for _ in range(2 * args.web_workers):  # every gunicorn worker has imported Django
            warm.get(f"{stack.base_url}/readyz", timeout=REQUEST_TIMEOUT)
        warm.close()
        shopify = Shopify(stack.base_url, SHOP, SHOP_SECRET)
        sampler = Sampler(database_url, redis_client, TierMeter(stack, database)).start()
        deadline = time.monotonic() + args.timeout
        result = drive(shopify, hooks, args.concurrency, deadline, run, rate=args.rate)
        run.acked = len(result.accepted)
        run.statuses = result.statuses
        print(
            f"  {config.label}: {run.acked}/{run.events} acknowledged in {run.drive_seconds:.1f}s"
            f" ({run.ack_per_s:.0f}/s), answers {dict(result.statuses)}",
            flush=True,
        )
        run.settled = wait_drained(sampler, run.acked, max(10.0, deadline - time.monotonic()))
        run.drain_seconds = sampler.samples[-1].t if sampler.samples else 0.0
        run.cpu = sampler.stop()
        run.samples = sampler.samples
        sampler = None
        run.reenqueued = sweeper_reenqueued(stack.sweeper.log_path) if stack.sweeper else 0
        end_to_end(db, hooks, receiver, {e["id"]: n for n, e in seeded["endpoints"].items()}, run)
        books = Books(config.label, events_driven=run.events)
        run.books = check_books(
            db,
            books,
            shop_id=seeded["shop_id"],
            all_stories=all_stories,
            drive=result,
            receiver=receiver,
            endpoints=seeded["endpoints"],
            maildir=stack.maildir,
        )
        not_delivered = run.books.details.pop("_not_delivered", [])
        run.books.details.pop("_deliveries", None)
        run.books.deliveries_not_delivered += len(not_delivered)
        if not run.settled:
            run.books.notes.append(f"not drained within {args.timeout:.0f}s")
        for child in stack.children():
            if not child.alive():
                run.books.notes.append(f"{child.name} exited early:\n{child.tail(10)}")
    except Exception:
        print(stack.logs_tail(), file=sys.stderr)
        raise
    finally:
        if sampler is not None:
            sampler.stop()
        stack.stop()
        db.close()
        drop_database(admin, database)
        if redis_client is not None:
            redis_client.flushdb()
            redis_client.close()
        shutil.rmtree(workdir, ignore_errors=True)  # emails and logs: thousands of files
    return run


def requests_session():
    import requests

    session = requests.Session()
    session.trust_env = False  # loopback only: never through a proxy
    return session


# --- report -------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds == seconds else "-"


def sec(seconds: float) -> str:
    return f"{seconds:.1f}" if seconds == seconds else "-"


def table(runs: list[Run]) -> str:
    header = (
        "broker",
        "workers",
        "events",
        "ack/s",
        "ack p50 ms",
        "ack p99 ms",
        "events/s",
        "rows/s",
        "email p50 s",
        "email p99 s",
        "delivery p50 s",
        "delivery p99 s",
        "peak backlog",
        "drained s",
        "lost/dup",
    )
    rows = []
    for r in runs:
        peak = r.peak()
        books = r.books
        problems = f"{books.events_lost}/{books.duplicate_effects}" if books is not None else "-"
        rows.append(
            (
                r.config.broker,
                str(r.config.workers),
                str(r.events),
                f"{r.ack_per_s:.0f}",
                ms(percentile(r.ack_latencies, 50)),
                ms(percentile(r.ack_latencies, 99)),
                f"{r.processed_per_s:.0f}",
                f"{r.work_per_s:.0f}",
                sec(percentile(r.email_latencies, 50)),
                sec(percentile(r.email_latencies, 99)),
                sec(percentile(r.delivery_latencies, 50)),
                sec(percentile(r.delivery_latencies, 99)),
                str(peak.open) if peak else "-",
                f"{r.drain_seconds:.0f}" + ("" if r.settled else "+"),
                problems,
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
    out = [line.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line.format(*row) for row in rows]
    return "\n".join(out)


TIERS = ("client", "web", "workers", "sweeper", "postgres")


def cpu_line(r: Run) -> str:
    total = r.cpu.get("box_total") or float("nan")
    share = ", ".join(f"{t} {r.cpu.get(t, 0.0) / total:.0%}" for t in TIERS)
    busy, steal, other = (r.cpu.get(k, 0.0) / total for k in ("box", "steal", "other"))
    return f"box busy {busy:.0%} (steal {steal:.0%}, other processes {other:.0%}): {share}"


def cpu_per_row(r: Run) -> str:
    """CPU ms our processes spent per finished row: what the other load on a shared machine
    does not change much, and what sizing divides the cores by."""
    if not r.rows_done:
        return "-"
    per = {t: r.cpu.get(t, 0.0) / r.rows_done * 1000 for t in TIERS}
    total = sum(per.values())
    return f"{total:.1f} ms (" + ", ".join(f"{t} {v:.1f}" for t, v in per.items()) + ")"


def report(runs: list[Run]) -> None:
    print()
    print(table(runs))
    print()
    for r in runs:
        print(f"{r.config.label}: backlog (open rows) {r.curve()}")
        peak = r.peak()
        if peak:
            print(
                f"  peak {peak.open} open rows at {peak.t:.0f}s (inbound {peak.inbound}, emails "
                f"{peak.notifications}, deliveries {peak.deliveries}; {peak.queue} queue messages)"
            )
        print(f"  CPU {cpu_line(r)}")
        print(f"  CPU per finished row: {cpu_per_row(r)}")
        print(
            f"  sweeper handed out {r.reenqueued} rows (due retries, deliveries the in-flight cap "
            f"deferred, and rows whose queue lease ran out while they waited)"
        )
        if r.books is not None:
            b = r.books
            print(
                f"  audit: lost {b.events_lost}, duplicate effects {b.duplicate_effects}, missing "
                f"{b.missing_effects}, emails unknown {b.emails_unknown}, deliveries not delivered"
                f" {b.deliveries_not_delivered}; {json.dumps(b.details, default=str)}"
            )
            for note in b.notes[:5]:
                print(f"  note: {note}")
    by_broker: dict[str, dict[int, Run]] = {}
    for r in runs:
        by_broker.setdefault(r.config.broker, {})[r.config.workers] = r
    for broker, per in by_broker.items():
        if len(per) > 1:
            base = per[min(per)]
            steps = ", ".join(
                f"x{w}: {per[w].work_per_s / base.work_per_s:.2f}"
                for w in sorted(per)
                if base.work_per_s
            )
            print(f"scaling of rows/s on {broker} relative to {min(per)} worker(s): {steps}")


def as_json(runs: list[Run], info: dict) -> dict:
    def summary(r: Run) -> dict:
        return {
            "broker": r.config.broker,
            "workers": r.config.workers,
            "events": r.events,
            "acked": r.acked,
            "statuses": dict(r.statuses),
            "ack_per_s": r.ack_per_s,
            "ack_p50_ms": percentile(r.ack_latencies, 50) * 1000,
            "ack_p99_ms": percentile(r.ack_latencies, 99) * 1000,
            "events_per_s": r.processed_per_s,
            "rows_done": r.rows_done,
            "rows_per_s": r.work_per_s,
            "email_p50_s": percentile(r.email_latencies, 50),
            "email_p99_s": percentile(r.email_latencies, 99),
            "emails": len(r.email_latencies),
            "delivery_p50_s": percentile(r.delivery_latencies, 50),
            "delivery_p99_s": percentile(r.delivery_latencies, 99),
            "deliveries": len(r.delivery_latencies),
            "drain_s": r.drain_seconds,
            "settled": r.settled,
            "backlog": [dataclasses.asdict(s) for s in r.samples],
            "sweeper_handed_out": r.reenqueued,
            "cpu_s": r.cpu,
            "books": dataclasses.asdict(r.books) if r.books else None,
        }

    return {"machine": info, "runs": [summary(r) for r in runs]}


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events",
        type=int,
        help="webhooks per configuration (default 20000 for one configuration, 3000 each when "
        "several run: six configurations of 20000 take hours on 2 cores)",
    )
    parser.add_argument(
        "--configs",
        type=parse_configs,
        help=f"comma-separated broker:workers (default {DEFAULT_CONFIGS}; --quick {QUICK_CONFIGS})",
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: 300 events, 2 configs")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (default 4)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="webhooks per second, open loop (default 0: as fast as the client threads go)",
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds per configuration, drive and drain (default 600 + 0.2 per event)",
    )
    parser.add_argument(
        "--queue-lease",
        type=int,
        help="OUTBOX_QUEUE_LEASE_SECONDS for the children (default: the settings' 300)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--json", type=Path, help="also write the results (and curves) here")
    args = parser.parse_args(argv)
    if args.configs is None:
        args.configs = parse_configs(QUICK_CONFIGS if args.quick else DEFAULT_CONFIGS)
    if args.events is None:
        args.events = 300 if args.quick else 20_000 if len(args.configs) == 1 else 3_000
    if args.timeout is None:
        args.timeout = 600.0 + 0.2 * args.events
    if args.events < EVENTS_PER_STORY or min(args.concurrency, args.web_workers) < 1:
        parser.error("--events must be at least 6; --concurrency and --web-workers positive")
    if args.rate < 0:
        parser.error("--rate must not be negative")
    return args


def seed_template(args, template: str, workdir: Path, receiver: Receiver, all_stories) -> dict:
    """Migrate and seed the database every configuration starts from (a copy of it)."""
    admin = f"{args.pg_url}/postgres"
    create_database(admin, template)
    stack = Stack(f"{args.pg_url}/{template}", workdir)
    stack.manage("migrate", "--noinput", "-v", "0", timeout=600)
    endpoints = []
    for e in ENDPOINTS:
        endpoints.append({**e, "url": receiver.add(e["name"], Behaviour(HEALTHY))})
    seeded = stack.seed(
        {
            "shop": SHOP,
            "secret": SHOP_SECRET,
            "customers": [s.customer_spec() for s in all_stories],
            "endpoints": endpoints,
        }
    )
    for e in endpoints:
        seeded["endpoints"][e["name"]]["event_types"] = e.get("event_types", [])
        receiver.set_secret(e["name"], seeded["endpoints"][e["name"]]["secret"])
    # A fresh copy must not start with the seeding's own side effects in its outboxes.
    db = Db(f"{args.pg_url}/{template}")
    try:
        leftovers = {
            name: db.value(f"SELECT count(*) FROM {t}") for name, t in OUTBOX_TABLES.items()
        }
        db.execute("DELETE FROM django_q_ormq")
        db.execute("VACUUM ANALYZE")
    finally:
        db.close()
    if any(leftovers.values()):
        print(f"  note: seeding left outbox rows {leftovers}", flush=True)
    return seeded


def server_versions(args) -> dict[str, str]:
    import psycopg

    found = {}
    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        found["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    if any(c.broker == "redis" for c in args.configs):
        import redis

        client = redis.Redis.from_url(args.redis_url)
        found["redis"] = client.info("server")["redis_version"]
        client.close()
    return found


def main(argv=None) -> int:
    args = parse_args(argv)
    n_stories = -(-args.events // EVENTS_PER_STORY)
    all_stories = stories(n_stories)
    info = {**machine(), **server_versions(args)}
    info["uname"] = " ".join(__import__("platform").uname())
    print(
        f"{info['date']}: {info['nproc']} cores ({info['cpu']}), PostgreSQL {info['postgresql']}"
        + (f", Redis {info['redis']}" if "redis" in info else "")
        + f"; {n_stories * EVENTS_PER_STORY} webhooks ({n_stories} orders) per configuration, "
        f"client C={args.concurrency}"
        + (f" at {args.rate:g}/s" if args.rate else " as fast as answered")
        + f", gunicorn {args.web_workers} sync workers; configurations "
        + ", ".join(c.label for c in args.configs),
        flush=True,
    )
    template = "bookbag_pipeline_template"
    admin = f"{args.pg_url}/postgres"
    runs: list[Run] = []
    receiver = Receiver().start()
    busy_before = box_cpu()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bookbag-pipeline-") as tmp:
        base = Path(tmp)
        try:
            t = time.monotonic()
            seeded = seed_template(args, template, base / "template", receiver, all_stories)
            print(f"  template migrated and seeded in {time.monotonic() - t:.0f}s", flush=True)
            for config in args.configs:
                t = time.monotonic()
                runs.append(
                    run_config(
                        config,
                        args=args,
                        template=template,
                        workdir=base / f"{config.broker}-{config.workers}",
                        receiver=receiver,
                        seeded=seeded,
                        all_stories=all_stories,
                    )
                )
                print(f"  {config.label} done in {time.monotonic() - t:.0f}s", flush=True)
        finally:
            receiver.stop()
            drop_database(admin, template)
            if any(c.broker == "redis" for c in args.configs):
                import redis

                redis.Redis.from_url(args.redis_url).flushdb()
    report(runs)
    box = {k: box_cpu()[k] - busy_before[k] for k in busy_before}
    print(
        f"whole run {time.monotonic() - started:.0f}s; machine busy "
        f"{box['box'] / (box['box_total'] or 1):.0%} of its CPU on average"
    )
    if args.json:
        args.json.write_text(json.dumps(as_json(runs, info), indent=1, default=str))
    failed = [r for r in runs if not r.settled or (r.books and r.books.problems())]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
