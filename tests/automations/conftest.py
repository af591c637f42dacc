import pytest

from integrations.models import Customer
from tests.integrations.shopify import fixture

ADA_ID = 9007199254740993


@pytest.fixture
def ada(shop):
    """The customer of the fixtures' order #1001, known before Shopify mentions her."""
    return Customer.objects.create(
        shop=shop,
        shopify_id=ADA_ID,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
    )


@pytest.fixture
def order(deliver, ada):
    deliver("orders/create")
    return ada.orders.get()


@pytest.fixture
def open_ticket_about_order(order):
    from tickets import services

    return services.open_ticket(
        shop=order.shop, customer=order.customer, order=order,
        subject="Where is my order?", body="Hi, any news on #1001?",
    )  # fmt: skip


__all__ = ["fixture"]
