"""Every error the API gives has one shape, `{"detail", "code"}` plus `errors` (field →
messages) for invalid input, whatever went wrong and wherever: a client needs one error parser."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bookbag.core.models import OutboxStatus
from tests.factories import DeliveryFactory, TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["code"] == code, body
    if code == "invalid":
        assert set(body) == {"detail", "code", "errors"}
        assert all(
            isinstance(messages, list) and all(isinstance(m, str) for m in messages)
            for messages in body["errors"].values()
        ), body
    else:
        assert set(body) == {"detail", "code"}, body
    return body


def test_anonymous_bad_token_and_forbidden(agent_api):
    assert_error_shape(APIClient().get("/api/tickets/"), 401, "not_authenticated")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_error_shape(client.get("/api/tickets/"), 401, "authentication_failed")
    client.credentials(HTTP_AUTHORIZATION="Bearer something")
    assert_error_shape(client.get("/api/tickets/"), 401, "not_authenticated")
    assert_error_shape(agent_api.get("/api/webhook-endpoints/"), 403, "permission_denied")


def test_not_found_everywhere(agent_api):
    assert_error_shape(agent_api.get("/api/tickets/987654/"), 404, "not_found")
    assert_error_shape(agent_api.get("/api/no-such-thing/"), 404, "not_found")
    assert_error_shape(agent_api.post("/api/no-such-thing/", {}), 404, "not_found")
    assert_error_shape(agent_api.get("/api/tickets/987654/messages/"), 404, "not_found")
    assert_error_shape(agent_api.get("/api/customers/not-an-id/"), 404, "not_found")


def test_method_media_type_and_parse_errors(agent_api):
    ticket = TicketFactory()
    assert_error_shape(agent_api.delete(f"/api/tickets/{ticket.pk}/"), 405, "method_not_allowed")
    assert_error_shape(
        agent_api.post("/api/tickets/", "a=b", content_type="application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    )
    assert_error_shape(
        agent_api.post("/api/tickets/", "{", content_type="application/json"), 400, "parse_error"
    )
    assert_error_shape(
        agent_api.get("/api/tickets/", HTTP_ACCEPT="application/xml"), 406, "not_acceptable"
    )


def test_a_body_over_the_upload_limit_is_a_413_with_the_error_body(agent_api, store, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"subject": "Where is my order?", "body": "x" * 20_000, "customer_email": "a@b.test"}
    response = agent_api.post("/api/tickets/", body, format="json")
    assert_error_shape(response, 413, "request_too_large")
    assert "10,000 bytes" in response.json()["detail"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "body",
    [[], "a string", 42, None, {"subject": ["a", "list"], "body": {"an": "object"}}],
    ids=["array", "string", "number", "null", "wrong-types"],
)
def test_a_body_of_the_wrong_json_type_is_a_validation_error(agent_api, body):
    response = agent_api.post("/api/tickets/", body, format="json")
    assert_error_shape(response, 400, "invalid")


def test_validation_errors_name_their_fields(agent_api, store):
    body = assert_error_shape(agent_api.post("/api/tickets/", {"subject": ""}), 400, "invalid")
    assert {"subject", "body"} <= set(body["errors"])


def test_errors_inside_a_list_are_named_by_their_position(agent_api, store):
    response = agent_api.post(
        "/api/tickets/",
        {"subject": "x", "body": "y", "customer_email": "a@example.com",
         "tags": ["fine", "x" * 65, 42]},
    )  # fmt: skip
    body = assert_error_shape(response, 400, "invalid")
    assert set(body["errors"]) == {"tags.1", "tags.2"}
    assert body["errors"]["tags.2"] == ["Must be a string."]


def test_query_parameter_errors_are_validation_errors(agent_api):
    body = assert_error_shape(agent_api.get("/api/tickets/", {"cursor": "x"}), 400, "invalid")
    assert "cursor" in body["errors"]
    body = assert_error_shape(agent_api.get("/api/orders/", {"shop": "x"}), 400, "invalid")
    assert "shop" in body["errors"]


def test_conflicts_and_idempotency_errors(admin_api, store):
    delivery = DeliveryFactory(
        status=OutboxStatus.IN_PROGRESS, locked_until=timezone.now() + timedelta(minutes=1)
    )
    assert_error_shape(admin_api.post(f"/api/deliveries/{delivery.pk}/resend/"), 409, "conflict")
    new = {"subject": "x", "body": "y", "customer_email": "a@example.com"}
    admin_api.post("/api/tickets/", new, HTTP_IDEMPOTENCY_KEY="k")
    assert_error_shape(
        admin_api.post("/api/tickets/", {**new, "body": "z"}, HTTP_IDEMPOTENCY_KEY="k"),
        422,
        "idempotency_key_reused",
    )
    assert_error_shape(
        admin_api.post("/api/tickets/", new, HTTP_IDEMPOTENCY_KEY="k" * 300), 400, "invalid"
    )


def test_throttled(agent_api, settings):
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "1/hour", "anon": None}}
    settings.REST_FRAMEWORK = rest
    agent_api.get("/api/tickets/")
    assert_error_shape(agent_api.get("/api/tickets/"), 429, "throttled")


def test_the_schema_describes_the_error_shape_on_every_operation(anonymous_api):
    schema = anonymous_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = schema.json()
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}
    assert error["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status in ("400", "401", "403", "404", "429"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method)
            if "requestBody" in operation:
                assert {"413", "415"} <= set(operation["responses"]), (path, method)
