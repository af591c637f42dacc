# The inbox and API search customers by name and email and orders by name with `icontains`
# (tickets/queries.py `search`); on PostgreSQL these trigram indexes serve it.

from django.db import migrations

from bookbag.core.migration_ops import trigram_index


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_fulfillment_shipment_history")]

    operations = [
        trigram_index("customer_email_trgm_idx", "integrations_customer", "email"),
        trigram_index("customer_first_name_trgm_idx", "integrations_customer", "first_name"),
        trigram_index("customer_last_name_trgm_idx", "integrations_customer", "last_name"),
        trigram_index("order_name_trgm_idx", "integrations_order", "name"),
    ]
