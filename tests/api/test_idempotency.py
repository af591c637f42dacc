"""`Idempotency-Key` on the API's creating POSTs: a retry of the same request gets the first
answer again and creates nothing more; the same key for a different request is refused (422
`idempotency_key_reused`); a retry while the first still runs gets 409 `idempotency_key_in_use`
(really concurrent on PostgreSQL, with threads)."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from bookbag.core.models import IdempotencyKey
from tests.api.conftest import token_client
from tests.factories import AgentFactory, CustomerFactory
from tickets import services
from tickets import signals as ticket_signals
from tickets.models import Ticket
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

NEW_TICKET = {"subject": "Where is my order?", "body": "It was due Monday.",
              "customer_email": "ada@example.com"}  # fmt: skip


def create(client, key: str, body: dict | None = None):
    return client.post("/api/tickets/", body or NEW_TICKET, HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_create_returns_the_first_answer_and_opens_one_ticket(agent_api, store):
    first = create(agent_api, "7d0c1f7e-retry")
    again = create(agent_api, "7d0c1f7e-retry")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Ticket.objects.count() == 1


def test_key_order_and_whitespace_in_the_body_do_not_make_it_a_different_request(agent_api, store):
    create(agent_api, "same-request")
    reordered = dict(reversed(list(NEW_TICKET.items())))
    again = agent_api.post(
        "/api/tickets/", reordered, HTTP_IDEMPOTENCY_KEY="same-request", format="json"
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1


def test_the_same_key_with_a_different_body_is_refused_with_422(agent_api, store):
    create(agent_api, "reused")

    response = create(agent_api, "reused", {**NEW_TICKET, "subject": "Something else"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Ticket.objects.count() == 1


def test_the_same_key_on_another_path_is_refused_too(agent_api, store):
    ticket = Ticket.objects.get(pk=create(agent_api, "one-key").json()["id"])
    response = agent_api.post(
        f"/api/tickets/{ticket.pk}/note/", {"body": "x"}, HTTP_IDEMPOTENCY_KEY="one-key"
    )
    assert response.status_code == 422 and not ticket.messages.filter(internal=True).exists()


def test_a_failed_request_releases_its_key_so_the_fixed_request_can_use_it(agent_api, store):
    refused = create(agent_api, "fix-and-retry", {**NEW_TICKET, "customer_email": "nope"})
    fixed = create(agent_api, "fix-and-retry")

    assert refused.status_code == 400 and fixed.status_code == 201
    assert not fixed.has_header("Idempotent-Replayed")
    assert Ticket.objects.count() == 1


def test_keys_belong_to_one_user(agent_api, store):
    colleague = token_client(AgentFactory())
    mine, theirs = create(agent_api, "shared-key"), create(colleague, "shared-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def test_without_a_key_every_post_creates(agent_api, store):
    agent_api.post("/api/tickets/", NEW_TICKET)
    agent_api.post("/api/tickets/", NEW_TICKET)
    assert Ticket.objects.count() == 2


@pytest.mark.queue
def test_a_retried_reply_is_posted_and_emailed_once(agent_api, run_queued_tasks):
    customer = CustomerFactory(email="ada@example.com")
    ticket = services.open_ticket(
        shop=customer.shop, customer=customer, subject="Lost", body="Where is it?"
    )
    url = f"/api/tickets/{ticket.pk}/reply/"

    first = agent_api.post(url, {"body": "On its way."}, HTTP_IDEMPOTENCY_KEY="reply-1")
    again = agent_api.post(url, {"body": "On its way."}, HTTP_IDEMPOTENCY_KEY="reply-1")
    run_queued_tasks()

    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert ticket.messages.filter(author_kind="agent").count() == 1
    assert len(mail.outbox) == 1


def test_a_replayed_endpoint_create_returns_the_same_secret_stored_encrypted(admin_api):
    body = {"url": "https://8.8.8.8/hook"}
    first = admin_api.post("/api/webhook-endpoints/", body, HTTP_IDEMPOTENCY_KEY="ep-1")
    again = admin_api.post("/api/webhook-endpoints/", body, HTTP_IDEMPOTENCY_KEY="ep-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["secret"] == first.json()["secret"]
    assert Endpoint.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT response_body FROM core_idempotencykey")
        [(stored,)] = cursor.fetchall()
    assert first.json()["secret"] not in stored, "the recorded answer is encrypted at rest"


def test_a_retry_while_the_first_request_still_runs_gets_409(agent_api, store):
    create(agent_api, "in-flight")
    # As it looks while the first request is still inside its transaction:
    IdempotencyKey.objects.update(completed_at=None, locked_until=timezone.now() + timedelta(1))

    response = create(agent_api, "in-flight")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert response["Retry-After"] == "1"
    assert Ticket.objects.count() == 1


def test_a_key_abandoned_by_a_dead_worker_is_taken_over(agent_api, store):
    create(agent_api, "abandoned")
    Ticket.objects.all().delete()  # its work never committed
    IdempotencyKey.objects.update(completed_at=None, locked_until=timezone.now() - timedelta(1))

    response = create(agent_api, "abandoned")

    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
    assert Ticket.objects.count() == 1


def test_a_key_older_than_a_day_is_a_new_key(agent_api, store):
    create(agent_api, "yesterday")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    response = create(agent_api, "yesterday")

    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
    assert Ticket.objects.count() == 2


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "clé", "two words"])
def test_a_malformed_key_is_a_400_naming_the_header(agent_api, store, key):
    response = create(agent_api, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Ticket.objects.exists()


@pytest.fixture
def slow_ticket_creation():
    """Hold the first request inside its transaction long enough for the copy to arrive."""

    def linger(sender, **kwargs):
        time.sleep(1.0)

    ticket_signals.ticket_created.connect(linger, dispatch_uid="test-linger", weak=False)
    yield
    ticket_signals.ticket_created.disconnect(dispatch_uid="test-linger")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_gets_409_and_only_one_ticket_is_opened(slow_ticket_creation):
    store = CustomerFactory().shop  # the one connected shop
    agent = AgentFactory()
    copies = 2
    barrier = threading.Barrier(copies)
    answers = []
    clients = [token_client(agent) for _ in range(copies)]

    def send(client):
        try:
            barrier.wait(timeout=10)
            response = create(client, "concurrent")
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(status for status, _ in answers) == [201, 409], answers
    [conflict] = [body for status, body in answers if status == 409]
    assert conflict["code"] == "idempotency_key_in_use"
    assert Ticket.objects.filter(shop=store).count() == 1
