"""Migration operations for what only PostgreSQL has (shared/STYLE.md 19): they apply on
PostgreSQL and are no-ops on SQLite, so `make run` keeps working in the embedded mode."""

from django.db import migrations

# pg_trgm may not be installable by the database user: then the migration still applies and
# the search it would speed up stays a sequential scan.
_CREATE_PG_TRGM = """
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
    RAISE NOTICE 'pg_trgm is not available: icontains searches stay sequential scans';
END $$;
"""


class RunSQLOnPostgreSQL(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(name: str, table: str, column: str) -> RunSQLOnPostgreSQL:
    """A GIN trigram index on UPPER(column): what Django's portable `icontains` and `iexact`
    compile to on PostgreSQL (`UPPER(col::text) LIKE UPPER('%term%')`), so they can use it."""
    # The names are constants written in migrations, never input.
    index = f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin "
    index += f"(UPPER({column}::text) gin_trgm_ops)"
    create = (
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') "  # noqa: S608
        f"THEN {index}; END IF; END $$;"
    )
    return RunSQLOnPostgreSQL(_CREATE_PG_TRGM + create, f"DROP INDEX IF EXISTS {name}")
