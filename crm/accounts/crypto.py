"""Secrets kept encrypted at rest: the TOTP secrets. Fernet (AES-128-CBC + HMAC-SHA256, from the maintained
``cryptography`` library), keyed from the environment.

``TOTP_ENCRYPTION_KEYS``: one or more Fernet keys, comma-separated, the first encrypting and all of them
decrypting (rotate by putting a new key first, run ``flask rotate-totp-keys``, then drop the old one).
Production refuses to start without it; a development machine makes one in instance/totp_key.
"""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator


def cipher(keys: str | None = None) -> MultiFernet:
    keys = keys if keys is not None else current_app.config["TOTP_ENCRYPTION_KEYS"]
    parts = [k.strip() for k in (keys or "").split(",") if k.strip()]
    if not parts:
        raise RuntimeError("TOTP_ENCRYPTION_KEYS is not set")
    return MultiFernet([Fernet(k.encode("ascii")) for k in parts])


def encrypt(value: str, keys: str | None = None) -> str:
    return cipher(keys).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str, keys: str | None = None) -> str:
    try:
        return cipher(keys).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise RuntimeError("a stored secret does not decrypt with TOTP_ENCRYPTION_KEYS (wrong or missing key)") from None


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


class EncryptedString(TypeDecorator):
    """A text column stored encrypted: the application reads and writes plain text."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)
