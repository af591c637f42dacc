"""Outbound benchmark (issue 5): deliveries per second end to end, next to the floor.

Run from the repository root:

    .venv/bin/python benchmarks/outbound.py            # full run: 1, 2 and 4 workers (minutes)
    .venv/bin/python benchmarks/outbound.py --quick    # smoke test (well under a minute)
    .venv/bin/python benchmarks/outbound.py --endpoints 1 --workers 4   # one busy endpoint

It creates a scratch PostgreSQL database, migrates it, and seeds a shop, tickets and E endpoints
(default 4: a CRM, an ERP, a Slack relay, a warehouse) through the app's own services, each
subscribed to `ticket.resolved` and pointing at one receiver on 127.0.0.1: an HTTP/1.1 keep-alive
server that verifies every signature with the `standardwebhooks` package on arrival and answers
200. Then, for each N in --workers, it starts `manage.py qcluster` with Q_WORKERS=N and
`manage.py sweep --loop --interval 1` (the production topology, benchmarks/harness.py `Stack`),
and a publisher process (Django set up once) creates the deliveries the way a resolved ticket
does: the webhooks app's `on_ticket_resolved` receiver, one Event and one Delivery per endpoint
with their queue messages in the same transaction.

- burst: all of them in one transaction, so every delivery becomes visible at once to a warm,
  idle cluster. Deliveries/s = deliveries / (the last `succeeded_at` - the commit). Its latency
  (commit -> arrival) is mostly the wait behind the burst.
- rate: a fixed rate (open loop), each event in its own transaction, as tickets are resolved one
  by one; latency = arrival at the receiver - `Delivery.created_at`.
- floor: N processes, each a bare `requests.Session` keep-alive loop POSTing the same bytes and
  headers to the same receiver (no database, no queue, no signing per request).

Every run must end with each delivery `done` after one attempt and one verified arrival; anything
else is reported (and the exit status is 1). Each phase is bounded in time and count; every
process is stopped by its PID and the scratch database dropped at the end, error or not. The
machine may be shared, so each phase also reports the CPU its own processes used per delivery
(driver, publisher, qcluster, sweeper, PostgreSQL backends) and the share of the machine's CPU
used by everything else ("other load"): above 10%, its figures are noisy.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.server
import json
import os
import platform
import selectors
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/outbound.py` from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    Db,
    Stack,
    child_env,
    create_database,
    drop_database,
    run_python,
    wait_for,
)
from benchmarks.inbound import box_cpu, proc_stat  # noqa: E402
from webhooks import signing  # noqa: E402  (pure: no Django setup)

EVENT_TYPE = "ticket.resolved"
ENDPOINT_NAMES = ("crm", "erp", "slack", "warehouse", "bi", "audit", "mail", "data")
FLOOR = "floor"  # the receiver path the floor clients post to
PHASE_DEADLINE = 300.0  # seconds: no phase waits longer than this for its deliveries
CHILD_TIMEOUT = 600.0  # seconds: a seeding or floor child is killed after this
NOISE = 0.10  # share of the machine's CPU used elsewhere above which a phase is flagged
FLOOR_CLIENT = "from benchmarks.outbound import _floor_main; _floor_main()"
TIERS = ("driver", "publisher", "qcluster", "sweeper", "postgres")  # where the CPU goes
TABLES = ("webhooks_attempt", "webhooks_delivery", "webhooks_event", "django_q_ormq")


def now() -> float:
    return time.time()


# --- the merchant's endpoints ---------------------------------------------------------------------


@dataclass
class Arrival:
    endpoint: str
    webhook_id: str
    at: float  # time.time() when the request's body had arrived
    verified: bool


class Receiver:
    """The merchant's endpoints: one HTTP/1.1 server on 127.0.0.1 with a path per endpoint.

    Keep-alive, unlike harness.Receiver (HTTP/1.0, one connection per request): most receivers
    keep connections open, Bookbag's transport reuses them, and the floor is a keep-alive loop.
    Every request is verified with `standardwebhooks` on arrival; 200 if it verifies, else 401.
    """

    def __init__(self) -> None:
        from standardwebhooks import Webhook

        self._webhook = Webhook
        self.verifiers: dict[str, object] = {}
        self.arrivals: list[Arrival] = []
        self.connections = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The status line and headers go out in one write and the body in another: with
            # Nagle's algorithm on, the body waits for the client's delayed ACK, 40 ms a request.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver.connections += 1

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                receiver._handle(self)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/ep/{name}"

    def set_secret(self, name: str, secret: str) -> None:
        self.verifiers[name] = self._webhook(secret)

    def _handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        at = now()
        name = request.path.rsplit("/", 1)[-1]
        headers = {k.lower(): v for k, v in request.headers.items()}
        verifier = self.verifiers.get(name)
        verified = False
        if verifier is not None:
            try:
                verifier.verify(body, headers)
                verified = True
            except Exception:  # any verification failure is a 401
                verified = False
        with self.lock:
            self.arrivals.append(Arrival(name, headers.get("webhook-id", ""), at, verified))
        answer = b"ok" if verified else b"bad signature"
        request.send_response(200 if verified else 401)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer)

    def since(self, index: int) -> list[Arrival]:
        with self.lock:
            return self.arrivals[index:]

    def mark(self) -> tuple[int, int]:
        """(arrivals, connections) so far: a phase counts what came after."""
        with self.lock:
            return len(self.arrivals), self.connections

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# --- children with Django set up: seeding and publishing ------------------------------------------


def _setup_main() -> None:
    """Runs in a child (DJANGO_SETTINGS_MODULE set): a spec on stdin, one JSON line on stdout."""
    import django

    django.setup()
    print(json.dumps(_setup(json.loads(sys.stdin.read()))))


def _publisher_main() -> None:
    """A publisher that stays up for the whole run (Django is set up once): one spec per line
    on stdin, one JSON line back per spec; it ends at the end of its input."""
    import django

    django.setup()
    for line in sys.stdin:
        print(json.dumps(_publish(json.loads(line))), flush=True)


def _setup(spec: dict) -> dict:
    """A shop, customers with a resolved ticket each, then the endpoints (so the tickets' own
    events of the setup go nowhere), all through the app's services."""
    from integrations.models import Customer, Shop
    from tickets import services as tickets
    from webhooks import services as webhooks

    shop = Shop.objects.create(
        domain="outbound-bench.myshopify.com", name="Outbound benchmark", webhook_secret="unused"
    )
    for i in range(spec["tickets"]):
        customer = Customer.objects.create(
            shop=shop,
            shopify_id=9_007_199_254_740_993 + i,  # above 2**53, sent as a string
            email=f"customer{i}@example.com",
            first_name="Ada",
            last_name=f"Lovelace {i}",
        )
        ticket = tickets.open_ticket(
            shop=shop, customer=customer, subject="Where is my order?", body="Any news?"
        )
        tickets.resolve(ticket=ticket, automation="benchmark")
    secrets = {}
    for e in spec["endpoints"]:
        endpoint, secret = webhooks.create_endpoint(
            url=e["url"], description=e["name"], event_types=[EVENT_TYPE]
        )
        if spec.get("max_in_flight"):
            endpoint.max_in_flight = spec["max_in_flight"]
            endpoint.save(update_fields=["max_in_flight"])
        secrets[e["name"]] = secret
    return {"secrets": secrets}


def _publish(spec: dict) -> dict:
    """Publish `events` ticket.resolved events as the webhooks app's receiver of the
    `ticket_resolved` signal does (Event + one Delivery per endpoint + their queue messages).

    mode "burst": all in one transaction (they become visible at once, at the commit);
    mode "rate": `rate` events per second, open loop, each in its own transaction.
    """
    from django.db import transaction

    from tickets.models import Ticket
    from webhooks.receivers import on_ticket_resolved

    tickets = list(
        Ticket.objects.select_related("shop", "customer", "order", "assignee").order_by("pk")
    )
    events = spec["events"]

    def publish(i: int) -> None:
        on_ticket_resolved(sender=Ticket, ticket=tickets[i % len(tickets)], automation="benchmark")

    started = now()
    if spec["mode"] == "burst":
        with transaction.atomic():
            for i in range(events):
                publish(i)
        return {"events": events, "started": started, "committed_at": now()}
    t0 = now() + 0.05
    behind = 0.0
    for i in range(events):
        due = t0 + i / spec["rate"]
        wait = due - now()
        if wait > 0:
            time.sleep(wait)
        else:
            behind = max(behind, -wait)
        publish(i)
    return {"events": events, "started": t0, "finished": now(), "behind_max": behind}


def _floor_main() -> None:
    """A floor client (no Django): `count` POSTs of the same bytes on one keep-alive Session."""
    import requests

    spec = json.loads(sys.argv[1])
    body = base64.b64decode(spec["body"])
    latencies, errors = [], 0
    with requests.Session() as session:
        session.trust_env = False  # loopback only: never through a proxy
        session.post(spec["url"], data=body, headers=spec["headers"], timeout=10)  # connect
        time.sleep(max(0.0, spec["start_at"] - now()))
        first = now()
        for _ in range(spec["count"]):
            started = time.perf_counter()
            try:
                status = session.post(
                    spec["url"], data=body, headers=spec["headers"], timeout=10
                ).status_code
            except requests.RequestException:
                status = 0
            latencies.append(time.perf_counter() - started)
            errors += status != 200
            if now() > spec["deadline"]:
                break
        last = now()
    print(json.dumps({"first": first, "last": last, "latencies": latencies, "errors": errors}))


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Phase:
    sender: str  # "bookbag" or "floor"
    mode: str  # "burst", "rate 100/s", "keep-alive loop"
    workers: int
    planned: int = 0
    done: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds
    attempts: int = 0  # HTTP attempts made (Attempt rows; requests for the floor)
    problems: list[str] = field(default_factory=list)
    connections: int = 0  # TCP connections the receiver accepted during the phase
    cpu: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def per_s(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000

    @property
    def cpu_ms(self) -> float:
        """CPU of the benchmark's own processes per delivery: less sensitive to other load."""
        return self.cpu.get("ours", 0.0) / self.done * 1000 if self.done else float("nan")

    @property
    def other_load(self) -> float:
        total = self.cpu.get("box_total", 0.0)
        return self.cpu.get("other", 0.0) / total if total else 0.0


class LoadMeter:
    """CPU seconds of a phase: the benchmark's own processes (this driver with the receiver and
    its children, qcluster with its workers, the sweeper, the scratch database's backends) and
    the rest of the machine ("other"), which on a shared machine makes the figures noisy.

    A thread samples every half second, so a backend that exits meanwhile loses at most that.
    """

    INTERVAL = 0.5

    def __init__(
        self, admin_url: str, database: str, stack: Stack | None, publisher: int | None = None
    ):
        self.admin_url = admin_url
        self.database = database
        self.groups = {c.name: c.pid for c in stack.children()} if stack else {}
        self.publisher = publisher

    def _ours(self, conn: psycopg.Connection) -> dict[int, tuple[str, float]]:
        from benchmarks.harness import _group_members

        tiers = {pid: name for name, group in self.groups.items() for pid in _group_members(group)}
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
        ).fetchall()
        tiers.update((pid, "postgres") for (pid,) in rows)
        if self.publisher:
            tiers[self.publisher] = "publisher"
        found = {}
        for pid, tier in tiers.items():
            stat = proc_stat(pid)
            if stat:
                found[pid] = (tier, stat[1])
        return found

    @staticmethod
    def _self() -> float:
        t = os.times()  # this process (the receiver's threads) and its waited-for children
        return t.user + t.system + t.children_user + t.children_system

    def __enter__(self) -> LoadMeter:
        self.conn = psycopg.connect(self.admin_url, autocommit=True)
        self.before = self._ours(self.conn)
        self.latest = dict(self.before)
        self.self0, self.box0 = self._self(), box_cpu()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        self.result: dict[str, float] = {}
        return self

    def _sample(self) -> None:
        while not self.stopping.wait(self.INTERVAL):
            with contextlib.suppress(psycopg.Error):
                self.latest.update(self._ours(self.conn))

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        with contextlib.suppress(psycopg.Error):
            self.latest.update(self._ours(self.conn))
        self.conn.close()
        box = box_cpu()
        used = {k: box[k] - self.box0[k] for k in box}
        # "driver": this process (the receiver) and the floor clients it waited for
        used["driver"] = self._self() - self.self0
        for tier in TIERS[1:]:
            used[tier] = 0.0
        for pid, (tier, seconds) in self.latest.items():  # a process new meanwhile counts from 0
            used[tier] += seconds - self.before.get(pid, (tier, 0.0))[1]
        used["ours"] = sum(used[t] for t in TIERS)
        used["other"] = max(0.0, used["box"] - used["ours"])
        self.result.update(used)


def wait_delivered(db: Db, first_id: int, expected: int, timeout: float) -> bool:
    """Until `expected` deliveries after `first_id` are done (polled twice a second)."""

    def done() -> bool:
        return (
            db.value(
                "SELECT count(*) FROM webhooks_delivery WHERE id > %s AND status = 'done'",
                (first_id,),
            )
            >= expected
        )

    return wait_for(done, timeout, interval=0.5)


def collect(
    db: Db,
    receiver: Receiver,
    phase: Phase,
    *,
    first_id: int,
    arrivals_from: int,
    origin: float | None = None,
) -> Phase:
    """Fill `phase` from the database and the receiver's log of the deliveries after first_id.

    Latency = first verified arrival - `origin` (the burst's commit) or, without one, each
    delivery's `created_at`. Elapsed = the last `succeeded_at` - origin or the first created_at.
    """
    rows = db.rows(
        "SELECT d.status, d.attempts, extract(epoch FROM d.created_at)::float8 AS created, "
        "extract(epoch FROM d.succeeded_at)::float8 AS succeeded, e.message_id, "
        "ep.description AS endpoint, "
        "(SELECT count(*) FROM webhooks_attempt a WHERE a.delivery_id = d.id) AS logged "
        "FROM webhooks_delivery d JOIN webhooks_event e ON e.id = d.event_id "
        "JOIN webhooks_endpoint ep ON ep.id = d.endpoint_id WHERE d.id > %s",
        (first_id,),
    )
    first_arrival: dict[tuple[str, str], float] = {}
    copies = unverified = 0
    for a in receiver.since(arrivals_from):
        if not a.verified:
            unverified += 1
            continue
        key = (a.endpoint, a.webhook_id)
        if key in first_arrival:
            copies += 1
        else:
            first_arrival[key] = a.at
    done = [r for r in rows if r["status"] == "done"]
    phase.done = len(done)
    phase.attempts = sum(r["logged"] for r in rows)
    start = origin if origin is not None else min((r["created"] for r in rows), default=0.0)
    end = max((r["succeeded"] for r in done), default=start)
    phase.elapsed = max(end - start, 1e-9)
    missing = 0
    for r in done:
        at = first_arrival.get((r["endpoint"], r["message_id"]))
        if at is None:
            missing += 1
            continue
        phase.latencies.append(at - (origin if origin is not None else r["created"]))
    if len(rows) != phase.planned:
        phase.problems.append(f"{len(rows)} deliveries created, {phase.planned} planned")
    if phase.done != len(rows):
        statuses = {}
        for r in rows:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        phase.problems.append(f"not all done: {statuses}")
    if phase.attempts != len(rows):
        phase.problems.append(f"{phase.attempts} attempts for {len(rows)} deliveries")
    if missing:
        phase.problems.append(f"{missing} done without a verified arrival")
    if copies:
        phase.problems.append(f"{copies} arrivals were copies (same webhook-id)")
    if unverified:
        phase.problems.append(f"{unverified} arrivals failed verification")
    return phase


class Publisher:
    """The driver's side of _publisher_main: a child process of its own, stopped by its PID."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from benchmarks.outbound import _publisher_main; _publisher_main()",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __call__(self, spec: dict, timeout: float = CHILD_TIMEOUT) -> dict:
        self.proc.stdin.write(json.dumps(spec) + "\n")
        self.proc.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                raise RuntimeError(f"the publisher did not answer within {timeout:g}s")
        line = self.proc.stdout.readline()
        if not line:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the publisher exited:\n{tail}")
        return json.loads(line)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


class Bench:
    """One scratch database, one receiver, the endpoints; phases per number of workers."""

    def __init__(self, args, receiver: Receiver, workdir: Path):
        self.args = args
        self.receiver = receiver
        self.workdir = workdir
        self.admin_url = f"{args.pg_url}/postgres"
        self.url = f"{args.pg_url}/{args.database}"
        self.env = child_env(self.url, workdir)
        self.db = Db(self.url)
        self.publisher: Publisher | None = None
        self.names = [
            ENDPOINT_NAMES[i % len(ENDPOINT_NAMES)] + str(i) for i in range(args.endpoints)
        ]

    def child(self, spec: dict, timeout: float = CHILD_TIMEOUT) -> dict:
        out = run_python(
            ["-c", "from benchmarks.outbound import _setup_main; _setup_main()"],
            self.env,
            stdin=json.dumps(spec),
            timeout=timeout,
        )
        return json.loads(out.strip().splitlines()[-1])

    def setup(self) -> None:
        for d in ("var", "mail"):
            (self.workdir / d).mkdir(parents=True, exist_ok=True)
        run_python(["manage.py", "migrate", "--noinput", "-v", "0"], self.env)
        spec = {
            "tickets": self.args.tickets,
            "max_in_flight": self.args.max_in_flight,
            "endpoints": [{"name": n, "url": self.receiver.url(n)} for n in self.names],
        }
        self.secrets = self.child(spec)["secrets"]
        for name, secret in self.secrets.items():
            self.receiver.set_secret(name, secret)
        self.receiver.set_secret(FLOOR, self.secrets[self.names[0]])

    def last_delivery_id(self) -> int:
        return self.db.value("SELECT coalesce(max(id), 0) FROM webhooks_delivery")

    def reset(self) -> None:
        """Between clusters (none running): empty the delivery tables and the queue."""
        self.db.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        self.db.execute("VACUUM ANALYZE webhooks_delivery")

    def publish(self, mode: str, events: int, rate: float = 0.0) -> dict:
        if self.publisher is None:
            self.publisher = Publisher(self.env, self.workdir / "publisher.log")
        return self.publisher({"mode": mode, "events": events, "rate": rate})

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
        self.db.close()

    def phase(self, stack: Stack, phase: Phase, mode: str, events: int, rate: float = 0.0):
        first_id = self.last_delivery_id()
        arrivals_from, connections = self.receiver.mark()
        meter = LoadMeter(self.admin_url, self.args.database, stack, publisher=self.publisher.pid)
        with meter:
            published = self.publish(mode, events, rate)
            if not wait_delivered(self.db, first_id, phase.planned, PHASE_DEADLINE):
                phase.problems.append(f"deadline: not all delivered within {PHASE_DEADLINE:g}s")
        phase.cpu = meter.result
        phase.connections = self.receiver.mark()[1] - connections
        if mode == "rate" and published.get("behind_max", 0) > 0.25:
            phase.note = f"publisher fell {published['behind_max']:.2f}s behind"
        origin = published["committed_at"] if mode == "burst" else None
        return collect(
            self.db,
            self.receiver,
            phase,
            first_id=first_id,
            arrivals_from=arrivals_from,
            origin=origin,
        )

    def bookbag(self, workers: int) -> list[Phase]:
        """Warm-up, burst, fixed rate with one cluster of `workers` worker processes."""
        args, per_event = self.args, len(self.names)
        self.reset()
        stack = Stack(self.url, self.workdir / f"workers-{workers}", q_workers=workers)
        phases = []
        try:
            stack.start_workers()
            stack.start_sweeper()
            # Warm-up: the workers have started, imported, connected and opened keep-alive
            # connections; the setup's queued emails are sent. Not measured.
            first_id = self.last_delivery_id()
            warm = max(1, args.warmup // per_event)
            self.publish("burst", warm)
            if not wait_delivered(self.db, first_id, warm * per_event, 60) or not wait_for(
                lambda: self.db.value("SELECT count(*) FROM django_q_ormq") == 0, 60
            ):
                raise RuntimeError(f"the cluster did not warm up:\n{stack.logs_tail()}")
            events = max(1, args.deliveries // per_event)
            burst = Phase("bookbag", "burst", workers, planned=events * per_event)
            phases.append(self.phase(stack, burst, "burst", events))
            report(burst)
            events = max(1, round(args.rate * args.duration / per_event))
            rate = Phase("bookbag", f"rate {args.rate:g}/s", workers, planned=events * per_event)
            phases.append(self.phase(stack, rate, "rate", events, args.rate / per_event))
            report(rate)
            for child in stack.children():
                if not child.alive():
                    raise RuntimeError(f"{child.name} exited:\n{child.tail()}")
        finally:
            stack.stop()
        return phases

    def floor(self, clients: int, body: bytes) -> Phase:
        """`clients` processes, each a bare requests.Session keep-alive loop to the receiver."""
        total = self.args.floor or self.args.deliveries
        phase = Phase("floor", "keep-alive loop", clients, planned=total)
        timestamp = int(now())
        msg_id = "msg_floor"
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Bookbag-Webhooks/1.0",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.signature_header(
                [self.secrets[self.names[0]]], msg_id, timestamp, body
            ),
        }
        start_at = now() + 1.0  # every client connected and waiting
        spec = {
            "url": self.receiver.url(FLOOR),
            "body": base64.b64encode(body).decode(),
            "headers": headers,
            "start_at": start_at,
            "deadline": start_at + PHASE_DEADLINE,
        }
        arrivals_from, connections = self.receiver.mark()
        procs = []
        with LoadMeter(self.admin_url, self.args.database, None) as meter:
            try:
                for i in range(clients):
                    share = total // clients + (1 if i < total % clients else 0)
                    client = {**spec, "count": share}
                    procs.append(
                        subprocess.Popen(
                            [sys.executable, "-c", FLOOR_CLIENT, json.dumps(client)],
                            cwd=ROOT,
                            env=self.env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            text=True,
                        )
                    )
                outputs = []
                for proc in procs:
                    out, err = proc.communicate(timeout=CHILD_TIMEOUT)
                    if proc.returncode != 0:
                        raise RuntimeError(f"floor client failed:\n{err}")
                    outputs.append(json.loads(out.strip().splitlines()[-1]))
            finally:
                for proc in procs:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait(timeout=10)
        phase.cpu = meter.result
        phase.connections = self.receiver.mark()[1] - connections
        for o in outputs:
            phase.latencies += o["latencies"]
            if o["errors"]:
                phase.problems.append(f"{o['errors']} answers other than 200")
        phase.done = phase.attempts = len(phase.latencies)
        phase.elapsed = max(o["last"] for o in outputs) - min(o["first"] for o in outputs)
        verified = sum(1 for a in self.receiver.since(arrivals_from) if a.verified)
        if verified != phase.done + clients:  # plus one connecting request per client
            phase.problems.append(f"{verified} verified arrivals for {phase.done} requests")
        report(phase)
        return phase

    def payload(self) -> bytes:
        return bytes(self.db.value("SELECT payload FROM webhooks_event ORDER BY id DESC LIMIT 1"))


# --- report ---------------------------------------------------------------------------------------


def report(p: Phase) -> None:
    line = (
        f"  {p.sender:7} N={p.workers} {p.mode:16} {p.done}/{p.planned} in {p.elapsed:.1f}s "
        f"= {p.per_s:.0f}/s, p50 {p.percentile(50):.1f} ms, p99 {p.percentile(99):.1f} ms, "
        f"{p.connections} connections, CPU {p.cpu_ms:.1f} ms each, other load {p.other_load:.0%}"
    )
    if p.note:
        line += f" ({p.note})"
    print(line, flush=True)
    for problem in p.problems:
        print(f"    PROBLEM: {problem}", flush=True)


def table(phases: list[Phase]) -> str:
    header = (
        "sender",
        "workers",
        "mode",
        "deliveries",
        "per s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "attempts",
        "connections",
        "CPU ms each",
        "other load",
    )
    rows = [
        (
            p.sender,
            str(p.workers),
            p.mode,
            str(p.done),
            f"{p.per_s:.0f}",
            f"{p.percentile(50):.1f}",
            f"{p.percentile(99):.1f}",
            f"{p.percentile(100):.1f}",
            str(p.attempts),
            str(p.connections),
            f"{p.cpu_ms:.1f}",
            f"{p.other_load:.0%}",
        )
        for p in phases
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
    out = [line.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line.format(*r) for r in rows])


def machine(args) -> dict:
    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "uname": " ".join(platform.uname()),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": postgres,
    }


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", help="comma-separated Q_WORKERS values (default 1,2,4)")
    parser.add_argument("--deliveries", type=int, help="burst size in deliveries (default 2000)")
    parser.add_argument("--rate", type=float, help="fixed rate, deliveries/s (default 40)")
    parser.add_argument("--duration", type=float, help="fixed-rate run, seconds (default 20)")
    parser.add_argument("--floor", type=int, help="floor requests per N (default: --deliveries)")
    parser.add_argument("--warmup", type=int, help="unmeasured deliveries per N (default 40)")
    parser.add_argument("--endpoints", type=int, default=4, help="endpoints (default 4)")
    parser.add_argument(
        "--max-in-flight", type=int, default=0, help="per endpoint (default: the app's, 2)"
    )
    parser.add_argument("--tickets", type=int, default=20, help="tickets the events are about")
    parser.add_argument("--quick", action="store_true", help="smoke test: N=1,2, small runs")
    parser.add_argument("--database", default="bookbag_bench_outbound", help="scratch (dropped)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    defaults = {
        "workers": "1,2,4",
        "deliveries": 2000,
        "rate": 40.0,
        "duration": 20.0,
        "warmup": 40,
    }
    if args.quick:
        defaults = {"workers": "1,2", "deliveries": 120, "rate": 40.0, "duration": 2.0, "warmup": 8}
    for name, value in defaults.items():  # explicit flags win over --quick
        if getattr(args, name) is None:
            setattr(args, name, value)
    try:
        args.workers = [int(n) for n in str(args.workers).split(",") if n.strip()]
    except ValueError:
        parser.error("--workers takes numbers, such as 1,2,4")
    if not args.workers or min(args.workers) < 1 or max(args.workers) > 16:
        parser.error("--workers: between 1 and 16 each")
    if min(args.deliveries, args.endpoints, args.tickets) < 1 or args.rate <= 0:
        parser.error("--deliveries, --endpoints, --tickets and --rate must be positive")
    if args.duration <= 0 or args.warmup < 1 or args.endpoints > 64:
        parser.error("--duration and --warmup must be positive, --endpoints at most 64")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    info = machine(args)
    print(
        f"{info['date']}: {info['nproc']} cores, Python {info['python']}, PostgreSQL "
        f"{info['postgresql']}; {args.endpoints} endpoints, burst {args.deliveries} deliveries, "
        f"rate {args.rate:g}/s for {args.duration:g}s, workers {args.workers}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="bookbag-outbound-"))
    phases: list[Phase] = []
    try:
        create_database(f"{args.pg_url}/postgres", args.database)
        with Receiver() as receiver:
            bench = Bench(args, receiver, workdir)
            try:
                bench.setup()
                for n in args.workers:
                    phases += bench.bookbag(n)
                    phases.append(bench.floor(n, bench.payload()))
            finally:
                bench.close()
    finally:
        drop_database(f"{args.pg_url}/postgres", args.database)
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(table(phases))
    burst = {p.workers: p for p in phases if p.mode == "burst"}
    floor = {p.workers: p for p in phases if p.sender == "floor"}
    print()
    for n in args.workers:
        if n in burst and n in floor and floor[n].per_s:
            print(
                f"N={n}: Bookbag burst {burst[n].per_s:.0f} deliveries/s = "
                f"{burst[n].per_s / floor[n].per_s:.0%} of the floor ({floor[n].per_s:.0f} POST/s)"
            )
    print("\nCPU ms per delivery by process (driver: the receiver, and the floor's clients):")
    for p in phases:
        if p.done:
            print(
                f"  {p.sender:7} N={p.workers} {p.mode:16} "
                + ", ".join(f"{t} {p.cpu.get(t, 0.0) / p.done * 1000:.1f}" for t in TIERS)
            )
    problems = [p for p in phases if p.problems]
    noisy = [p for p in phases if p.other_load > NOISE]
    if noisy:
        print(
            f"WARNING: {len(noisy)} phase(s) shared the machine with other busy processes (over "
            f"{NOISE:.0%} of its CPU): figures are noisy; rerun on a quiet machine to quote them"
        )
    print(f"phases with problems: {len(problems)}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "phases": [
                        {
                            "sender": p.sender,
                            "mode": p.mode,
                            "workers": p.workers,
                            "planned": p.planned,
                            "done": p.done,
                            "elapsed_s": p.elapsed,
                            "per_s": p.per_s,
                            "p50_ms": p.percentile(50),
                            "p99_ms": p.percentile(99),
                            "max_ms": p.percentile(100),
                            "attempts": p.attempts,
                            "connections": p.connections,
                            "cpu_s": p.cpu,
                            "other_load": p.other_load,
                            "problems": p.problems,
                            "note": p.note,
                        }
                        for p in phases
                    ],
                },
                indent=2,
            )
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
