"""Encrypted-at-rest text for secrets (Fernet from `cryptography`).

Keys come from settings.FIELD_ENCRYPTION_KEYS (any strings; each is stretched to a Fernet key with
SHA-256). The first key encrypts; every key decrypts, so keys can be rotated.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(k.encode()).digest())) for k in keys]
    )


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


class EncryptedTextField(models.TextField):
    """Stores Fernet tokens; Python code sees plain text. Empty stays empty (no secret set)."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                f"cannot decrypt {self.model.__name__}.{self.name}: wrong key"
            ) from exc

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return fernet().encrypt(value.encode()).decode()
