"""Serializer fields that take JSON values as the schema types them. DRF coerces: it takes 42
for a string field, "42" for an integer and "yes" for a boolean. The API refuses a value of
the wrong JSON type (400), so what the OpenAPI schema promises is what the server accepts."""

from rest_framework import serializers


class _JSONTyped:
    json_types: tuple[type, ...] = (str,)
    json_type_name = "string"

    def to_internal_value(self, data):
        wrong_bool = isinstance(data, bool) and bool not in self.json_types
        if wrong_bool or not isinstance(data, self.json_types):
            raise serializers.ValidationError(f"Must be a {self.json_type_name}.", code="invalid")
        return super().to_internal_value(data)


class CharField(_JSONTyped, serializers.CharField):
    pass


class EmailField(_JSONTyped, serializers.EmailField):
    pass


class URLField(_JSONTyped, serializers.URLField):
    pass


class RegexField(_JSONTyped, serializers.RegexField):
    pass


class IntegerField(_JSONTyped, serializers.IntegerField):
    json_types = (int,)
    json_type_name = "whole number"


class BooleanField(_JSONTyped, serializers.BooleanField):
    json_types = (bool,)
    json_type_name = "boolean (true or false)"


class PrimaryKeyRelatedField(_JSONTyped, serializers.PrimaryKeyRelatedField):
    json_types = (int,)
    json_type_name = "whole number (an id)"
