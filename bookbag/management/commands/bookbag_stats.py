"""Throughput and backlog of every outbox: what is waiting, what went out, what is stuck."""

import json

from django.core.management.base import BaseCommand

from bookbag.core.outbox import stats


class Command(BaseCommand):
    help = "Print each outbox's backlog and throughput (inbound events, emails, deliveries)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        report = stats()
        if options["json"]:
            self.stdout.write(_dumps(report))
            return
        columns = (
            "pending", "in_progress", "dead", "unknown", "created_last_hour",
            "done_last_hour", "done_last_day", "oldest_due_seconds",
        )  # fmt: skip
        self.stdout.write(f"{'outbox':32}" + "".join(f"{c:>19}" for c in columns))
        for label, row in report.items():
            self.stdout.write(f"{label:32}" + "".join(f"{row[c]:>19}" for c in columns))


def _dumps(value) -> str:
    return json.dumps(value, indent=2)
