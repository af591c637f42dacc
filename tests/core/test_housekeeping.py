"""Retention pruning, stats, and the indexes the sweepers need."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bookbag.core import outbox
from bookbag.core.models import OutboxStatus
from bookbag.housekeeping import prune_all
from integrations.models import InboundWebhook
from notifications.models import Notification
from tests.factories import DeliveryFactory, InboundWebhookFactory, NotificationFactory
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def aged(rows, days):
    for row in rows:
        type(row).objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days))


def test_old_finished_rows_are_pruned_and_failures_kept(settings):
    done_old = [InboundWebhookFactory(status=OutboxStatus.DONE) for _ in range(3)]
    dead_old = InboundWebhookFactory(status=OutboxStatus.DEAD)
    done_new = InboundWebhookFactory(status=OutboxStatus.DONE)
    sent_old = NotificationFactory(status=OutboxStatus.DONE)
    unknown_old = NotificationFactory(status=OutboxStatus.UNKNOWN)
    delivered_old = DeliveryFactory(status=OutboxStatus.DONE)
    failed_old = DeliveryFactory(status=OutboxStatus.DEAD)
    aged([*done_old, dead_old], settings.INBOUND_RETENTION_DAYS + 1)
    aged([sent_old, unknown_old], settings.NOTIFICATION_RETENTION_DAYS + 1)
    aged([delivered_old, failed_old], settings.WEBHOOK_RETENTION_DAYS + 1)

    assert prune_all() == {"inbound_webhooks": 3, "notifications": 1, "deliveries": 1}

    assert set(InboundWebhook.objects.values_list("pk", flat=True)) == {dead_old.pk, done_new.pk}
    assert list(Notification.objects.values_list("pk", flat=True)) == [unknown_old.pk]
    assert list(Delivery.objects.values_list("pk", flat=True)) == [failed_old.pk]


def test_pruning_works_in_batches():
    rows = [InboundWebhookFactory(status=OutboxStatus.DONE) for _ in range(7)]
    aged(rows, 400)

    assert (
        outbox.prune(InboundWebhook, statuses=[OutboxStatus.DONE], before=timezone.now(), batch=3)
        == 7
    )
    assert not InboundWebhook.objects.exists()


def test_stats_report_backlog_and_throughput(capsys):
    InboundWebhookFactory(next_attempt_at=timezone.now() - timedelta(minutes=2))
    InboundWebhookFactory(status=OutboxStatus.DEAD, next_attempt_at=None)
    InboundWebhookFactory(status=OutboxStatus.DONE, next_attempt_at=None)

    report = outbox.stats()["integrations.InboundWebhook"]
    assert (report["pending"], report["dead"], report["done_last_hour"]) == (1, 1, 1)
    assert report["oldest_due_seconds"] >= 110

    call_command("bookbag_stats")
    assert "integrations.InboundWebhook" in capsys.readouterr().out


def test_the_admin_index_shows_the_queues(admin_client):
    InboundWebhookFactory(status=OutboxStatus.DEAD, next_attempt_at=None)

    page = admin_client.get("/admin/").content.decode()

    assert "Queues" in page and "integrations.InboundWebhook" in page


@pytest.mark.postgres
def test_the_sweeper_query_uses_the_due_index():
    # Enough finished rows that the planner prefers an index over a scan when one fits.
    shop = InboundWebhookFactory().shop
    InboundWebhook.objects.bulk_create(
        InboundWebhook(
            shop=shop, topic="orders/create", webhook_id=f"done-{n}", body=b"{}",
            status=OutboxStatus.DONE, next_attempt_at=None,
        )
        for n in range(5000)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE integrations_inboundwebhook")
    now = timezone.now()
    query = InboundWebhook.objects.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.IN_PROGRESS], next_attempt_at__lte=now
    ).order_by("next_attempt_at")[:500]

    plan = query.explain()

    assert "inbound_due_idx" in plan, plan


@pytest.mark.postgres
def test_the_inbox_query_uses_the_status_activity_index():
    from tickets.models import Ticket

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # tiny tables: ask whether an index fits
        plan = Ticket.objects.filter(status="open").order_by("-last_activity_at")[:50].explain()
        cursor.execute("SET enable_seqscan = on")

    assert "ticket_status_activity_idx" in plan, plan


@pytest.mark.postgres
def test_the_inbox_search_uses_a_trigram_index_on_every_table_it_searches():
    from tickets.models import Ticket
    from tickets.queries import search

    with connection.cursor() as cursor:
        # Tiny tables: ask which index fits the searched columns (bitmap scans only).
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
        plan = search(Ticket.objects.all(), "#1005").explain()
        cursor.execute("SET enable_seqscan = on; SET enable_indexscan = on")

    for index in (
        "ticket_subject_trgm_idx",
        "customer_email_trgm_idx",
        "customer_first_name_trgm_idx",
        "customer_last_name_trgm_idx",
        "order_name_trgm_idx",
        "message_body_trgm_idx",
    ):
        assert index in plan, (index, plan)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "model_path, index",
    [
        ("integrations.models.InboundWebhook", "inbound_due_idx"),
        ("notifications.models.Notification", "notification_due_idx"),
        ("webhooks.models.Delivery", "delivery_due_idx"),
    ],
)
def test_every_outboxs_sweep_query_can_use_its_due_index(model_path, index):
    from django.utils.module_loading import import_string

    model = import_string(model_path)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # tiny tables: ask whether an index fits
        plan = (
            model.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:500]
            .explain()
        )
        cursor.execute("SET enable_seqscan = on")

    assert index in plan, plan
