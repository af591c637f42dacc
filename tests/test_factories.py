"""The factories make valid rows, and the models' constraints refuse what the design forbids."""

import base64
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests import factories as f

pytestmark = pytest.mark.django_db

EVERY_FACTORY = [
    f.UserFactory,
    f.AgentFactory,
    f.AdminFactory,
    f.ShopFactory,
    f.CustomerFactory,
    f.OrderFactory,
    f.FulfillmentFactory,
    f.RefundFactory,
    f.InboundWebhookFactory,
    f.DataExportFactory,
    f.TagFactory,
    f.TicketFactory,
    f.MessageFactory,
    f.TicketEventFactory,
    f.SavedReplyFactory,
    f.CsatSurveyFactory,
    f.NotificationTemplateFactory,
    f.NotificationFactory,
    f.EndpointFactory,
    f.EventFactory,
    f.DeliveryFactory,
    f.AttemptFactory,
]


@pytest.mark.parametrize("factory", EVERY_FACTORY, ids=lambda factory: factory.__name__)
def test_each_factory_saves_a_valid_row_and_a_second_distinct_one(factory):
    first = factory()
    second = factory()

    first.full_clean()
    assert first.pk is not None and second.pk != first.pk
    assert type(first)._default_manager.filter(pk=first.pk).exists()


def test_shopify_ids_are_beyond_float_precision():
    customer = f.CustomerFactory()
    order = f.OrderFactory()

    for shopify_id in (customer.shopify_id, order.shopify_id):
        assert shopify_id > 2**53
        assert int(float(shopify_id)) != shopify_id


def test_an_order_and_its_customer_share_one_shop_and_the_order_looks_like_shopifys():
    order = f.OrderFactory()

    assert order.customer.shop_id == order.shop_id
    assert order.name.startswith("#") and int(order.name[1:]) >= 1000
    assert order.currency == "USD"
    assert isinstance(order.total_price, Decimal)
    assert order.line_items and order.line_items[0]["title"]


def test_related_rows_passed_in_decide_the_shop():
    customer = f.CustomerFactory()
    order = f.OrderFactory(customer=customer)
    fulfillment = f.FulfillmentFactory(order=order)
    ticket = f.TicketFactory(customer=customer, order=order)

    assert order.shop_id == fulfillment.shop_id == ticket.shop_id == customer.shop_id


def test_a_fulfillment_carries_its_orders_id_and_ups_tracking():
    fulfillment = f.FulfillmentFactory()

    fulfillment.full_clean()
    assert fulfillment.order_shopify_id == fulfillment.order.shopify_id
    assert fulfillment.order.shop_id == fulfillment.shop_id
    assert fulfillment.tracking_company == "UPS"
    assert fulfillment.tracking_numbers[0].startswith("1Z")
    assert fulfillment.tracking_urls[0].endswith(fulfillment.tracking_numbers[0])


def test_agents_and_admins_get_their_role_and_the_test_password():
    agent = f.AgentFactory()
    admin = f.AdminFactory()

    assert list(agent.groups.values_list("name", flat=True)) == ["agents"]
    assert not agent.is_staff and not agent.is_superuser
    assert list(admin.groups.values_list("name", flat=True)) == ["admins"]
    assert admin.is_staff and not admin.is_superuser
    assert agent.check_password("password") and admin.check_password("password")


def test_endpoint_secrets_are_whsec_with_32_random_bytes_and_event_ids_are_msg():
    endpoint = f.EndpointFactory()
    event = f.EventFactory()

    assert endpoint.secret.startswith("whsec_")
    assert len(base64.b64decode(endpoint.secret.removeprefix("whsec_"))) == 32
    assert f.EndpointFactory().secret != endpoint.secret
    assert event.message_id.startswith("msg_")
    assert isinstance(event.payload, bytes)


def test_a_second_order_with_the_same_shop_and_shopify_id_is_refused():
    order = f.OrderFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        f.OrderFactory(shop=order.shop, customer=order.customer, shopify_id=order.shopify_id)


def test_the_same_shopify_order_id_may_exist_in_two_shops():
    order = f.OrderFactory()

    other = f.OrderFactory(shopify_id=order.shopify_id)

    assert other.shop_id != order.shop_id


def test_two_email_only_customers_of_one_shop_coexist():
    shop = f.ShopFactory()

    first = f.CustomerFactory(shop=shop, email_only=True)
    second = f.CustomerFactory(shop=shop, shopify_id=None)

    assert first.shopify_id is None and second.shopify_id is None
    first.full_clean()


def test_a_second_customer_with_the_same_shop_and_shopify_id_is_refused():
    customer = f.CustomerFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        f.CustomerFactory(shop=customer.shop, shopify_id=customer.shopify_id)


def test_a_second_delivery_of_one_event_to_one_endpoint_is_refused():
    delivery = f.DeliveryFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        f.DeliveryFactory(endpoint=delivery.endpoint, event=delivery.event)


def test_a_csat_score_of_6_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        f.CsatSurveyFactory(score=6)


def test_a_csat_score_of_5_is_accepted():
    survey = f.CsatSurveyFactory(answered=True)

    survey.full_clean()
    assert survey.score == 5


def test_a_resolved_ticket_without_resolved_at_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        f.TicketFactory(status="resolved", resolved_at=None)


def test_a_resolved_ticket_with_resolved_at_is_accepted():
    ticket = f.TicketFactory(resolved=True)

    ticket.full_clean()
    assert ticket.resolved_at is not None
