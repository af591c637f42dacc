"""Enqueue every outbox row that is due and not leased; `--loop` keeps doing it every second."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import OperationalError, close_old_connections

from bookbag.core.outbox import sweep


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
        while not stopping:
            close_old_connections()
            try:
                swept = sweep()
                if any(swept.values()):
                    self.stdout.write(self._describe(swept))
            except OperationalError as exc:  # database away: keep trying, don't die
                self.stderr.write(f"sweep failed: {exc}")
            time.sleep(interval)

    @staticmethod
    def _describe(swept: dict[str, int]) -> str:
        return ", ".join(f"{label}: {n}" for label, n in swept.items()) or "no outboxes"
