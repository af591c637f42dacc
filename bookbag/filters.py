"""Filter pieces shared by the API's filtersets. Query parameters reach the ORM only through
form fields: a NUL byte, an out-of-range integer or a malformed date is a 400, never a
database error (shared/TRAPS.md: PostgreSQL refuses NUL in text and integers beyond bigint)."""

import datetime as dt

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters
from rest_framework.exceptions import ValidationError

MAX_BIGINT = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A primary key or Shopify id: a whole number that fits a bigint."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(*args, **kwargs)


def id_filter(description: str, **kwargs) -> IdFilter:
    """An IdFilter documented with its bounds (a fuzzer then keeps to them)."""
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT, "description": description}
    return extend_schema_field(schema)(IdFilter(**kwargs))


class _StrictBooleanField(forms.Field):
    """`true` or `false` (also 1 and 0); anything else is an error, not "no filter"."""

    values = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.values[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError("Must be true or false.", code="invalid") from None


class BooleanFilter(django_filters.BooleanFilter):
    field_class = _StrictBooleanField


class _UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time that can be expressed in UTC: `0001-01-01T00:00:00+05:00` is a valid
    time but falls before year 1 in UTC, and converting it (SQLite stores naive UTC) raised
    OverflowError, a 500."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                raise forms.ValidationError(
                    "Out of range: give a time between the years 1 and 9999 in UTC.",
                    code="invalid",
                ) from None
        return value


class SinceFilter(django_filters.IsoDateTimeFilter):
    field_class = _UTCDateTimeField


def since_filter(field_name: str, description: str) -> django_filters.IsoDateTimeFilter:
    """Rows changed at or after an ISO 8601 time (a filter: never the pagination key)."""
    return SinceFilter(field_name=field_name, lookup_expr="gte", help_text=description)


class SearchFilter(filters.SearchFilter):
    """DRF's search (it already refuses NUL), with the term's length bounded: every word of it
    becomes an `icontains` over each search field."""

    max_length = 200

    def get_search_terms(self, request):
        value = once(request, self.search_param) or ""
        if len(value) > self.max_length:
            raise ValidationError({self.search_param: [f"At most {self.max_length} characters."]})
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:  # a NUL byte: name the parameter, as every filter does
            raise ValidationError({self.search_param: exc.detail}) from exc

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "string", "maxLength": self.max_length}
        return parameters


def once(request, name: str) -> str | None:
    """A query parameter that takes one value: given twice it is a 400, not "the last one"."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    return values[0] if values else None


class FilterBackend(DjangoFilterBackend):
    """django-filter ignores a parameter given empty (`?updated_since=`) and takes the last of
    repeated values; the API refuses both, so a parameter that is sent always means what the
    schema says it means."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {}
        for name, filter_ in filterset.filters.items():
            values = request.query_params.getlist(name)
            if not values:
                continue
            if not any(v.strip() for v in values):
                errors[name] = ["May not be empty: leave the parameter out instead."]
            elif len(values) > 1 and not isinstance(filter_, django_filters.MultipleChoiceFilter):
                errors[name] = ["Give this parameter once."]
        if errors:
            raise ValidationError(errors)
        return filterset
