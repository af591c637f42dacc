"""Log changelists never count a big table in full."""

import pytest
from django.db import connection

from bookbag.core.admin_helpers import CheapPaginator
from integrations.models import InboundWebhook
from tests import factories

pytestmark = pytest.mark.django_db


class SmallLimitPaginator(CheapPaginator):
    count_limit = 3


def test_a_filtered_list_is_counted_up_to_the_limit_only():
    factories.InboundWebhookFactory.create_batch(5)

    paginator = SmallLimitPaginator(InboundWebhook.objects.filter(topic="orders/create"), 2)

    assert (paginator.count, paginator.num_pages) == (3, 2)


def test_a_list_shorter_than_the_limit_is_counted_exactly():
    factories.InboundWebhookFactory.create_batch(2)

    assert SmallLimitPaginator(InboundWebhook.objects.all(), 2).count == 2


@pytest.mark.postgres
def test_an_unfiltered_big_table_is_counted_from_the_planner_estimate():
    factories.InboundWebhookFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {InboundWebhook._meta.db_table}")

    assert SmallLimitPaginator(InboundWebhook.objects.all(), 2).count == 5
