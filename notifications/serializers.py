"""API representation of customer emails (the notification outbox), read-only."""

from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    to_email = serializers.CharField(read_only=True)

    class Meta:
        model = Notification
        fields = (
            "id", "shop", "customer", "ticket", "template_key", "to_email", "subject", "text",
            "status", "attempts", "next_attempt_at", "last_error", "sent_at", "created_at",
            "updated_at",
        )  # fmt: skip
        read_only_fields = fields
