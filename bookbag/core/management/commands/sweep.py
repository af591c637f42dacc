"""Enqueue every outbox row that is due and not leased; `--loop` keeps doing it every second."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections

from bookbag.core.outbox import release_queue_leases, sweep

OUTAGE = (OperationalError, InterfaceError)


class SweepLoop:
    """One sweep per tick. It remembers a database outage: the first tick after one releases the
    rows whose queue messages the outage made useless (outbox.release_queue_leases)."""

    def __init__(self) -> None:
        self.outage = False

    def tick(self) -> dict[str, int]:
        """The rows enqueued per outbox. While the database is away its error is raised (and
        remembered for the first tick after it)."""
        close_old_connections()
        try:
            if self.outage:
                release_queue_leases()
            swept = sweep()
        except OUTAGE:
            self.outage = True
            raise
        self.outage = False
        return swept


class Command(BaseCommand):
    help = "Hand due outbox rows (inbound events, emails, deliveries) to the task queue."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep sweeping until stopped.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between sweeps.")

    def handle(self, *args, loop: bool, interval: float, **options):
        if not loop:
            self.stdout.write(self._describe(sweep()))
            return
        stopping = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopping.append(True))
        self.stdout.write(f"Sweeping every {interval:g}s (Ctrl-C stops)")
        loop = SweepLoop()
        while not stopping:
            try:
                swept = loop.tick()
                if any(swept.values()):
                    self.stdout.write(self._describe(swept))
            except OUTAGE as exc:  # database away: keep trying, don't die
                self.stderr.write(f"sweep failed: {exc}")
            time.sleep(interval)

    @staticmethod
    def _describe(swept: dict[str, int]) -> str:
        return ", ".join(f"{label}: {n}" for label, n in swept.items()) or "no outboxes"
