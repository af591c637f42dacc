import pytest

from bookbag.core.models import OutboxStatus
from integrations.models import InboundWebhook, Shop
from tests.outage import database_unreachable

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_backlog_of_every_outbox(client):
    shop = Shop.objects.create(domain="ready.myshopify.com")
    InboundWebhook.objects.create(shop=shop, topic="orders/create", webhook_id="a", body=b"{}")
    InboundWebhook.objects.create(
        shop=shop,
        topic="orders/create",
        webhook_id="b",
        body=b"{}",
        status=OutboxStatus.DEAD,
        next_attempt_at=None,
    )

    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200 and body["database"] == "up"
    assert body["outboxes"]["integrations.InboundWebhook"]["open"] == 1
    assert body["outboxes"]["integrations.InboundWebhook"]["dead"] == 1
    assert body["outboxes"]["integrations.InboundWebhook"]["oldest_due"]
    assert "notifications.Notification" in body["outboxes"]


@pytest.fixture
def database_down():
    """Point the connection at a database that is not there (a real failure, not a mock)."""
    with database_unreachable():
        yield


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_while_the_database_is_down(client, database_down):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["database"] == "down"


@pytest.mark.django_db(transaction=True)
def test_healthz_stays_up_while_the_database_is_down(client, database_down):
    assert client.get("/healthz").status_code == 200
