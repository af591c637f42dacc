# The inbox search matches ticket subjects with `icontains` (tickets/queries.py `search`);
# on PostgreSQL this trigram index serves it.

from django.db import migrations

from bookbag.core.migration_ops import trigram_index


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_inbox_indexes")]

    operations = [trigram_index("ticket_subject_trgm_idx", "tickets_ticket", "subject")]
