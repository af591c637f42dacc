"""Cursor pagination for every list of the API (shared/TRAPS.md, "DRF and the API").

Ordered by the primary key, newest first: an unchanging, unique key, so a page never repeats or
skips a row while new rows arrive (DRF's default `-created` ordering is a FieldError here).
"Updated since" is a filter, never the cursor key. A malformed cursor or page size is a 400
(DRF answers 404 for a bad cursor, which reads as "the list is gone").
"""

import re

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from bookbag.filters import once

_POSITION = re.compile(r"[0-9]{1,19}")


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = "Invalid cursor: use the `next` or `previous` link as given."
    cursor_query_description = (
        "Opaque pagination cursor: follow the `next` and `previous` links of a page."
    )
    page_size_query_description = f"Results per page (1 to {max_page_size}, default {page_size})."

    def get_page_size(self, request) -> int:
        raw = once(request, self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Must be an integer from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(raw)

    def decode_cursor(self, request):
        once(request, self.cursor_query_param)
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from exc
        # The position goes into an `id__lt` filter: anything but an integer would be a 500.
        position = cursor.position if cursor is not None else None
        if position is not None and (not _POSITION.fullmatch(position) or int(position) >= 2**63):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": self.page_size_query_description,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
