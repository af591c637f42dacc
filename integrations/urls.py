from django.urls import re_path

from integrations.shopify.receiver import shopify_webhook

urlpatterns = [
    # With or without the slash: APPEND_SLASH would answer a POST with 301 (a failure to Shopify).
    re_path(r"^webhooks/shopify/?$", shopify_webhook, name="shopify-webhook"),
]
