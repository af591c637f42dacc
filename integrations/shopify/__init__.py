"""The Shopify provider: verification, the receiver, topic handlers (shared/STYLE.md #4)."""
