"""Fault injection with real processes (issue 8): break things on purpose, then count.

Run from the repository root:

    .venv/bin/python benchmarks/chaos.py            # the long variants (2,000 events, 10 kills)
    .venv/bin/python benchmarks/chaos.py --quick    # the CI sizes (what tests/reliability runs)
    .venv/bin/python benchmarks/chaos.py --scenarios kills,flaky --events 600 --seed 7

Each scenario starts gunicorn, `manage.py qcluster` and `manage.py sweep --loop --interval 1` on
127.0.0.1 against a database of its own (a copy of a freshly migrated template on the shared
PostgreSQL, or, for the restart scenario, a scratch cluster on its own port), drives signed
Shopify webhooks at the real URL, injects its fault, lets the system finish, and checks the books
(benchmarks/harness.py: `check_books`). The table lists, per scenario: events driven, faults
injected, events lost, duplicate effects, missing effects, emails `unknown`, deliveries not
delivered. Every process is stopped by its PID and every database dropped at the end, error or
not. See docs/reliability.md for what each scenario proves.

Waiting out leases and retry delays: by default a scenario fast-forwards the clocks that only
time would move (a killed worker's claim, a queue message a dead cluster had taken, a retry
scheduled minutes or hours ahead), exactly where the real system would wait; `--real-time` waits
for them instead (up to 15 minutes more per scenario, REAL_TIME_EXTRA; flaky is left out).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import inspect
import json
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    FLAKY,
    GONE,
    HEALTHY,
    Behaviour,
    Books,
    Db,
    DriveResult,
    Receiver,
    ScratchPostgres,
    Shopify,
    Stack,
    Story,
    check_books,
    compare_story,
    create_database,
    drive_in_steps,
    drop_database,
    expire_claims_before,
    expire_dead_claims,
    format_table,
    interleave,
    normalized,
    open_work,
    release_queue_leases,
    release_queue_locks,
    settle,
    stories,
    story_effects,
)

SHOP = "reliability-{}.myshopify.com"
SHOP_SECRET = "reliability-shop-webhook-secret"
EVENTS_PER_STORY = 6


@dataclasses.dataclass
class Setup:
    stack: Stack
    db: Db
    shopify: Shopify
    shop_id: int
    endpoints: dict[str, dict]
    tickets: dict[str, int]


def _start(
    database_url: str,
    workdir: Path,
    name: str,
    all_stories: list[Story],
    receiver: Receiver | None,
    endpoints: list[dict],
    **stack_options,
) -> Setup:
    """Seed the shop, customers, tickets and endpoints, then start the three processes."""
    stack = Stack(database_url, workdir, **stack_options)
    domain = SHOP.format(name)
    seeded = stack.seed(
        {
            "shop": domain,
            "secret": SHOP_SECRET,
            "customers": [s.customer_spec() for s in all_stories],
            "endpoints": endpoints,
        }
    )
    specs = {e["name"]: e for e in endpoints}
    for name_, e in seeded["endpoints"].items():
        e["event_types"] = specs[name_].get("event_types", [])
        if receiver is not None:
            receiver.set_secret(name_, e["secret"])
    stack.start()
    return Setup(
        stack=stack,
        db=Db(database_url),
        shopify=Shopify(stack.base_url, domain, SHOP_SECRET),
        shop_id=seeded["shop_id"],
        endpoints=seeded["endpoints"],
        tickets=seeded["tickets"],
    )


def _settle_or_note(setup: Setup, books: Books, timeout: float, fast_forward: bool) -> None:
    def keep_workers_up() -> None:  # a cluster that died by itself is a finding, then restarted
        workers = setup.stack.workers
        if workers is not None and not workers.alive():
            books.fail(f"qcluster exited by itself:\n{workers.tail(10)}")
            setup.stack.start_workers()

    if not settle(setup.db, timeout, fast_forward=fast_forward, on_tick=keep_workers_up):
        books.fail(f"not settled within {timeout:.0f}s: {open_work(setup.db)} rows open")


def _check_outbound_healthy(books: Books, endpoints: dict[str, dict]) -> None:
    """Healthy endpoints: every delivery must be done and acknowledged."""
    not_delivered = books.details.get("_not_delivered", [])
    books.deliveries_not_delivered += len(not_delivered)
    if not_delivered:
        books.notes.append(
            "not delivered: "
            + ", ".join(f"{d['type']}:{d['status']}/{d['attempts']}" for d in not_delivered[:5])
        )


def _audit(
    setup: Setup,
    books: Books,
    all_stories: list[Story],
    drive: DriveResult,
    receiver: Receiver | None,
    allowed: tuple[str, ...] = ("200",),
    healthy_endpoints: bool = True,
) -> None:
    """The books every scenario checks at its end (the flaky one judges its endpoints itself)."""
    check_books(
        setup.db,
        books,
        shop_id=setup.shop_id,
        all_stories=all_stories,
        drive=drive,
        receiver=receiver,
        endpoints=setup.endpoints,
        maildir=setup.stack.maildir,
    )
    if healthy_endpoints:
        _check_outbound_healthy(books, setup.endpoints)
    _check_drive(books, drive, allowed)


def _strip_private(books: Books) -> Books:
    for key in [k for k in books.details if k.startswith("_")]:
        del books.details[key]
    return books


# --- 1. workers killed -------------------------------------------------------------------------


def scenario_kills(
    database_url: str,
    workdir: Path,
    *,
    events: int = 2000,
    kills: int = 10,
    seed: int = 1,
    rate: float = 40.0,
    q_workers: int = 2,
    redis_url: str = "",
    time_travel: bool = True,
    kill_gap: tuple[float, float] = (2.0, 6.0),
    interleaved: bool = False,
    timeout: float = 900,
) -> Books:
    """SIGKILL qcluster (all its workers at once) at random moments while N inbound events and the
    deliveries they cause are being processed; restart it after each kill; the sweeper finishes.
    """
    rng = random.Random(seed)
    n = math.ceil(events / EVENTS_PER_STORY)
    all_stories = stories(n)
    hooks = interleave(all_stories, gap=max(3, min(40, n // 6)))
    label = f"1. workers SIGKILLed ({'redis' if redis_url else 'orm'} broker"
    label += ", orders interleaved)" if interleaved else ")"
    books = Books(label, events_driven=len(hooks))
    receiver = Receiver().start()
    endpoints = [
        {"name": "crm", "url": receiver.add("crm", Behaviour(HEALTHY))},
        {
            "name": "erp",
            "url": receiver.add("erp", Behaviour(HEALTHY)),
            "event_types": ["order.fulfilled", "refund.created"],
        },
    ]
    env = {"REDIS_URL": redis_url} if redis_url else {}
    setup = None
    try:
        setup = _start(
            database_url,
            workdir,
            "kills",
            all_stories,
            receiver,
            endpoints,
            q_workers=q_workers,
            **env,
        )
        stop = threading.Event()
        kill_log: list[dict] = []

        def killer() -> None:
            for _ in range(kills):
                if stop.wait(rng.uniform(*kill_gap)):
                    return
                busy = open_work(setup.db)
                at = setup.stack.kill_workers()
                entry = {"at": at, "open_rows": busy}
                if time_travel:
                    time.sleep(0.3)  # let PostgreSQL see the dead connections and roll back
                    entry["claims_expired"] = expire_dead_claims(setup.db)
                    release = release_queue_leases if redis_url else release_queue_locks
                    entry["messages_released"] = release(setup.db)
                kill_log.append(entry)
                setup.stack.start_workers()

        thread = threading.Thread(target=killer, daemon=True)
        started = time.monotonic()
        thread.start()
        if interleaved:
            drive = setup.shopify.drive(hooks, rate=rate, threads=4, timeout=timeout / 2)
        else:
            drive = drive_in_steps(
                setup.shopify,
                setup.db,
                all_stories,
                rate=rate,
                timeout=timeout / 2,
                fast_forward=time_travel,
            )
        books.details["drive_seconds"] = round(drive.elapsed, 1)
        # Kills go on while the backlog and the deliveries it causes are worked off.
        thread.join(timeout=kills * (kill_gap[1] + 15) + 30)
        stop.set()
        books.faults = len(kill_log)
        _settle_or_note(setup, books, timeout, fast_forward=time_travel)
        books.details["seconds"] = round(time.monotonic() - started, 1)
        _audit(setup, books, all_stories, drive, receiver)
        books.details["kills"] = [{k: v for k, v in e.items() if k != "at"} for e in kill_log]
        if books.faults < kills:
            books.fail(f"only {books.faults} of {kills} kills happened")
        # A kill interrupts at most the one send each worker process had under way.
        if books.emails_unknown > books.faults * q_workers:
            books.fail(
                f"{books.emails_unknown} unknown emails for {books.faults} kills "
                f"of {q_workers} workers"
            )
    except Exception:
        if setup is not None:
            print(setup.stack.logs_tail(), file=sys.stderr)
        raise
    finally:
        if setup is not None:
            setup.stack.stop()
            setup.db.close()
        receiver.stop()
    return _strip_private(books)


def _check_drive(books: Books, drive: DriveResult, allowed: tuple[str, ...] = ("200",)) -> None:
    """Shopify's side: every webhook acknowledged in the end, and no answer but `allowed`."""
    books.details["answers"] = dict(drive.statuses)
    unexpected = {s: n for s, n in drive.statuses.items() if s not in allowed}
    if unexpected:
        books.fail(f"answers Shopify must never get: {unexpected}")
    if drive.unaccepted:
        books.notes.append(f"{len(drive.unaccepted)} webhooks never acknowledged")
        books.events_lost += len(drive.unaccepted)
    if drive.not_sent:
        books.fail(f"{drive.not_sent} webhooks never sent: the drive ran out of time")


# --- 2. PostgreSQL restarted -------------------------------------------------------------------


def scenario_pg_restart(
    workdir: Path,
    *,
    events: int = 600,
    restarts: int = 2,
    down: float = 5.0,
    seed: int = 1,
    rate: float = 20.0,
    time_travel: bool = True,
    timeout: float = 600,
) -> Books:
    """A scratch PostgreSQL cluster is crashed (immediate stop) and restarted mid-run. While it is
    down the receiver must answer 503 (Shopify retries), never 500 and never 200; nothing that
    was acknowledged may be lost, and the workers must carry on once it is back."""
    rng = random.Random(seed)
    n = math.ceil(events / EVENTS_PER_STORY)
    all_stories = stories(n)
    hooks = interleave(all_stories, gap=max(3, min(40, n // 6)))
    books = Books("2. PostgreSQL restarted", events_driven=len(hooks))
    pg = ScratchPostgres()
    receiver = Receiver().start()
    setup = None
    try:
        pg.init()
        pg.start()
        create_database(pg.url(), "bookbag")
        database_url = pg.url("bookbag") + "?conn_max_age=60"
        Stack(database_url, workdir / "migrate").manage("migrate", "--noinput", "-v", "0")
        endpoints = [{"name": "crm", "url": receiver.add("crm", Behaviour(HEALTHY))}]
        setup = _start(database_url, workdir / "run", "pg", all_stories, receiver, endpoints)
        outages: list[dict] = []
        stop = threading.Event()
        # Each crash lands while Shopify is sending: after a random share of one phase's
        # webhooks went out, in phases spread over the drive (between phases nobody would call).
        per_phase = len(all_stories)
        phases = [min(5, int((i + 0.5) * 6 / restarts)) for i in range(restarts)]
        targets = [p * per_phase + int(rng.uniform(0.1, 0.5) * per_phase) for p in phases]
        sent = {"n": 0}
        reached = threading.Condition()
        crashed = threading.Event()  # set while the database is down

        def on_send(count: int) -> None:
            with reached:
                sent["n"] = max(sent["n"], count)
                reached.notify_all()
            if count in targets:
                # This webhook goes out into the outage, however long the crash takes to begin.
                crashed.wait(30)

        def restarter() -> None:
            for target in targets:
                with reached:
                    reached.wait_for(lambda t=target: sent["n"] >= t or stop.is_set(), timeout)
                if stop.is_set():
                    return
                down_at = time.time()
                pg.stop("immediate")  # a crash: no checkpoint, WAL replay on start
                crashed.set()
                stop.wait(down)
                pg.start()
                crashed.clear()
                outage = {"down": down_at, "up": time.time(), "after_webhook": target}
                if time_travel:
                    # The claims the crash orphaned would end with their leases (60-120 s).
                    db = Db(database_url)
                    try:
                        cutoff = dt.datetime.fromtimestamp(down_at, dt.UTC)
                        outage["claims_expired"] = expire_claims_before(db, cutoff)
                    finally:
                        db.close()
                outages.append(outage)

        thread = threading.Thread(target=restarter, daemon=True)
        thread.start()
        drive = drive_in_steps(
            setup.shopify,
            setup.db,
            all_stories,
            rate=rate,
            timeout=timeout / 2,
            fast_forward=time_travel,
            on_send=on_send,
        )
        stop.set()
        with reached:
            reached.notify_all()
        thread.join(timeout=restarts * (down + 90))
        books.faults = len(outages)
        books.details["outages"] = [
            {k: v for k, v in o.items() if k not in ("down", "up")} for o in outages
        ]
        if time_travel and outages:
            cutoff = dt.datetime.fromtimestamp(outages[-1]["up"], dt.UTC)
            expire_claims_before(setup.db, cutoff)
            # Queue messages taken by tasks that died with the database come back after
            # Q_RETRY (600 s); settling waits for an empty queue, so they come back now.
            release_queue_locks(setup.db)
        _settle_or_note(setup, books, timeout, fast_forward=time_travel)
        _audit(setup, books, all_stories, drive, receiver, allowed=("200", "503"))
        books.details["503s"] = drive.statuses.get("503", 0)
        if len(outages) < restarts:
            books.fail(f"only {len(outages)} of {restarts} restarts happened")
        if not drive.statuses.get("503"):
            books.fail("no 503 seen: the outages missed the traffic")
        for name in ("sweeper", "qcluster", "gunicorn"):
            child = {c.name: c for c in setup.stack.children()}[name]
            if not child.alive():
                books.fail(f"{name} exited during the outage:\n{child.tail(10)}")
    except Exception:
        if setup is not None:
            print(setup.stack.logs_tail(), file=sys.stderr)
        raise
    finally:
        if setup is not None:
            setup.stack.stop()
            setup.db.close()
        receiver.stop()
        pg.destroy()
    return _strip_private(books)


# --- 3. flaky endpoints ------------------------------------------------------------------------


def scenario_flaky(
    database_url: str,
    workdir: Path,
    *,
    events: int = 300,
    seed: int = 1,
    rate: float = 20.0,
    q_workers: int = 4,
    slow: float = 10.0,
    webhook_timeout: float = 15.0,
    flaky_max_in_flight: int = 0,
    time_travel: bool = True,
    timeout: float = 900,
) -> Books:
    """One endpoint answers 500 half the time, times out, resets connections and answers slowly;
    another answers 410 Gone; a third is healthy. Every delivery must end succeeded, or dead with
    its full attempt log, or held for a disabled endpoint; the healthy one must not be slowed."""
    n = math.ceil(events / EVENTS_PER_STORY)
    all_stories = stories(n)
    hooks = interleave(all_stories, gap=max(3, min(40, n // 6)))
    books = Books(f"3. flaky endpoints ({q_workers} workers)", events_driven=len(hooks))
    receiver = Receiver().start()
    hold = webhook_timeout + 2
    endpoints = [
        {"name": "healthy", "url": receiver.add("healthy", Behaviour(HEALTHY))},
        {
            "name": "flaky",
            "url": receiver.add(
                "flaky", Behaviour(FLAKY, slow=slow, hold=hold, seed=seed, each_first=True)
            ),
            # 0: the endpoint's default cap. A cap of q_workers or more is the control
            # experiment: the flaky endpoint may then hold every worker, and the check fails.
            "max_in_flight": flaky_max_in_flight,
        },
        {"name": "gone", "url": receiver.add("gone", Behaviour(GONE))},
    ]
    setup = None
    try:
        setup = _start(
            database_url,
            workdir,
            "flaky",
            all_stories,
            receiver,
            endpoints,
            q_workers=q_workers,
            WEBHOOK_TIMEOUT=str(webhook_timeout),
            Q_TIMEOUT=str(int(webhook_timeout * 2 + 30)),
            Q_RETRY=str(int(webhook_timeout * 2 + 60)),
        )
        started = time.monotonic()
        drive = drive_in_steps(
            setup.shopify,
            setup.db,
            all_stories,
            rate=rate,
            timeout=timeout / 2,
            fast_forward=time_travel,
        )
        # Retries are minutes to hours apart in real life: between rounds they become due now.
        _settle_or_note(setup, books, timeout, fast_forward=time_travel)
        books.details["seconds"] = round(time.monotonic() - started, 1)
        _audit(setup, books, all_stories, drive, receiver, healthy_endpoints=False)
        ids = {name: e["id"] for name, e in setup.endpoints.items()}
        by_endpoint: dict[str, list[dict]] = {name: [] for name in ids}
        names = {v: k for k, v in ids.items()}
        for d in books.details.get("_deliveries", []):
            by_endpoint[names[d["endpoint_id"]]].append(d)
        acked = {name: receiver.acknowledged(name) for name in ids}
        outcome: dict[str, Counter] = {}
        bad = []
        for name, rows in by_endpoint.items():
            counts = Counter()
            for d in rows:
                if d["status"] == "done" and d["message_id"] in acked[name]:
                    counts["succeeded"] += 1
                elif (
                    d["status"] == "dead"
                    and d["logged"] == d["attempts"]
                    and (d["attempts"] == 10 or (name == "gone" and d["attempts"] >= 1))
                ):
                    counts["dead, full log"] += 1
                elif d["status"] == "pending" and d["next_attempt_at"] is None and not d["active"]:
                    counts["held (endpoint disabled)"] += 1
                else:
                    counts["other"] += 1
                    bad.append((name, d["status"], d["attempts"], d["logged"]))
            outcome[name] = counts
        books.details["outcomes"] = {k: dict(v) for k, v in outcome.items()}
        books.deliveries_not_delivered += len(bad) + sum(
            c for k, c in outcome["healthy"].items() if k != "succeeded"
        )
        if bad:
            books.fail(f"deliveries in no acceptable end state: {bad[:5]}")
        gone_active = setup.db.value(
            "SELECT active FROM webhooks_endpoint WHERE id=%s", (ids["gone"],)
        )
        if gone_active:
            books.fail("the 410 endpoint is still active")
            books.deliveries_not_delivered += 1
        # Latency of the healthy endpoint: event created -> first arrival there.
        created = {
            r["message_id"]: r["created_at"].timestamp()
            for r in setup.db.rows(
                "SELECT message_id, created_at FROM webhooks_event WHERE shop_id=%s",
                (setup.shop_id,),
            )
        }
        first: dict[str, float] = {}
        for a in receiver.of("healthy"):
            first.setdefault(a.webhook_id, a.at)
        latencies = sorted(first[m] - created[m] for m in first if m in created)
        if latencies:
            books.details["healthy_latency_s"] = {
                "p50": round(statistics.median(latencies), 2),
                "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
                "max": round(latencies[-1], 2),
            }
        # Not slowed by the bad one: no healthy delivery waited as long as one slow answer
        # there (which would mean the bad endpoint held every worker).
        if not latencies or latencies[-1] >= slow:
            books.fail(
                f"the healthy endpoint was slowed: {books.details.get('healthy_latency_s')}"
                f" (a slow answer of the flaky one takes {slow:g}s)"
            )
        books.details["flaky_answers"] = dict(Counter(a.answer for a in receiver.of("flaky")))
        unseen = set(FLAKY) - set(books.details["flaky_answers"])
        if unseen:
            books.fail(f"faults never injected: {sorted(unseen)}")
        books.faults = sum(
            n for k, n in books.details["flaky_answers"].items() if k != "200"
        ) + len(receiver.of("gone"))
    except Exception:
        if setup is not None:
            print(setup.stack.logs_tail(), file=sys.stderr)
        raise
    finally:
        if setup is not None:
            setup.stack.stop()
            setup.db.close()
        receiver.stop()
    return _strip_private(books)


# --- 4. duplicate storms and reordered deliveries ------------------------------------------------

# Orders of arrival (indices into harness.PHASES: 0 orders/create, 1 fulfillments/create,
# 2 fulfillments/update in_transit, 3 fulfillment_events/create delivered, 4 refunds/create,
# 5 orders/cancelled).
REORDERINGS = {
    "fulfillment before its order": (1, 0, 2, 3, 4, 5),
    "update before create, both before the order": (2, 1, 0, 3, 4, 5),
    "refund before its order": (4, 0, 1, 2, 3, 5),
    "refund after the cancellation": (0, 1, 2, 3, 5, 4),
    "old in_transit update after delivered": (0, 1, 3, 2, 4, 5),
    "orders/create retried last": (1, 2, 3, 4, 5, 0),
    "shipment news before the order": (3, 2, 1, 0, 4, 5),
    "everything reversed": (5, 4, 3, 2, 1, 0),
}


def _wait_processed(db: Db, webhook_id: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = db.value(
            "SELECT status FROM integrations_inboundwebhook WHERE webhook_id=%s", (webhook_id,)
        )
        if status in ("done", "dead", "ignored"):
            return status
        time.sleep(0.1)
    return "timeout"


def scenario_storms(
    database_url: str,
    workdir: Path,
    *,
    per_group: int = 2,
    copies: int = 5,
    seed: int = 1,
    time_travel: bool = True,
    timeout: float = 600,
) -> Books:
    """Storms: every webhook delivered `copies` times (two at once with one webhook id, one retry
    of it later, one with a new webhook id and the same event id, one with new ids altogether).
    Reorders: each story's webhooks arrive in a given wrong order, each one processed before the
    next arrives. Control: the same stories in order. Every story's final state and effects must
    equal the in-order outcome, each automation having fired once."""
    rng = random.Random(seed)
    groups: dict[str, list[Story]] = {}
    index = 0
    for name in ["in order (control)", "storm", *REORDERINGS]:
        groups[name] = stories(per_group * (3 if name == "storm" else 1), start=index)
        index += len(groups[name])
    all_stories = [s for g in groups.values() for s in g]
    books = Books("4. duplicate storms and reordering")
    receiver = Receiver().start()
    endpoints = [{"name": "crm", "url": receiver.add("crm", Behaviour(HEALTHY))}]
    setup = None
    try:
        setup = _start(database_url, workdir, "storms", all_stories, receiver, endpoints)
        drive = DriveResult()
        lock = threading.Lock()
        deadline = time.monotonic() + timeout / 2

        def record(part: DriveResult) -> None:
            with lock:
                drive.merge(part)

        def sequential(story: Story, order: tuple[int, ...]) -> None:
            part = DriveResult()
            db = Db(database_url)
            try:
                for phase in order:
                    hook = story.webhook(phase)
                    if setup.shopify.deliver(hook, part, deadline):
                        _wait_processed(db, hook.webhook_id)
            finally:
                db.close()
                record(part)

        def storm(story: Story) -> None:
            part = DriveResult()
            db = Db(database_url)
            local = random.Random(rng.random())
            try:
                for hook in story.webhooks():
                    twins = [hook, hook.copy()]  # the same webhook id, at the same moment
                    barrier = threading.Barrier(len(twins))

                    def send(h, barrier=barrier):
                        barrier.wait()
                        setup.shopify.deliver(h, part, deadline)

                    pair = [threading.Thread(target=send, args=(h,)) for h in twins]
                    for t in pair:
                        t.start()
                    for t in pair:
                        t.join(60)
                    extra = [
                        hook.copy(),  # Shopify's retry after a lost acknowledgement
                        hook.copy(new_webhook_id=True),  # same event, another delivery id
                        hook.copy(new_webhook_id=True, new_event_id=True),  # the same news again
                    ][: max(0, copies - 2)]
                    for h in extra:
                        time.sleep(local.uniform(0, 0.3))
                        setup.shopify.deliver(h, part, deadline)
                    _wait_processed(db, hook.webhook_id)
            finally:
                db.close()
                record(part)

        threads = []
        for name, group in groups.items():
            for story in group:
                if name == "storm":
                    threads.append(threading.Thread(target=storm, args=(story,)))
                else:
                    order = REORDERINGS.get(name, tuple(range(6)))
                    threads.append(threading.Thread(target=sequential, args=(story, order)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout / 2)
        books.events_driven = len(all_stories) * EVENTS_PER_STORY
        books.faults = drive.posts - books.events_driven  # copies and out-of-order arrivals
        _settle_or_note(setup, books, timeout, fast_forward=time_travel)
        _audit(setup, books, all_stories, drive, receiver)
        # The final state must equal the in-order one: compare with the control group.
        effects = story_effects(setup.db, setup.shop_id)
        control = normalized(effects.get(groups["in order (control)"][0].customer_id) or {})
        per_group = {}
        for name, group in groups.items():
            failures = []
            for story in group:
                missing, duplicate, notes = compare_story(effects.get(story.customer_id))
                same = normalized(effects.get(story.customer_id) or {}) == control
                if missing or duplicate or not same:
                    failures.append("; ".join(notes) or "differs from the control")
            per_group[name] = failures[0] if failures else "ok"
        books.details["groups"] = per_group
        differing = {name: why for name, why in per_group.items() if why != "ok"}
        if differing:
            books.fail(f"not the in-order outcome: {differing}")
        books.details["duplicate_answers"] = drive.duplicates
    except Exception:
        if setup is not None:
            print(setup.stack.logs_tail(), file=sys.stderr)
        raise
    finally:
        if setup is not None:
            setup.stack.stop()
            setup.db.close()
        receiver.stop()
    return _strip_private(books)


# --- main --------------------------------------------------------------------------------------

SCENARIOS = ("kills", "restart", "flaky", "storms")
# The sizes of each scenario: QUICK is what tests/reliability runs in CI (a few minutes in all
# on 2 cores), LONG the numbers (2,000 events and 10 kills; about half an hour).
QUICK = {
    "kills": {"events": 200, "kills": 3, "kill_gap": (1.5, 4.0), "timeout": 240},
    "restart": {"events": 120, "restarts": 1, "timeout": 240},
    "flaky": {"events": 48, "slow": 3.0, "webhook_timeout": 5.0, "timeout": 240},
    "storms": {"per_group": 1, "timeout": 240},
}
LONG = {
    "kills": {"events": 2000, "kills": 10, "kill_gap": (3.0, 8.0)},
    "restart": {"events": 600, "restarts": 2},
    "flaky": {"events": 300},
    "storms": {"per_group": 4},
}


# --real-time waits out the clocks a fault leaves running instead of fast-forwarding them. The
# longest is django-q2's `retry` (Q_RETRY, 600 s): the ORM message a killed cluster held comes
# back only then (a no-op by now, but the books wait for the queue to empty). Before that, the
# queue lease (300 s) blocks the drive's step that lost a message until the sweeper hands the row
# out again. So every scenario gets both on top of its timeout (measured: the quick kills and
# restart scenarios settle in about 11 minutes this way). flaky cannot: a delivery's retries are
# scheduled 5 s, 5 min, 30 min, 2 h... apart.
REAL_TIME_EXTRA = 600 + 300


def _default_timeout(scenario: str) -> float:
    function = globals()[f"scenario_{'pg_restart' if scenario == 'restart' else scenario}"]
    return inspect.signature(function).parameters["timeout"].default


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, of {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--quick", action="store_true", help="the CI sizes (a few minutes)")
    parser.add_argument("--events", type=int, help="inbound events for kills (default 2000)")
    parser.add_argument("--kills", type=int, help="SIGKILLs of the workers (default 10)")
    parser.add_argument("--broker", choices=("orm", "redis", "both"), default="orm")
    parser.add_argument(
        "--interleaved",
        action="store_true",
        help="kills: send orders' steps interleaved without waiting (reorders one order's events)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument(
        "--real-time",
        action="store_true",
        help="wait out leases and retry delays instead of fast-forwarding them",
    )
    parser.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432",
        help="the PostgreSQL server for the scratch databases",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    args.sizes = {name: dict(size) for name, size in (QUICK if args.quick else LONG).items()}
    if args.real_time:
        if "flaky" in args.scenarios:
            if any(a.startswith("--scenarios") for a in (argv if argv is not None else sys.argv)):
                parser.error("--real-time: flaky waits out retries hours apart; leave it out")
            args.scenarios.remove("flaky")
            print("chaos: --real-time leaves out flaky (its retries are hours apart)", flush=True)
        for name in args.scenarios:
            size = args.sizes[name]
            size["timeout"] = size.get("timeout", _default_timeout(name)) + REAL_TIME_EXTRA
    if args.events is not None:
        args.sizes["kills"]["events"] = args.events
    if args.kills is not None:
        args.sizes["kills"]["kills"] = args.kills
    return args


def purge_redis(url: str) -> None:
    """Empty our own Redis database number (the queue of cluster "bookbag" lives there)."""
    import redis

    redis.Redis.from_url(url).flushdb()


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"chaos: seed {args.seed}, scenarios {', '.join(args.scenarios)}", flush=True)
    template = f"bookbag_chaos_template_{args.seed}"
    admin = f"{args.pg_url}/postgres"
    results: list[Books] = []
    databases: list[str] = []
    tt = not args.real_time
    with tempfile.TemporaryDirectory(prefix="bookbag-chaos-") as tmp:
        base = Path(tmp)
        try:
            if set(args.scenarios) - {"restart"}:
                create_database(admin, template)
                databases.append(template)
                Stack(f"{args.pg_url}/{template}", base / "migrate").manage(
                    "migrate", "--noinput", "-v", "0"
                )

            def fresh(name: str) -> str:
                db = f"bookbag_chaos_{name}_{args.seed}"
                create_database(admin, db, template=template)
                databases.append(db)
                return f"{args.pg_url}/{db}?conn_max_age=60"

            for scenario in args.scenarios:
                started = time.monotonic()
                print(f"== {scenario}", flush=True)
                done_before = len(results)
                size = args.sizes[scenario]
                if scenario == "kills":
                    brokers = ["orm", "redis"] if args.broker == "both" else [args.broker]
                    for broker in brokers:
                        redis_url = args.redis_url if broker == "redis" else ""
                        if redis_url:
                            purge_redis(redis_url)
                        results.append(
                            scenario_kills(
                                fresh(f"kills_{broker}"),
                                base / f"kills-{broker}",
                                seed=args.seed,
                                redis_url=redis_url,
                                time_travel=tt,
                                interleaved=args.interleaved,
                                **size,
                            )
                        )
                elif scenario == "restart":
                    results.append(
                        scenario_pg_restart(
                            base / "restart", seed=args.seed, time_travel=tt, **size
                        )
                    )
                elif scenario == "flaky":
                    results.append(
                        scenario_flaky(
                            fresh("flaky"), base / "flaky", seed=args.seed, time_travel=tt, **size
                        )
                    )
                elif scenario == "storms":
                    results.append(
                        scenario_storms(
                            fresh("storms"), base / "storms", seed=args.seed, time_travel=tt, **size
                        )
                    )
                print(f"   {time.monotonic() - started:.0f}s", flush=True)
                for last in results[done_before:]:
                    print(
                        f"   {last.scenario}: {json.dumps(last.details, default=str)}", flush=True
                    )
                    for note in last.notes:
                        print(f"   note: {note}", flush=True)
                    for failure in last.failures:
                        print(f"   FAIL: {failure}", flush=True)
        finally:
            for db in databases:
                drop_database(admin, db)
    print()
    print(format_table(results))
    if args.json:
        args.json.write_text(
            json.dumps([dataclasses.asdict(b) for b in results], indent=2, default=str)
        )
    return 1 if any(b.problems() for b in results) else 0


if __name__ == "__main__":
    sys.exit(main())
