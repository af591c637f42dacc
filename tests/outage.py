"""A real database outage for one block: the default connection points at a database that is not
there (a port nothing listens on, or a file in a missing folder), and is put back afterwards."""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def database_unreachable():
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/dir/bookbag.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
