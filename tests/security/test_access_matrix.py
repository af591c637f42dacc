"""Every URL the site serves, for each of who may ask: nobody, a customer (holding only the link
of their CSAT survey), an agent, an admin. Only the cells marked allowed let the caller in; every
other cell refuses the way that part of the site refuses (its sign-in page, 401, 403, 404), and
a refused POST, PATCH or DELETE changes nothing in the database.

The list of URLs is read from the URL resolver: a URL pattern with no row here fails the test
until someone decides who may use it (and a row whose URL is gone fails too). The Django admin's
rows are built from admin.site's registry, so a new model's pages are covered at once; an
admin view of its own (ModelAdmin.get_urls) still needs its row.

Each cell runs in a savepoint that is rolled back, so cells do not depend on each other, and it
uses real rows (one of every model), so the detail routes and actions reach real objects.
"""

import copy
import json
import secrets
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django_q.models import OrmQ, Schedule, Task
from rest_framework.authtoken.models import Token

from integrations.models import (
    Customer,
    DataExport,
    Fulfillment,
    InboundWebhook,
    Order,
    Refund,
    Shop,
)
from notifications.models import Notification, NotificationTemplate
from tests import factories
from tickets.models import CsatSurvey, Message, SavedReply, Tag, Ticket, TicketEvent
from webhooks.models import Attempt, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "customer", "agent", "admin")

# What a response means to the person who sent it.
OK = "ok"  # 2xx, or a redirect anywhere but a sign-in page
SIGN_IN = "sign-in"  # 302 to the inbox's sign-in page
ADMIN_SIGN_IN = "admin sign-in"  # 302 to the Django admin's sign-in page

#              anonymous      customer       agent          admin
PUBLIC = (OK, OK, OK, OK)
INBOX = (SIGN_IN, SIGN_IN, OK, OK)
INBOX_SCRIPT = (401, 401, OK, OK)  # polled by the page's script: 401, not a redirect to HTML
AGENT_API = (401, 401, OK, OK)
ADMIN_API = (401, 401, 403, OK)
ADMIN_SITE = (ADMIN_SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, OK)
CSAT_LINK_HOLDER = (404, OK, 404, 404)  # only whoever holds the survey's link
SHOPIFY_SIGNATURE_ONLY = (401, 401, 401, 401)  # no session or token opens the receiver
NOWHERE = (404, 404, 404, 404)


@dataclass
class Row:
    key: str  # the URL pattern's name, or "route:<route>" for an unnamed one
    method: str
    path: str  # formatted with World.ids (and {csat}: the token the role holds)
    expect: tuple
    body: dict | None = None
    headers: dict = field(default_factory=dict)


@dataclass
class World:
    ids: dict
    users: dict  # role → user (None for nobody and the customer)
    tokens: dict = field(default_factory=dict)  # role → the CSAT token it holds


def rows_for_the_site() -> list[Row]:
    return [
        Row("healthz", "GET", "/healthz", PUBLIC),
        Row("readyz", "GET", "/readyz", PUBLIC),
        Row("route:", "GET", "/", PUBLIC),  # a redirect to the inbox
        # Sign-in and password reset.
        Row("login", "GET", "/accounts/login/", PUBLIC),
        Row("login", "POST", "/accounts/login/", PUBLIC, {"username": "x", "password": "y"}),
        Row("logout", "POST", "/accounts/logout/", (SIGN_IN,) * 4),  # ends on the sign-in page
        Row("logout", "GET", "/accounts/logout/", (405,) * 4),
        Row("password_reset", "GET", "/accounts/password-reset/", PUBLIC),
        Row("password_reset_done", "GET", "/accounts/password-reset/sent/", PUBLIC),
        Row("password_reset_confirm", "GET", "/accounts/reset/MQ/not-a-token/", PUBLIC),
        Row("password_reset_complete", "GET", "/accounts/reset/done/", PUBLIC),
        # The customer's survey.
        Row("csat", "GET", "/csat/{csat}/", CSAT_LINK_HOLDER),
        Row("csat", "POST", "/csat/{csat}/", CSAT_LINK_HOLDER, {"score": "5"}),
        # Shopify's webhooks: only a valid HMAC lets one in (tested in tests/integrations).
        Row(
            "shopify-webhook",
            "POST",
            "/webhooks/shopify/",
            SHOPIFY_SIGNATURE_ONLY,
            {"id": 1},
            headers={
                "X-Shopify-Shop-Domain": "{shop_domain}",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Webhook-Id": "w-1",
                "X-Shopify-Hmac-Sha256": "Zm9yZ2Vk",
            },
        ),
        Row("shopify-webhook", "GET", "/webhooks/shopify/", (405,) * 4),
    ]


def rows_for_the_inbox() -> list[Row]:
    t = "/inbox/tickets/{ticket}"
    return [
        Row("inbox", "GET", "/inbox/", INBOX),
        Row("inbox-poll", "GET", "/inbox/poll/?list=1&ticket={ticket}", INBOX_SCRIPT),
        Row("inbox-bulk", "POST", "/inbox/bulk/", INBOX,
            {"tickets": ["{ticket}"], "action": "priority", "priority": "high"}),
        Row("inbox-ticket", "GET", f"{t}/", INBOX),
        Row("inbox-saved-reply", "GET", f"{t}/saved-replies/{{saved_reply}}/", INBOX_SCRIPT),
        Row("inbox-message", "POST", f"{t}/messages/", INBOX, {"body": "Hi", "kind": "note"}),
        Row("inbox-assign", "POST", f"{t}/assign/", INBOX, {"to_me": "on"}),
        Row("inbox-status", "POST", f"{t}/status/", INBOX, {"status": "pending"}),
        Row("inbox-priority", "POST", f"{t}/priority/", INBOX, {"priority": "urgent"}),
        Row("inbox-tags", "POST", f"{t}/tags/", INBOX, {"tags": "vip, damaged"}),
        Row("inbox-resolve", "POST", f"{t}/resolve/", INBOX),
        Row("inbox-reopen", "POST", "/inbox/tickets/{resolved_ticket}/reopen/", INBOX),
        Row("inbox-escalate", "POST", f"{t}/escalate/", INBOX, {"reason": "vip"}),
        Row("inbox-link-order", "POST", f"{t}/order/", INBOX, {"order": "{order}"}),
        Row("inbox-leave", "POST", f"{t}/leave/", INBOX),
    ]  # fmt: skip


def rows_for_the_api() -> list[Row]:
    t, e = "/api/tickets/{ticket}", "/api/webhook-endpoints/{endpoint}"
    return [
        Row("api:schema", "GET", "/api/schema/", PUBLIC),
        Row("api:docs", "GET", "/api/docs/", PUBLIC),
        Row("api:redoc", "GET", "/api/redoc/", PUBLIC),
        Row("api:api-root", "GET", "/api/", AGENT_API),
        Row("api:not-found", "GET", "/api/no-such-thing/", NOWHERE),
        # Agents (and admins).
        Row("api:ticket-list", "GET", "/api/tickets/", AGENT_API),
        Row("api:ticket-list", "POST", "/api/tickets/", AGENT_API,
            {"subject": "Hi", "body": "Hello", "customer": "{customer}"}),
        Row("api:ticket-detail", "GET", f"{t}/", AGENT_API),
        Row("api:ticket-detail", "PATCH", f"{t}/", AGENT_API, {"priority": "high"}),
        Row("api:ticket-reply", "POST", f"{t}/reply/", AGENT_API, {"body": "On its way."}),
        Row("api:ticket-note", "POST", f"{t}/note/", AGENT_API, {"body": "Checked with UPS."}),
        Row("api:ticket-assign", "POST", f"{t}/assign/", AGENT_API, {"assignee": None}),
        Row("api:ticket-escalate", "POST", f"{t}/escalate/", AGENT_API, {"reason": "vip"}),
        Row("api:ticket-resolve", "POST", f"{t}/resolve/", AGENT_API),
        Row("api:ticket-reopen", "POST", "/api/tickets/{resolved_ticket}/reopen/", AGENT_API),
        Row("api:ticket-message-list", "GET", f"{t}/messages/", AGENT_API),
        Row("api:ticket-message-list", "POST", f"{t}/messages/", AGENT_API, {"body": "Any news?"}),
        Row("api:customer-list", "GET", "/api/customers/", AGENT_API),
        Row("api:customer-detail", "GET", "/api/customers/{customer}/", AGENT_API),
        Row("api:order-list", "GET", "/api/orders/", AGENT_API),
        Row("api:order-detail", "GET", "/api/orders/{order}/", AGENT_API),
        Row("api:shop-list", "GET", "/api/shops/", AGENT_API),
        Row("api:shop-detail", "GET", "/api/shops/{shop}/", AGENT_API),
        Row("api:agent-list", "GET", "/api/agents/", AGENT_API),
        Row("api:agent-detail", "GET", "/api/agents/{agent}/", AGENT_API),
        Row("api:notification-list", "GET", "/api/notifications/", AGENT_API),
        Row("api:notification-detail", "GET", "/api/notifications/{notification}/", AGENT_API),
        # Admins only.
        Row("api:webhook-endpoint-list", "GET", "/api/webhook-endpoints/", ADMIN_API),
        Row("api:webhook-endpoint-list", "POST", "/api/webhook-endpoints/", ADMIN_API,
            {"url": "http://127.0.0.1:9/other"}),
        Row("api:webhook-endpoint-detail", "GET", f"{e}/", ADMIN_API),
        Row("api:webhook-endpoint-detail", "PATCH", f"{e}/", ADMIN_API, {"description": "CRM"}),
        Row("api:webhook-endpoint-detail", "DELETE", f"{e}/", ADMIN_API),
        Row("api:webhook-endpoint-rotate-secret", "POST", f"{e}/rotate-secret/", ADMIN_API),
        Row("api:webhook-endpoint-test", "POST", f"{e}/test/", ADMIN_API),
        Row("api:delivery-list", "GET", "/api/deliveries/", ADMIN_API),
        Row("api:delivery-detail", "GET", "/api/deliveries/{delivery}/", ADMIN_API),
        Row("api:delivery-resend", "POST", "/api/deliveries/{delivery}/resend/", ADMIN_API),
        Row("api:event-type-list", "GET", "/api/event-types/", ADMIN_API),
        Row("api:event-type-detail", "GET", "/api/event-types/ticket.resolved/", ADMIN_API),
        Row("api:inbound-webhook-list", "GET", "/api/inbound-webhooks/", ADMIN_API),
        Row("api:inbound-webhook-detail", "GET", "/api/inbound-webhooks/{inbound}/", ADMIN_API),
        Row("api:inbound-webhook-reprocess", "POST", "/api/inbound-webhooks/{inbound}/reprocess/",
            ADMIN_API),
    ]  # fmt: skip


# --- The Django admin -----------------------------------------------------------------------------

ADMIN_FACTORIES = factories.BY_MODEL


def admin_object_id(model, world: World) -> str:
    """The id of a real row of `model`, as its admin URLs spell it."""
    if model in ADMIN_FACTORIES:
        return str(ADMIN_FACTORIES[model]().pk)
    label = model._meta.label
    if label == "auth.Group":
        return str(Group.objects.get(name="agents").pk)
    if label == "auth.User":
        return str(world.users["agent"].pk)
    if label == "authtoken.TokenProxy":
        return str(Token.objects.get(user=world.users["agent"]).user_id)  # its pk is the user's
    if issubclass(model, Task):  # django-q2's Success and Failure are proxies of Task
        task = Task.objects.create(
            id=f"task-{model._meta.model_name}", name="t", func="math.floor",
            started="2026-01-01T00:00:00Z", stopped="2026-01-01T00:00:01Z",
            success=model._meta.model_name == "success",
        )  # fmt: skip
        return task.pk
    if model is Schedule:
        return str(Schedule.objects.create(name="access-matrix", func="math.floor").pk)
    if model is OrmQ:
        return str(OrmQ.objects.create(key="bookbag", payload="x", lock=None).pk)
    raise AssertionError(f"add a row of {label} to admin_object_id()")


def rows_for_the_admin(world: World) -> list[Row]:
    request = RequestFactory().get("/admin/")
    request.user = world.users["admin"]

    def as_admin(allowed: bool | int | str) -> tuple:
        """Everyone else is sent to the admin's sign-in; the admin gets OK, 403 or a status."""
        if isinstance(allowed, bool):
            allowed = OK if allowed else 403
        return (*ADMIN_SITE[:3], allowed)

    rows = [
        Row("admin:index", "GET", "/admin/", ADMIN_SITE),
        Row("admin:login", "GET", "/admin/login/", PUBLIC),
        # Signing out of the admin ends on the sign-in page; others are sent to the admin's index.
        Row("admin:logout", "POST", "/admin/logout/", (OK, OK, OK, SIGN_IN)),
        Row("admin:password_change", "GET", "/admin/password_change/", ADMIN_SITE),
        Row("admin:password_change_done", "GET", "/admin/password_change/done/", ADMIN_SITE),
        Row("admin:jsi18n", "GET", "/admin/jsi18n/", ADMIN_SITE),
        Row("admin:autocomplete", "GET",
            "/admin/autocomplete/?app_label=tickets&model_name=ticket&field_name=customer",
            ADMIN_SITE),
        # No model has get_absolute_url: "view on site" has nowhere to go.
        Row("admin:view_on_site", "GET", "/admin/r/{ticket_type}/{ticket}/", as_admin(404)),
        Row("route:admin/(?P<url>.*)$", "GET", "/admin/no-such-page/", as_admin(404)),
    ]  # fmt: skip
    app_labels = sorted({model._meta.app_label for model in admin.site._registry})
    # An app's page lists the models the admin may see: none (auth, django_q for the admins
    # group) is a 404.
    rows += [
        Row("admin:app_list", "GET", f"/admin/{label}/",
            as_admin(OK if request.user.has_module_perms(label) else 404))
        for label in app_labels
    ]  # fmt: skip
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda m: m[0]._meta.label):
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pk = admin_object_id(model, world)
        obj = model_admin.get_object(request, pk)
        viewable = model_admin.has_view_or_change_permission(request, obj)
        deletable = model_admin.has_delete_permission(request, obj)
        addable = model_admin.has_add_permission(request)
        rows += [
            Row(f"{name}_changelist", "GET", f"/{prefix}", as_admin(viewable)),
            Row(f"{name}_add", "GET", f"/{prefix}add/", as_admin(addable)),
            Row(f"{name}_change", "GET", f"/{prefix}{pk}/change/", as_admin(viewable)),
            Row(f"{name}_history", "GET", f"/{prefix}{pk}/history/", as_admin(viewable)),
            Row(f"{name}_delete", "GET", f"/{prefix}{pk}/delete/", as_admin(deletable)),
            Row(f"{name}_delete", "POST", f"/{prefix}{pk}/delete/", as_admin(deletable),
                {"post": "yes"}),
            Row(f"route:{prefix}<path:object_id>/", "GET", f"/{prefix}{pk}/", as_admin(True)),
        ]  # fmt: skip
    agent = world.users["agent"]
    user_admin = admin.site._registry[type(agent)]
    rows.append(
        Row("admin:auth_user_password_change", "GET", f"/admin/auth/user/{agent.pk}/password/",
            as_admin(user_admin.has_change_permission(request, agent)))
    )  # fmt: skip
    return rows


# --- Walking the URL resolver ---------------------------------------------------------------------


def url_keys(patterns=None, prefix: str = "", namespace: str = "") -> set[str]:
    """Every URL pattern the site serves: its namespaced name, or its full route."""
    keys = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            keys |= url_keys(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            keys.add(f"{namespace}{pattern.name}" if pattern.name else f"route:{route}")
    return keys


# --- Running the cells ----------------------------------------------------------------------------


@pytest.fixture
def world(settings) -> World:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "matrix",
        }
    }
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_ALLOW_HTTP = True
    agent, admin_user = factories.AgentFactory(), factories.AdminFactory()
    for user in (agent, admin_user):
        Token.objects.create(user=user)
    order = factories.OrderFactory()
    ticket = factories.TicketFactory(customer=order.customer, order=order)
    factories.MessageFactory(ticket=ticket)
    resolved = factories.TicketFactory(customer=order.customer, resolved=True)
    survey = factories.CsatSurveyFactory(ticket=resolved)
    endpoint = factories.EndpointFactory(url="http://127.0.0.1:9/hook")
    delivery = factories.DeliveryFactory(endpoint=endpoint)
    factories.AttemptFactory(delivery=delivery)
    ids = {
        "ticket": ticket.pk,
        "resolved_ticket": resolved.pk,
        "ticket_type": ContentType.objects.get_for_model(Ticket).pk,
        "customer": order.customer_id,
        "order": order.pk,
        "shop": order.shop_id,
        "agent": agent.pk,
        "saved_reply": factories.SavedReplyFactory().pk,
        "notification": factories.NotificationFactory(customer=order.customer).pk,
        "endpoint": endpoint.pk,
        "delivery": delivery.pk,
        "shop_domain": order.shop.domain,
        "inbound": factories.InboundWebhookFactory(shop=order.shop, status="dead").pk,
    }
    a_guess = secrets.token_urlsafe(32)  # well formed, but nobody was sent it
    return World(
        ids=ids,
        users={"anonymous": None, "customer": None, "agent": agent, "admin": admin_user},
        tokens={"anonymous": a_guess, "customer": survey.token, "agent": a_guess, "admin": a_guess},
    )


def client_for(role: str, world: World) -> Client:
    user = world.users[role]
    if user is None:
        return Client()
    # The inbox and the admin go by the session, the API by the token (which DRF tries first).
    client = Client(headers={"Authorization": f"Token {Token.objects.get(user=user).key}"})
    client.force_login(user)
    return client


def fill(value, world: World, role: str):
    if isinstance(value, str) and value[1:-1] in world.ids and value == f"{{{value[1:-1]}}}":
        return world.ids[value[1:-1]]  # a lone placeholder keeps its type (ids are numbers)
    if isinstance(value, str):
        return value.format(**world.ids, csat=world.tokens[role])
    if isinstance(value, list):
        return [fill(v, world, role) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, world, role) for k, v in value.items()}
    return value


def outcome(response) -> str | int:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = response["Location"]
        if location.startswith("/accounts/login/"):
            return SIGN_IN
        if location.startswith("/admin/login/"):
            return ADMIN_SIGN_IN
        return OK
    return OK if 200 <= status < 300 else status


FINGERPRINTED = [
    Shop, Customer, Order, Fulfillment, Refund, InboundWebhook, DataExport, Tag, Ticket, Message,
    TicketEvent, SavedReply, CsatSurvey, NotificationTemplate, Notification, Endpoint, Event,
    Delivery, Attempt, OrmQ,
]  # fmt: skip


def fingerprint() -> dict:
    """Every row of every Bookbag model (and the task queue): what a refused request must not
    change."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in FINGERPRINTED}


class Rollback(Exception):
    pass


def run_cell(client: Client, row: Row, world: World, role: str, baseline: dict):
    """(outcome, response, whether a refused request changed the database); whatever the cell
    wrote is rolled back afterwards, so every cell starts from `baseline`."""
    path = fill(row.path, world, role)
    body = fill(row.body, world, role)
    cookies = copy.deepcopy(client.cookies)  # signing out must not sign out the next cell
    cache.clear()  # rate limits count per cell, not per run
    changed = False
    try:
        with transaction.atomic():
            if path.startswith(("/api/", "/webhooks/")):
                response = client.generic(
                    row.method, path, b"" if body is None else json.dumps(body),
                    content_type="application/json", headers=fill(row.headers, world, role),
                )  # fmt: skip
            elif row.method == "POST":
                response = client.post(path, body or {})
            else:
                response = client.generic(row.method, path)
            result = outcome(response)
            if result != OK and row.method not in ("GET", "HEAD"):
                changed = fingerprint() != baseline
            raise Rollback
    except Rollback:
        pass
    finally:
        client.cookies = cookies
    return result, response, changed


def all_rows(world: World) -> list[Row]:
    site, inbox, api = rows_for_the_site(), rows_for_the_inbox(), rows_for_the_api()
    return site + inbox + api + rows_for_the_admin(world)


def test_every_url_the_site_serves_has_a_row_in_the_matrix(world):
    served = url_keys()
    in_matrix = {row.key for row in all_rows(world)}

    assert served - in_matrix == set(), "URLs nobody decided about: add rows for them"
    assert in_matrix - served == set(), "rows for URLs that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_cells_of_the_matrix(world, role):
    client = client_for(role, world)
    column = ROLES.index(role)
    rows = all_rows(world)
    baseline = fingerprint()
    wrong = []

    for row in rows:
        expected = row.expect[column]
        got, response, changed = run_cell(client, row, world, role, baseline)
        if got != expected:
            wrong.append(f"{row.method} {fill(row.path, world, role)}: expected {expected}, got "
                         f"{got} {response.content[:160]!r}")  # fmt: skip
        elif changed:
            wrong.append(f"{row.method} {fill(row.path, world, role)}: refused, yet rows changed")

    assert not wrong, f"{role}:\n" + "\n".join(wrong)
