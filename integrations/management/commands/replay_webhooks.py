"""Reprocess stored Shopify webhooks: after a fix, or to rebuild state from the log."""

import sys
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bookbag.core.models import OutboxStatus
from integrations.models import InboundWebhook
from integrations.services import process_inbound_webhook, reprocess_inbound_webhooks


class Command(BaseCommand):
    help = "Reprocess a filtered set of stored Shopify webhooks, oldest first, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="myshopify domain")
        parser.add_argument("--topic", help="e.g. orders/create")
        parser.add_argument(
            "--status", action="append", choices=OutboxStatus.values,
            help="repeatable; default: dead",
        )  # fmt: skip
        parser.add_argument("--since", help="ISO time, or hours ago as a number")
        parser.add_argument("--id", type=int, action="append", dest="ids")
        parser.add_argument(
            "--queue", action="store_true", help="hand them to the workers instead of running here"
        )
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, **opts):
        rows = InboundWebhook.objects.order_by("id")
        if opts["ids"]:
            rows = rows.filter(pk__in=opts["ids"])
        else:
            rows = rows.filter(status__in=opts["status"] or [OutboxStatus.DEAD])
        if opts["shop"]:
            rows = rows.filter(shop__domain=opts["shop"].lower())
        if opts["topic"]:
            rows = rows.filter(topic=opts["topic"])
        if opts["since"]:
            since = opts["since"]
            when = (
                timezone.now() - timedelta(hours=float(since))
                if since.replace(".", "", 1).isdigit()
                else parse_datetime(since)
            )
            rows = rows.filter(created_at__gte=when)
        ids = list(rows.exclude(status=OutboxStatus.IN_PROGRESS).values_list("pk", flat=True))
        self.stdout.write(f"{len(ids)} webhook(s) to reprocess")
        if opts["dry_run"] or not ids:
            return
        results: dict[str, int] = {}
        for n, pk in enumerate(ids, 1):
            reprocess_inbound_webhooks([pk], enqueue_tasks=opts["queue"])
            if not opts["queue"]:
                status = process_inbound_webhook(pk) or "skipped"
                results[status] = results.get(status, 0) + 1
            self._progress(n, len(ids))
        sys.stdout.write("\n")
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(results.items())) or "queued"
        self.stdout.write(self.style.SUCCESS(f"Done. {summary}"))

    def _progress(self, done: int, total: int, width: int = 40) -> None:
        filled = int(width * done / total)
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stdout.flush()
