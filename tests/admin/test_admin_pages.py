"""Every model has a working page in the operations console; raw bodies are readable and secrets
never reach the HTML."""

import pytest
from django import forms
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.models import (
    DataExport,
    InboundWebhook,
    Shop,
)
from notifications.models import Notification
from tests import factories
from tickets.models import CsatSurvey, Message, TicketEvent
from webhooks.models import Attempt, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db

FACTORIES = factories.BY_MODEL

# Written only by the application (logs and outbox rows): the console shows them, but nobody makes
# one by hand. A hand-made outbox row would be picked up and processed by a worker.
APPLICATION_WRITTEN = {
    InboundWebhook,
    DataExport,
    Message,
    TicketEvent,
    CsatSurvey,
    Notification,
    Event,
    Delivery,
    Attempt,
}

BOOKBAG_MODELS = sorted(
    (
        m
        for m in admin.site._registry
        if m._meta.app_label in {"integrations", "tickets", "notifications", "webhooks"}
    ),
    key=lambda m: m._meta.label,
)
ALL_MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
OTHER_MODELS = [m for m in ALL_MODELS if m not in BOOKBAG_MODELS]  # auth, django-q2, DRF


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_bookbag_model_is_in_the_console():
    assert set(BOOKBAG_MODELS) == set(FACTORIES)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m._meta.label)
def test_the_changelist_opens(admin_client, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200


@pytest.mark.parametrize("model", BOOKBAG_MODELS, ids=lambda m: m._meta.label)
def test_the_add_page_opens_unless_only_the_application_writes_the_model(admin_client, model):
    expected = 403 if model in APPLICATION_WRITTEN else 200

    assert admin_client.get(url(model, "add")).status_code == expected


@pytest.mark.parametrize("model", OTHER_MODELS, ids=lambda m: m._meta.label)
def test_the_add_page_of_other_apps_models_opens_where_their_admin_allows_adding(
    admin_client, admin_user, rf, model
):
    request = rf.get("/")
    request.user = admin_user
    expected = 200 if admin.site._registry[model].has_add_permission(request) else 403

    assert admin_client.get(url(model, "add")).status_code == expected


@pytest.mark.parametrize("model", BOOKBAG_MODELS, ids=lambda m: m._meta.label)
def test_the_change_page_of_a_row_opens(admin_client, model):
    row = FACTORIES[model]()

    assert admin_client.get(url(model, "change", row.pk)).status_code == 200


@pytest.mark.parametrize("model", BOOKBAG_MODELS, ids=lambda m: m._meta.label)
def test_a_changelist_runs_as_many_queries_for_ten_rows_as_for_one(admin_client, model):
    FACTORIES[model]()
    with CaptureQueriesContext(connection) as one:
        admin_client.get(url(model, "changelist"))
    FACTORIES[model].create_batch(9)
    with CaptureQueriesContext(connection) as ten:
        response = admin_client.get(url(model, "changelist"))

    assert response.status_code == 200
    assert len(ten) == len(one), [q["sql"] for q in ten.captured_queries]


def test_the_inbound_webhook_page_shows_the_raw_body_as_indented_json(admin_client):
    shop = Shop.objects.create(domain="x.myshopify.com")
    hook = InboundWebhook.objects.create(
        shop=shop, body=b'{"id": 1}', topic="orders/create", webhook_id="w1"
    )

    html = admin_client.get(url(InboundWebhook, "change", hook.pk)).content.decode()

    assert "<pre" in html
    assert "{\n  &quot;id&quot;: 1\n}" in html
    assert "b&#x27;" not in html  # never the bytes repr


def test_a_body_that_is_not_utf8_is_shown_with_replacement_characters(admin_client):
    shop = Shop.objects.create(domain="x.myshopify.com")
    hook = InboundWebhook.objects.create(
        shop=shop, body=b"caf\xe9 <b>", topic="orders/create", webhook_id="w2"
    )

    html = admin_client.get(url(InboundWebhook, "change", hook.pk)).content.decode()

    assert "caf\ufffd &lt;b&gt;" in html


def test_changelists_load_neither_raw_bodies_nor_secrets(admin_client):
    factories.InboundWebhookFactory.create_batch(3)
    factories.AttemptFactory.create_batch(3)
    factories.NotificationFactory.create_batch(3)

    with CaptureQueriesContext(connection) as queries:
        for model in (InboundWebhook, Event, Delivery, Attempt, Notification, Shop, Endpoint):
            assert admin_client.get(url(model, "changelist")).status_code == 200
    sql = "\n".join(q["sql"] for q in queries.captured_queries)

    assert '"integrations_inboundwebhook"."body"' not in sql
    assert '"webhooks_event"."payload"' not in sql
    assert '"webhooks_attempt"."response_body"' not in sql
    assert '"notifications_notification"."html"' not in sql
    assert '"webhooks_endpoint"."secret"' not in sql
    assert '"integrations_shop"."webhook_secret"' not in sql


SECRET = "shpss_0123456789abcdef0123456789abWXYZ"
PREVIOUS = "shpss_fedcba9876543210fedcba98765PREV"


def shop_form_data(response) -> dict:
    """What the browser would post back: the change form as it was rendered."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def test_the_shop_page_shows_the_webhook_secrets_only_masked(admin_client):
    shop = Shop.objects.create(
        domain="x.myshopify.com", webhook_secret=SECRET, previous_webhook_secret=PREVIOUS
    )

    html = admin_client.get(url(Shop, "change", shop.pk)).content.decode()

    assert SECRET not in html
    assert PREVIOUS not in html
    assert "shpss_…WXYZ" in html
    assert "shpss_…PREV" in html


def test_saving_the_shop_with_the_new_secret_box_empty_keeps_the_secret(admin_client):
    shop = Shop.objects.create(domain="x.myshopify.com", webhook_secret=SECRET)
    page = admin_client.get(url(Shop, "change", shop.pk))

    response = admin_client.post(
        url(Shop, "change", shop.pk), {**shop_form_data(page), "name": "Renamed"}
    )

    assert response.status_code == 302
    shop.refresh_from_db()
    assert (shop.name, shop.webhook_secret) == ("Renamed", SECRET)


def test_a_new_webhook_secret_typed_in_replaces_the_old_one_and_is_not_shown(admin_client):
    shop = Shop.objects.create(domain="x.myshopify.com", webhook_secret=SECRET)
    page = admin_client.get(url(Shop, "change", shop.pk))
    new = "shpss_new_secret_typed_by_an_admin_1234"

    admin_client.post(
        url(Shop, "change", shop.pk), {**shop_form_data(page), "new_webhook_secret": new}
    )

    shop.refresh_from_db()
    assert shop.webhook_secret == new
    html = admin_client.get(url(Shop, "change", shop.pk)).content.decode()
    assert new not in html
    assert "shpss_…1234" in html


def test_the_endpoint_page_never_shows_its_signing_secret(admin_client):
    endpoint = factories.EndpointFactory(previous_secret=factories.new_whsec())

    html = admin_client.get(url(Endpoint, "change", endpoint.pk)).content.decode()

    assert endpoint.secret not in html
    assert endpoint.previous_secret not in html
    assert f"whsec_…{endpoint.secret[-4:]}" in html
