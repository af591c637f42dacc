"""Real processes on loopback, for the reliability suite (tests/reliability/) and chaos.py.

Nothing here imports Django at module level: the driver talks to Bookbag the way Shopify and a
merchant's endpoint do (HTTP on 127.0.0.1) and reads the books with plain SQL, so the same code
serves a pytest test database and a scratch database or cluster of benchmarks/chaos.py.

- `Stack`: gunicorn, `manage.py qcluster` and `manage.py sweep --loop --interval 1` as child
  processes, each in its own session so that one `killpg(pid)` takes a process and its children
  (qcluster's workers). Every start has a stop by PID; `stop()` is safe to call twice.
- `ScratchPostgres`: a PostgreSQL cluster of our own (initdb as the postgres user, its own port and
  socket directory) that may be stopped and restarted at will; never the shared one.
- `Receiver`: a merchant's endpoints, a threaded HTTP server on 127.0.0.1 that verifies every
  signature with the `standardwebhooks` package on arrival, records each `webhook-id`, and can be
  told to misbehave (500s, timeouts, connection resets, slow answers, 410).
- `Shopify`: signs and posts webhooks like Shopify (base64 HMAC-SHA256 of the raw body) and retries
  what was not acknowledged with a 200, as Shopify does, within a deadline.
- `Story`: one order's life as six Shopify webhooks, and what Bookbag must do about it.
- `check_books()`: the end-of-run audit that every scenario shares.

Every loop is bounded in time and count; every server binds 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import email
import email.policy
import glob
import http.server
import json
import os
import random
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/chaos.py` from anywhere
    sys.path.insert(0, str(ROOT))

from integrations.shopify.verification import sign  # noqa: E402  (pure: no Django setup)

VENV_BIN = Path(sys.executable).parent
FIXTURES = ROOT / "tests" / "fixtures" / "shopify"
SECRET_KEY = "reliability-secret-key-not-for-production-" + "x" * 24
OUTBOX_TABLES = {
    "inbound": "integrations_inboundwebhook",
    "notification": "notifications_notification",
    "delivery": "webhooks_delivery",
}
SHOPIFY_TIMEOUT = 5.0  # seconds Shopify waits for an answer before counting a failure


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- child processes ----------------------------------------------------------------------------


def _group_members(pgid: int) -> list[int]:
    """PIDs whose process group is `pgid` (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


@dataclasses.dataclass
class Child:
    """One child process, leader of its own process group (start_new_session)."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group: the process and every child it forked (qcluster workers)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        wait_for(lambda: not _group_members(self.pid), timeout=10, interval=0.05)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL to the group after `grace` seconds (qcluster can hang on TERM)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace)
        self.kill()  # stragglers of the group, and the leader if TERM was not enough

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_child(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Child(name, popen, log_path)


def child_env(database_url: str, workdir: Path, **overrides: str) -> dict[str, str]:
    """The environment of every Bookbag child: the given database, files under `workdir`."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for name in ("REDIS_URL", "CACHE_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE", "CI"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="bookbag.settings",
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,  # fixed: every process decrypts the shop's and endpoints' secrets
        BOOKBAG_VAR_DIR=str(workdir / "var"),
        # filemail:////abs/path: django-environ drops one slash (filemail:///tmp/x is "tmp/x").
        EMAIL_URL=f"filemail:///{workdir / 'mail'}",
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        WEBHOOK_ALLOW_HTTP="1",
        LOG_LEVEL="WARNING",
        Q_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


class Stack:
    """gunicorn + qcluster + sweeper against one database, on 127.0.0.1."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        *,
        web_workers: int = 2,
        q_workers: int = 2,
        **env_overrides: str,
    ):
        self.workdir = Path(workdir)
        self.maildir = self.workdir / "mail"
        self.logs = self.workdir / "logs"
        for d in (self.maildir, self.logs, self.workdir / "var"):
            d.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.web_workers = web_workers
        self.env = child_env(database_url, self.workdir, Q_WORKERS=str(q_workers), **env_overrides)
        self.web: Child | None = None
        self.workers: Child | None = None
        self.sweeper: Child | None = None
        self.worker_starts = 0

    # - lifecycle

    def start(self) -> Stack:
        self.start_web()
        self.start_workers()
        self.start_sweeper()
        self.wait_web()
        return self

    def start_web(self) -> None:
        self.web = start_child(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "bookbag.wsgi",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(self.web_workers),
                "--timeout",
                "30",
                "--graceful-timeout",
                "3",
                "--log-level",
                "warning",
                "--chdir",
                str(ROOT),
            ],
            self.env,
            self.logs,
        )

    def start_workers(self) -> None:
        self.worker_starts += 1
        self.workers = start_child(
            "qcluster", [sys.executable, "manage.py", "qcluster"], self.env, self.logs
        )

    def start_sweeper(self) -> None:
        self.sweeper = start_child(
            "sweeper",
            [sys.executable, "manage.py", "sweep", "--loop", "--interval", "1"],
            self.env,
            self.logs,
        )

    def wait_web(self, timeout: float = 30) -> None:
        def up() -> bool:
            if self.web is None or not self.web.alive():
                raise RuntimeError(f"gunicorn exited:\n{self.web.tail() if self.web else ''}")
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        if not wait_for(up, timeout):
            raise RuntimeError(f"gunicorn did not answer /healthz within {timeout}s")

    def kill_workers(self) -> float:
        """SIGKILL qcluster and all its workers at once; returns when (time.time())."""
        assert self.workers is not None
        at = time.time()
        self.workers.kill()
        return at

    def stop(self) -> None:
        for child in (self.sweeper, self.workers, self.web):
            if child is not None:
                child.stop()

    def children(self) -> list[Child]:
        return [c for c in (self.web, self.workers, self.sweeper) if c is not None]

    def logs_tail(self) -> str:
        return "\n".join(f"--- {c.name} ---\n{c.tail()}" for c in self.children())

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # - one-off Django commands in the same environment

    def manage(self, *args: str, stdin: str = "", timeout: float = 300) -> str:
        return run_python(["manage.py", *args], self.env, stdin=stdin, timeout=timeout)

    def seed(self, spec: dict) -> dict:
        """Create the shop, customers with an open ticket each, and endpoints (see _seed)."""
        out = run_python(
            ["-c", "from benchmarks.harness import _seed_main; _seed_main()"],
            self.env,
            stdin=json.dumps(spec),
        )
        return json.loads(out.strip().splitlines()[-1])


def run_python(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _seed_main() -> None:
    """Runs in a child with DJANGO_SETTINGS_MODULE set: spec on stdin, ids as JSON on stdout."""
    import django

    django.setup()
    print(json.dumps(_seed(json.loads(sys.stdin.read()))))


def _seed(spec: dict) -> dict:
    from integrations.models import Customer, Shop
    from tickets import services as tickets
    from webhooks import services as webhooks

    shop = Shop.objects.create(
        domain=spec["shop"], name="Reliability", webhook_secret=spec["secret"]
    )
    ticket_ids = {}
    for c in spec.get("customers", []):
        customer = Customer.objects.create(
            shop=shop, shopify_id=c["id"], email=c["email"], first_name=c["first_name"]
        )
        ticket = tickets.open_ticket(
            shop=shop, customer=customer, subject="Where is my order?", body="Any news?"
        )
        ticket_ids[str(c["id"])] = ticket.pk
    endpoints = {}
    for e in spec.get("endpoints", []):
        endpoint, secret = webhooks.create_endpoint(
            url=e["url"], description=e["name"], event_types=e.get("event_types", [])
        )
        if e.get("max_in_flight"):
            endpoint.max_in_flight = e["max_in_flight"]
            endpoint.save(update_fields=["max_in_flight"])
        endpoints[e["name"]] = {"id": endpoint.pk, "secret": secret}
    return {"shop_id": shop.pk, "tickets": ticket_ids, "endpoints": endpoints}


# --- a PostgreSQL cluster of our own ------------------------------------------------------------


def pg_bindir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ScratchPostgres:
    """initdb + pg_ctl on a port of its own, as the postgres user (initdb refuses root).

    fsync is off (speed); synchronous_commit stays on, so a committed transaction survives an
    immediate (crash) stop of the server: only an OS crash could lose it, and that is not tested.
    """

    def __init__(self, base: Path | None = None, port: int | None = None):
        # A directory of its own under /tmp: the postgres user must be able to reach it, which
        # it cannot inside another user's private temporary directory.
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="bookbag-pg-"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.log = self.base / "postgres.log"
        self.port = port or free_port()
        self.bindir = pg_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")

    def _run(self, *argv: str, timeout: float = 120) -> str:
        cmd = [str(self.bindir / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def init(self) -> ScratchPostgres:
        self.base.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the books, in SQL --------------------------------------------------------------------------


def libpq_url(database_url: str) -> str:
    """Django's DATABASE_URL minus the query string (conn_max_age is not a libpq option)."""
    parts = urlsplit(database_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class Db:
    """An autocommit connection for the driver's own reads and fast-forwards; reconnects once
    when the server went away (the PostgreSQL-restart scenario)."""

    def __init__(self, database_url: str):
        self.url = libpq_url(database_url)
        self.conn: psycopg.Connection | None = None

    def _connect(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(
                self.url, autocommit=True, row_factory=dict_row, connect_timeout=3
            )
        return self.conn

    def _run(self, sql: str, params=(), fetch: bool = True):
        for attempt in (1, 2):
            try:
                cur = self._connect().execute(sql, params)
                return cur.fetchall() if fetch else cur.rowcount
            except psycopg.OperationalError:
                self.close()
                if attempt == 2:
                    raise
                time.sleep(0.5)
        return None

    def rows(self, sql: str, params=()) -> list[dict]:
        return self._run(sql, params)

    def value(self, sql: str, params=()):
        rows = self.rows(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def execute(self, sql: str, params=()) -> int:
        return self._run(sql, params, fetch=False)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None


def outbox_counts(db: Db) -> dict[str, Counter]:
    counts = {}
    for name, table in OUTBOX_TABLES.items():
        rows = db.rows(f"SELECT status, count(*) AS n FROM {table} GROUP BY status")
        counts[name] = Counter({r["status"]: r["n"] for r in rows})
    return counts


def open_work(db: Db) -> int:
    """Outbox rows still to be worked on: in progress, or pending with a next attempt (pending
    rows without one are held deliveries of a disabled endpoint)."""
    total = 0
    for table in OUTBOX_TABLES.values():
        total += db.value(
            f"SELECT count(*) FROM {table} WHERE status = 'in_progress' "
            "OR (status = 'pending' AND next_attempt_at IS NOT NULL)"
        )
    return total


# Fast-forwards: what the real system does after waiting out a lease or a retry delay, without
# the wait. Each one only touches rows that a dead process held or that wait on a clock.


def expire_dead_claims(db: Db) -> int:
    """Call while no qcluster runs: every in-progress row belongs to a killed worker. Ends their
    leases now, as the lease expiry would (inbound 120 s, email 120 s, delivery 60 s); the sweeper
    then retries them, or turns an email into `unknown`."""
    n = 0
    for table in OUTBOX_TABLES.values():
        n += db.execute(
            f"UPDATE {table} SET locked_until = now() - interval '1 second' "
            "WHERE status = 'in_progress'"
        )
    return n


def expire_claims_before(db: Db, cutoff: dt.datetime) -> int:
    """After a database crash: claims taken before it belong to tasks that die on their next
    query (the server dropped their connections), or died already without recording a failure.
    Ends their leases now, as the lease expiry would; claims taken since then are not touched."""
    n = 0
    for table in OUTBOX_TABLES.values():
        n += db.execute(
            f"UPDATE {table} SET locked_until = now() - interval '1 second' "
            "WHERE status = 'in_progress' AND updated_at < %s",
            (cutoff,),
        )
    return n


def release_queue_locks(db: Db) -> int:
    """Call while no qcluster runs: queue messages a killed cluster had taken come back now, as
    they would after Q_RETRY seconds (ORM broker)."""
    return db.execute("UPDATE django_q_ormq SET lock = now() WHERE lock > now()")


def release_queue_leases(db: Db) -> int:
    """Redis broker: a killed cluster loses the messages it had taken. Rows leased to the queue
    become sweepable now, as they would after OUTBOX_QUEUE_LEASE_SECONDS (300 s)."""
    n = 0
    for table in OUTBOX_TABLES.values():
        n += db.execute(
            f"UPDATE {table} SET locked_until = NULL "
            "WHERE status = 'pending' AND locked_until > now()"
        )
    return n


def bring_retries_forward(db: Db, tables: Iterable[str] | None = None) -> int:
    """Retries scheduled for later (backoff: seconds to hours) become due now."""
    n = 0
    for table in tables or OUTBOX_TABLES.values():
        n += db.execute(
            f"UPDATE {table} SET next_attempt_at = now() "
            "WHERE status = 'pending' AND next_attempt_at > now()"
        )
    return n


def settle(
    db: Db,
    timeout: float,
    *,
    fast_forward: bool = True,
    quiet: float = 2.0,
    on_tick: Callable[[], None] | None = None,
) -> bool:
    """Wait until no outbox row has work left (and, with fast_forward, make scheduled retries
    due at once); True when settled within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        if on_tick:
            on_tick()
        if fast_forward:
            bring_retries_forward(db)
        busy = open_work(db) + db.value("SELECT count(*) FROM django_q_ormq")
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return True
        time.sleep(0.25)
    return False


# --- the merchant's endpoints -------------------------------------------------------------------


@dataclasses.dataclass
class Arrival:
    endpoint: str
    webhook_id: str
    event_type: str
    at: float  # time.time() on arrival
    answer: str  # "200", "500", "410", "timeout", "reset", "slow"
    verified: bool


class Behaviour:
    """How an endpoint answers. `answer()` picks one outcome per request."""

    def __init__(
        self,
        weights: dict[str, float] | None = None,
        *,
        slow: float = 10.0,
        hold: float = 8.0,
        seed: int = 0,
        each_first: bool = False,
    ):
        self.weights = weights or {"200": 1.0}
        self.slow = slow  # seconds before a slow 200
        self.hold = hold  # seconds a "timeout" holds the request (beyond the sender's deadline)
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        # each_first: every outcome once (shuffled) before the weighted draws, so that even a
        # short run injects each kind of fault.
        self.first = list(self.weights) if each_first else []
        self.random.shuffle(self.first)

    def answer(self) -> str:
        with self.lock:
            if self.first:
                return self.first.pop()
            outcomes, weights = zip(*self.weights.items(), strict=True)
            return self.random.choices(outcomes, weights)[0]


HEALTHY = {"200": 1.0}
GONE = {"410": 1.0}
FLAKY = {"500": 0.5, "200": 0.25, "timeout": 0.1, "reset": 0.1, "slow": 0.05}


class Receiver:
    """A real HTTP server on 127.0.0.1 with one path per endpoint: /ep/<name>."""

    def __init__(self):
        self.arrivals: list[Arrival] = []
        self.endpoints: dict[str, tuple[Behaviour, list[str]]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                receiver._handle(self)

            def finish(self):
                with contextlib.suppress(OSError):
                    super().finish()

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128

            def handle_error(self, request, client_address):
                pass  # resets and timeouts are on purpose

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add(self, name: str, behaviour: Behaviour | None = None) -> str:
        self.endpoints[name] = (behaviour or Behaviour(), [])
        return f"http://127.0.0.1:{self.port}/ep/{name}"

    def set_secret(self, name: str, secret: str) -> None:
        self.endpoints[name][1].append(secret)

    def _handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        from standardwebhooks import Webhook

        name = request.path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        headers = {k.lower(): v for k, v in request.headers.items()}
        behaviour, secrets = self.endpoints.get(name, (Behaviour(GONE), []))
        verified = False
        for secret in secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
                break
            except Exception:
                continue
        try:
            event_type = json.loads(body).get("type", "")
        except ValueError:
            event_type = ""
        outcome = behaviour.answer()
        with self.lock:
            self.arrivals.append(
                Arrival(
                    name, headers.get("webhook-id", ""), event_type, time.time(), outcome, verified
                )
            )
        if outcome == "reset":
            # SO_LINGER 0: close() sends a RST, the sender sees "connection reset by peer".
            request.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            request.connection.close()
            request.close_connection = True
            return
        if outcome == "timeout":
            self.stopping.wait(behaviour.hold)
            outcome = "200"  # too late: the sender gave up (at-least-once: it will resend)
        elif outcome == "slow":
            self.stopping.wait(behaviour.slow)
            outcome = "200"
        status = int(outcome)
        payload = b"ok" if status < 300 else b"nope"
        with contextlib.suppress(OSError):
            request.send_response(status)
            request.send_header("Content-Type", "text/plain")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)

    def acknowledged(self, name: str) -> set[str]:
        """webhook-ids this endpoint answered with a 2xx in time (verified signatures only)."""
        with self.lock:
            return {
                a.webhook_id
                for a in self.arrivals
                if a.endpoint == name and a.answer in ("200", "slow") and a.verified
            }

    def of(self, name: str) -> list[Arrival]:
        with self.lock:
            return [a for a in self.arrivals if a.endpoint == name]


# --- Shopify ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Webhook:
    topic: str
    body: bytes
    webhook_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    event_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    story: int = -1
    phase: int = -1

    def copy(self, *, new_webhook_id: bool = False, new_event_id: bool = False) -> Webhook:
        clone = dataclasses.replace(self)
        if new_webhook_id:
            clone.webhook_id = str(uuid.uuid4())
        if new_event_id:
            clone.event_id = str(uuid.uuid4())
        return clone


@dataclasses.dataclass
class DriveResult:
    accepted: set[str] = dataclasses.field(default_factory=set)  # webhook ids answered 200 "ok"
    deduped: list[Webhook] = dataclasses.field(default_factory=list)  # answered 200 "duplicate"
    duplicates: int = 0
    statuses: Counter = dataclasses.field(default_factory=Counter)  # every answer, retries too
    unaccepted: list[Webhook] = dataclasses.field(default_factory=list)  # gave up (deadline)
    not_sent: int = 0  # never posted at all: the drive ran out of time first
    posts: int = 0
    elapsed: float = 0.0

    def merge(self, other: DriveResult) -> None:
        self.accepted |= other.accepted
        self.deduped += other.deduped
        self.duplicates += other.duplicates
        self.statuses += other.statuses
        self.unaccepted += other.unaccepted
        self.not_sent += other.not_sent
        self.posts += other.posts


class Shopify:
    """Posts signed webhooks; retries anything but a 200, like Shopify (which retries 8 times
    over 4 hours; here every `retry_every` seconds until `deadline`)."""

    def __init__(self, base_url: str, shop_domain: str, secret: str):
        self.url = f"{base_url}/webhooks/shopify/"
        self.shop = shop_domain
        self.secret = secret
        self.local = threading.local()

    def session(self) -> requests.Session:
        if getattr(self.local, "session", None) is None:
            self.local.session = requests.Session()
            self.local.session.trust_env = False  # loopback only: never through a proxy
        return self.local.session

    def headers(self, hook: Webhook) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": hook.topic,
            "X-Shopify-Hmac-Sha256": sign(self.secret, hook.body),
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-Api-Version": "2025-10",
            "X-Shopify-Webhook-Id": hook.webhook_id,
            "X-Shopify-Event-Id": hook.event_id,
            "X-Shopify-Triggered-At": dt.datetime.now(dt.UTC).isoformat(),
        }

    def post_once(self, hook: Webhook) -> tuple[str, str]:
        try:
            response = self.session().post(
                self.url, data=hook.body, headers=self.headers(hook), timeout=SHOPIFY_TIMEOUT
            )
            return str(response.status_code), response.text
        except requests.RequestException as exc:
            self.local.session = None  # a broken keep-alive connection: start afresh
            return type(exc).__name__, ""

    def deliver(
        self, hook: Webhook, result: DriveResult, deadline: float, retry_every: float = 0.5
    ) -> bool:
        """Post until a 200 or the deadline (time.monotonic()); True when accepted."""
        while True:
            status, text = self.post_once(hook)
            result.posts += 1
            result.statuses[status] += 1
            if status == "200":
                if text == "ok":
                    result.accepted.add(hook.webhook_id)
                else:
                    result.deduped.append(hook)
                    result.duplicates += 1
                return True
            if time.monotonic() + retry_every >= deadline:
                result.unaccepted.append(hook)
                return False
            time.sleep(retry_every)

    def drive(
        self,
        hooks: list[Webhook],
        *,
        rate: float,
        threads: int = 4,
        timeout: float = 600,
        on_progress: Callable[[int], None] | None = None,
        on_send: Callable[[int], None] | None = None,
    ) -> DriveResult:
        """Send `hooks` in order at `rate` per second (open loop) from `threads` threads.
        `on_send(i)` is called as hook i is first posted, `on_progress(i)` once it is answered."""
        result = DriveResult()
        lock = threading.Lock()
        index = iter(range(len(hooks)))
        taken = []
        t0 = time.monotonic()
        deadline = t0 + timeout
        partials = []

        def worker() -> None:
            mine = DriveResult()
            partials.append(mine)
            while True:
                with lock:
                    i = next(index, None) if time.monotonic() <= deadline else None
                    if i is not None:
                        taken.append(i)
                if i is None:
                    return
                due = t0 + i / rate
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
                if on_send:
                    on_send(i)
                self.deliver(hooks[i], mine, deadline)
                if on_progress:
                    on_progress(i)

        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout + 30)
        for part in partials:
            result.merge(part)
        result.not_sent = len(hooks) - len(taken)
        result.elapsed = time.monotonic() - t0
        return result


# --- the workload: one order's life -------------------------------------------------------------


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_bytes())


_BASE = {
    name: _fixture(name)
    for name in (
        "orders__create",
        "fulfillments__create",
        "fulfillment_events__create",
        "refunds__create",
        "orders__cancelled",
    )
}
T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
PHASES = (
    "orders/create",
    "fulfillments/create",
    "fulfillments/update",
    "fulfillment_events/create",
    "refunds/create",
    "orders/cancelled",
)
# What one story must leave behind, whatever the faults (the in-order effects).
EXPECTED_TIMELINE = Counter(
    {
        ("order_fulfilled", None): 1,
        ("shipment_status", "in_transit"): 1,
        ("shipment_status", "delivered"): 1,
        ("refund_created", None): 1,
        ("order_cancelled", None): 1,
    }
)
EXPECTED_EMAILS = Counter(
    {"shipping_confirmation": 1, "shipment_update": 1, "refund_issued": 1, "order_cancelled": 1}
)
EXPECTED_EVENTS = Counter({"order.fulfilled": 1, "refund.created": 1, "order.cancelled": 1})


def _iso(t: dt.datetime) -> str:
    return t.isoformat()


@dataclasses.dataclass
class Story:
    """Order `index` of a run: created, shipped, in transit, delivered, refunded, cancelled.

    The customer has an open ticket not tied to any order, so every step lands on its timeline
    and none resolves it: the expected effects do not depend on the order of processing.
    """

    index: int

    @property
    def customer_id(self) -> int:
        return 7_000_000_000 + self.index

    @property
    def order_id(self) -> int:
        return 5_000_000_000 + self.index

    @property
    def fulfillment_id(self) -> int:
        return 3_000_000_000 + self.index

    @property
    def refund_id(self) -> int:
        return 4_000_000_000 + self.index

    @property
    def email(self) -> str:
        return f"customer{self.index}@example.com"

    @property
    def name(self) -> str:
        return f"#{100000 + self.index}"

    def customer_spec(self) -> dict:
        return {"id": self.customer_id, "email": self.email, "first_name": f"C{self.index}"}

    def _customer(self, at: dt.datetime) -> dict:
        customer = copy.deepcopy(_BASE["orders__create"]["customer"])
        customer.update(
            id=self.customer_id,
            email=self.email,
            first_name=f"C{self.index}",
            updated_at=_iso(at),
            admin_graphql_api_id=f"gid://shopify/Customer/{self.customer_id}",
        )
        customer.pop("default_address", None)
        return customer

    def _order(self, base: str, at: dt.datetime, **changes) -> dict:
        order = copy.deepcopy(_BASE[base])
        order.update(
            id=self.order_id,
            name=self.name,
            email=self.email,
            contact_email=self.email,
            order_number=100000 + self.index,
            created_at=_iso(T0),
            processed_at=_iso(T0),
            updated_at=_iso(at),
            customer=self._customer(T0),
            fulfillments=[],
            refunds=[],
            tags="",
            admin_graphql_api_id=f"gid://shopify/Order/{self.order_id}",
        )
        order.update(changes)
        return order

    def _fulfillment(self, at: dt.datetime, shipment_status: str | None) -> dict:
        f = copy.deepcopy(_BASE["fulfillments__create"])
        number = f"1Z{self.index:08d}"
        f.update(
            id=self.fulfillment_id,
            order_id=self.order_id,
            name=f"{self.name}.1",
            created_at=_iso(T0 + dt.timedelta(hours=1)),
            updated_at=_iso(at),
            shipment_status=shipment_status,
            email=self.email,
            tracking_number=number,
            tracking_numbers=[number],
            tracking_url=f"https://www.ups.com/track?tracknum={number}",
            tracking_urls=[f"https://www.ups.com/track?tracknum={number}"],
        )
        return f

    def payload(self, phase: int) -> dict:
        hour = dt.timedelta(hours=1)
        if phase == 0:
            return self._order("orders__create", T0)
        if phase == 1:
            return self._fulfillment(T0 + hour, None)
        if phase == 2:
            return self._fulfillment(T0 + 2 * hour, "in_transit")
        if phase == 3:
            e = copy.deepcopy(_BASE["fulfillment_events__create"])
            e.update(
                id=6_000_000_000 + self.index,
                fulfillment_id=self.fulfillment_id,
                order_id=self.order_id,
                status="delivered",
                happened_at=_iso(T0 + 3 * hour),
                created_at=_iso(T0 + 3 * hour),
                updated_at=_iso(T0 + 3 * hour),
            )
            return e
        if phase == 4:
            r = copy.deepcopy(_BASE["refunds__create"])
            r.update(
                id=self.refund_id,
                order_id=self.order_id,
                created_at=_iso(T0 + 4 * hour),
                processed_at=_iso(T0 + 4 * hour),
            )
            for tx in r.get("transactions", []):
                tx["order_id"] = self.order_id
            for line in r.get("refund_line_items", []):
                line.pop("line_item", None)
            return r
        if phase == 5:
            return self._order(
                "orders__cancelled",
                T0 + 5 * hour,
                cancel_reason="customer",
                cancelled_at=_iso(T0 + 5 * hour),
                financial_status="refunded",
                fulfillment_status="fulfilled",
            )
        raise ValueError(phase)

    def webhook(self, phase: int) -> Webhook:
        body = json.dumps(self.payload(phase), separators=(",", ":")).encode()
        return Webhook(PHASES[phase], body, story=self.index, phase=phase)

    def webhooks(self) -> list[Webhook]:
        return [self.webhook(p) for p in range(len(PHASES))]


def stories(n: int, start: int = 0) -> list[Story]:
    return [Story(start + i) for i in range(n)]


def interleave(all_stories: list[Story], gap: int) -> list[Webhook]:
    """Every story's webhooks in order, stories overlapping as real orders do: step p of story s
    is sent in slot s + p * gap, so one order's steps are `gap` slots apart."""
    slots: dict[int, list[Webhook]] = defaultdict(list)
    for s, story in enumerate(all_stories):
        for p, hook in enumerate(story.webhooks()):
            slots[s + p * gap].append(hook)
    return [hook for slot in sorted(slots) for hook in slots[slot]]


def wait_processed(
    db: Db, webhook_ids: list[str], timeout: float, *, fast_forward: bool = True
) -> int:
    """Wait until every one of these inbound webhooks is processed (done, dead or ignored);
    returns how many are not, at the deadline. Survives the database being away meanwhile."""
    deadline = time.monotonic() + timeout
    left = len(webhook_ids)
    while time.monotonic() < deadline:
        try:
            if fast_forward:
                bring_retries_forward(db, [OUTBOX_TABLES["inbound"]])
            left = len(webhook_ids) - db.value(
                "SELECT count(*) FROM integrations_inboundwebhook WHERE webhook_id = ANY(%s) "
                "AND status IN ('done', 'dead', 'ignored')",
                (list(webhook_ids),),
            )
        except psycopg.Error:
            time.sleep(0.5)
            continue
        if not left:
            return 0
        time.sleep(0.2)
    return left


def drive_in_steps(
    shopify: Shopify,
    db: Db,
    all_stories: list[Story],
    *,
    rate: float,
    timeout: float,
    threads: int = 4,
    fast_forward: bool = True,
    on_send: Callable[[int], None] | None = None,
) -> DriveResult:
    """Step p of every order, then step p + 1 once all of step p is processed: Shopify's steps of
    one order are minutes to days apart, so kills and outages land between and within steps
    without reordering one order's events (scenario 4 reorders them on purpose).
    `on_send(n)`: webhook number n of the whole drive (phase by phase) is being posted."""
    result = DriveResult()
    t0 = time.monotonic()
    deadline = t0 + timeout
    for phase in range(len(PHASES)):
        hooks = [story.webhook(phase) for story in all_stories]
        offset = phase * len(hooks)
        result.merge(
            shopify.drive(
                hooks,
                rate=rate,
                threads=threads,
                timeout=deadline - time.monotonic(),
                on_send=(lambda i, offset=offset: on_send(offset + i)) if on_send else None,
            )
        )
        accepted = [h.webhook_id for h in hooks if h.webhook_id in result.accepted]
        wait_processed(db, accepted, deadline - time.monotonic(), fast_forward=fast_forward)
    result.elapsed = time.monotonic() - t0
    return result


# --- checking the books -------------------------------------------------------------------------


@dataclasses.dataclass
class Books:
    """The end-of-run audit. The first columns are those chaos.py prints."""

    scenario: str
    events_driven: int = 0  # distinct inbound webhooks Shopify sent (copies not counted)
    faults: int = 0
    events_lost: int = 0  # acknowledged with 200 but not processed (missing, dead, stuck)
    duplicate_effects: int = 0  # a state change, timeline entry, email or event more than once
    missing_effects: int = 0  # an expected effect absent
    emails_unknown: int = 0
    deliveries_not_delivered: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)  # findings worth reading
    # Broken promises the columns do not count: an answer Shopify must never get, a process that
    # died by itself, a healthy endpoint slowed, more `unknown` emails than kills allow, ...
    failures: list[str] = dataclasses.field(default_factory=list)
    details: dict = dataclasses.field(default_factory=dict)

    def fail(self, failure: str) -> None:
        self.failures.append(failure)

    def problems(self) -> list[str]:
        """Everything that makes the scenario fail; empty when every promise held."""
        found = []
        for name in (
            "events_lost",
            "duplicate_effects",
            "missing_effects",
            "deliveries_not_delivered",
        ):
            if getattr(self, name):
                found.append(f"{name}={getattr(self, name)}")
        return found + self.failures


def read_emails(maildir: Path) -> list[dict]:
    """Every message the filemail backend wrote, from every process: Message-ID, To, Subject."""
    found = []
    separator = b"\n" + b"-" * 79 + b"\n"
    for path in sorted(Path(maildir).glob("*.log")):
        for chunk in path.read_bytes().split(separator):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk, policy=email.policy.default)
            found.append(
                {
                    "message_id": str(message.get("Message-ID", "")).strip(),
                    "to": str(message.get("To", "")).strip().lower(),
                    "subject": str(message.get("Subject", "")).strip(),
                }
            )
    return found


def story_effects(db: Db, shop_id: int) -> dict[int, dict]:
    """Per order (by Shopify customer id, one order each): what Bookbag recorded."""
    customers = {
        r["id"]: r["shopify_id"]
        for r in db.rows(
            "SELECT id, shopify_id FROM integrations_customer WHERE shop_id=%s", (shop_id,)
        )
    }
    effects: dict[int, dict] = defaultdict(
        lambda: {
            "timeline": Counter(),
            "emails": Counter(),
            "events": Counter(),
            "order": None,
            "fulfillment": None,
            "refund": None,
        }
    )
    for r in db.rows(
        "SELECT shopify_id, customer_id, financial_status, cancel_reason, fulfillment_status, "
        "cancelled_at IS NOT NULL AS cancelled, name FROM integrations_order WHERE shop_id=%s",
        (shop_id,),
    ):
        sid = customers.get(r.pop("customer_id"))
        effects[sid]["order"] = {k: v for k, v in r.items() if k != "shopify_id"}
        effects[sid]["order_shopify_id"] = r["shopify_id"]
    orders = {
        r["id"]: customers.get(r["customer_id"])
        for r in db.rows(
            "SELECT id, customer_id FROM integrations_order WHERE shop_id=%s", (shop_id,)
        )
    }
    for r in db.rows(
        "SELECT order_id, shipment_status, status, tracking_numbers::text AS tracking, "
        "announced_at IS NOT NULL AS announced FROM integrations_fulfillment WHERE shop_id=%s",
        (shop_id,),
    ):
        effects[orders.get(r.pop("order_id"))]["fulfillment"] = r
    for r in db.rows(
        "SELECT order_id, amount::text AS amount, announced_at IS NOT NULL AS announced "
        "FROM integrations_refund WHERE shop_id=%s",
        (shop_id,),
    ):
        effects[orders.get(r.pop("order_id"))]["refund"] = r
    for r in db.rows(
        "SELECT t.customer_id, e.kind, e.data->>'status' AS status, count(*) AS n "
        "FROM tickets_ticketevent e JOIN tickets_ticket t ON t.id = e.ticket_id "
        "WHERE t.shop_id=%s AND e.automation = 'order_timeline' GROUP BY 1, 2, 3",
        (shop_id,),
    ):
        status = r["status"] if r["kind"] == "shipment_status" else None
        effects[customers.get(r["customer_id"])]["timeline"][(r["kind"], status)] += r["n"]
    for r in db.rows(
        "SELECT customer_id, template_key, count(*) AS n FROM notifications_notification "
        "WHERE shop_id=%s GROUP BY 1, 2",
        (shop_id,),
    ):
        effects[customers.get(r["customer_id"])]["emails"][r["template_key"]] += r["n"]
    for r in db.rows(
        "SELECT customer_id, type, count(*) AS n FROM webhooks_event WHERE shop_id=%s "
        "GROUP BY 1, 2",
        (shop_id,),
    ):
        effects[customers.get(r["customer_id"])]["events"][r["type"]] += r["n"]
    return dict(effects)


def normalized(effect: dict) -> dict:
    """A story's effects with its own ids taken out, so two stories can be compared."""
    out = {k: v for k, v in effect.items() if k != "order_shopify_id"}
    for key in ("order", "fulfillment"):
        if out.get(key):
            out[key] = {k: v for k, v in out[key].items() if k not in ("name", "tracking")}
    return out


def compare_story(effect: dict | None, expected_final: bool = True) -> tuple[int, int, list[str]]:
    """(missing, duplicate, notes) of one story against the in-order outcome."""
    notes = []
    if effect is None:
        return (
            len(EXPECTED_TIMELINE) + len(EXPECTED_EMAILS) + len(EXPECTED_EVENTS) + 3,
            0,
            ["nothing recorded"],
        )
    missing = duplicate = 0
    for name, expected in (
        ("timeline", EXPECTED_TIMELINE),
        ("emails", EXPECTED_EMAILS),
        ("events", EXPECTED_EVENTS),
    ):
        got = effect[name]
        for key in set(expected) | set(got):
            diff = got.get(key, 0) - expected.get(key, 0)
            if diff > 0:
                duplicate += diff
                notes.append(f"{name} {key} x{got.get(key, 0)}")
            elif diff < 0:
                missing -= diff
                notes.append(f"{name} {key} missing")
    if expected_final:
        order, fulfillment, refund = effect["order"], effect["fulfillment"], effect["refund"]
        if not order or (order["financial_status"], order["cancel_reason"], order["cancelled"]) != (
            "refunded",
            "customer",
            True,
        ):
            missing += 1
            notes.append(f"order state {order}")
        if not fulfillment or (fulfillment["shipment_status"], fulfillment["announced"]) != (
            "delivered",
            True,
        ):
            missing += 1
            notes.append(f"fulfillment state {fulfillment}")
        if not refund or not refund["announced"]:
            missing += 1
            notes.append(f"refund state {refund}")
    return missing, duplicate, notes


def check_books(
    db: Db,
    books: Books,
    *,
    shop_id: int,
    all_stories: list[Story],
    drive: DriveResult,
    receiver: Receiver | None,
    endpoints: dict[str, dict],
    maildir: Path,
) -> Books:
    """Fill `books` from the database, the mail directory and the receiver's log."""
    # 1. Inbound: every acknowledged webhook is stored and processed (once: its effects below).
    rows = {
        r["webhook_id"]: r
        for r in db.rows(
            "SELECT webhook_id, topic, event_id, status, attempts "
            "FROM integrations_inboundwebhook WHERE shop_id=%s",
            (shop_id,),
        )
    }
    by_event = {(r["topic"], r["event_id"]): r for r in rows.values() if r["event_id"]}
    lost = [w for w in drive.accepted if w not in rows or rows[w]["status"] not in ("done",)]
    # A copy answered "duplicate" needs its original: the same webhook id or the same event.
    for hook in drive.deduped:
        original = rows.get(hook.webhook_id) or by_event.get((hook.topic, hook.event_id))
        if original is None or original["status"] != "done":
            lost.append(hook.webhook_id)
    books.events_lost += len(lost)
    if lost:
        books.notes.append(
            f"{len(lost)} acknowledged webhooks not processed: "
            + ", ".join(f"{w}={rows[w]['status'] if w in rows else 'missing'}" for w in lost[:5])
        )
    books.details["inbound"] = dict(Counter(r["status"] for r in rows.values()))
    books.details["inbound_attempts_max"] = max((r["attempts"] for r in rows.values()), default=0)

    # 2. Effects per order: state, timeline, emails, outbound events; each once.
    effects = story_effects(db, shop_id)
    for story in all_stories:
        missing, duplicate, notes = compare_story(effects.get(story.customer_id))
        books.missing_effects += missing
        books.duplicate_effects += duplicate
        if notes and len(books.notes) < 20:
            books.notes.append(f"story {story.index}: " + "; ".join(notes))

    # 3. Emails: none sent twice; every sent row written once; unsent rows are unknown, not lost.
    mails = read_emails(maildir)
    by_id = Counter(m["message_id"] for m in mails)
    by_recipient = Counter((m["to"], m["subject"]) for m in mails)
    twice = sum(n - 1 for n in by_id.values() if n > 1) + sum(
        n - 1 for n in by_recipient.values() if n > 1
    )
    notifications = db.rows(
        "SELECT id, status, message_id, lower(to_email) AS to_email, subject "
        "FROM notifications_notification WHERE shop_id=%s",
        (shop_id,),
    )
    statuses = Counter(n["status"] for n in notifications)
    books.details["notifications"] = dict(statuses)
    books.details["emails_written"] = len(mails)
    books.emails_unknown += statuses.get("unknown", 0)
    sent_not_written = [
        n for n in notifications if n["status"] == "done" and by_id.get(n["message_id"], 0) != 1
    ]
    unsettled = [n for n in notifications if n["status"] not in ("done", "unknown")]
    unknown_written = sum(
        1
        for n in notifications
        if n["status"] == "unknown" and by_recipient.get((n["to_email"], n["subject"]), 0)
    )
    books.details["unknown_but_written"] = unknown_written
    books.duplicate_effects += twice
    books.missing_effects += len(sent_not_written) + len(unsettled)
    if twice:
        books.notes.append(f"{twice} emails written twice")
    if sent_not_written or unsettled:
        books.notes.append(
            f"emails: {len(sent_not_written)} done but not written once, "
            f"{len(unsettled)} not settled ({Counter(n['status'] for n in unsettled)})"
        )

    # 4. Outbound: each event reaches each subscribed endpoint (by webhook-id, a 2xx answer).
    if receiver is not None and endpoints:
        names = {e["id"]: name for name, e in endpoints.items()}
        deliveries = db.rows(
            "SELECT d.id, d.status, d.attempts, d.endpoint_id, d.next_attempt_at, "
            "e.message_id, e.type, ep.active, "
            "(SELECT count(*) FROM webhooks_attempt a WHERE a.delivery_id = d.id) AS logged "
            "FROM webhooks_delivery d JOIN webhooks_event e ON e.id = d.event_id "
            "JOIN webhooks_endpoint ep ON ep.id = d.endpoint_id WHERE e.shop_id=%s",
            (shop_id,),
        )
        events = db.rows("SELECT message_id, type FROM webhooks_event WHERE shop_id=%s", (shop_id,))
        per_event = Counter((d["message_id"], d["endpoint_id"]) for d in deliveries)
        missing_rows = sum(
            1
            for e in events
            for ep, name in names.items()
            if per_event[(e["message_id"], ep)] == 0
            and (
                not endpoints[name].get("event_types")
                or e["type"] in endpoints[name]["event_types"]
            )
        )
        acked = {ep: receiver.acknowledged(name) for ep, name in names.items()}
        not_delivered = [
            d
            for d in deliveries
            if d["endpoint_id"] in names
            and not (d["status"] == "done" and d["message_id"] in acked[d["endpoint_id"]])
        ]
        books.details["deliveries"] = dict(Counter(d["status"] for d in deliveries))
        books.details["delivery_rows_missing"] = missing_rows
        books.details["_deliveries"] = deliveries
        books.details["_not_delivered"] = not_delivered
        books.deliveries_not_delivered += missing_rows
        # Scenario code decides which of these are acceptable (dead with a full log, disabled).
        books.details["not_delivered"] = len(not_delivered)
        redelivered = Counter()
        for name in names.values():
            for n in Counter(a.webhook_id for a in receiver.of(name)).values():
                if n > 1:
                    redelivered[name] += n - 1
        books.details["redelivered_arrivals"] = dict(redelivered)
        unverified = [a for a in receiver.arrivals if not a.verified]
        if unverified:
            books.notes.append(f"{len(unverified)} arrivals failed signature verification")
            books.deliveries_not_delivered += len(unverified)
    return books


def format_table(rows: list[Books]) -> str:
    header = (
        "scenario",
        "events driven",
        "faults injected",
        "events lost",
        "duplicate effects",
        "missing effects",
        "emails unknown",
        "deliveries not delivered",
        "verdict",
    )
    cells = [
        (
            b.scenario,
            str(b.events_driven),
            str(b.faults),
            str(b.events_lost),
            str(b.duplicate_effects),
            str(b.missing_effects),
            str(b.emails_unknown),
            str(b.deliveries_not_delivered),
            "FAIL" if b.problems() else "pass",
        )
        for b in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    line = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
    out = [line.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line.format(*c) for c in cells]
    return "\n".join(out)
