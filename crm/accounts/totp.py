"""Two-factor sign-in: TOTP (RFC 6238, 6 digits, 30 s) with single-use recovery codes (ASVS 2.7-2.8).

A secret becomes active only after its first code is confirmed. Each code is accepted once: the
time-step of the last accepted code is kept, and a code of that step or an earlier one is refused.
Recovery codes are shown once and kept only as salted hashes (RECOVERY_CODE_HASH_METHOD); each works once.
"""
from __future__ import annotations

import hmac
import re
import secrets
import time

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from werkzeug.security import check_password_hash, generate_password_hash

from crm.db import utcnow
from crm.accounts.models import User

RECOVERY_CODE_COUNT = 10
# 31 letters and digits that cannot be mistaken for one another; 10 of them carry ~50 bits.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
# A code from the previous or next 30 s step is accepted too, for clocks a little off.
VALID_WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=current_app.config["TOTP_ISSUER"])


def qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG markup: paths only, no style attribute or script (CSP-safe)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title="两步验证二维码", svgclass="totp-qr", lineclass=None,
    )
    return Markup(svg)  # segno's own markup, with the URI encoded in the path data, not as text


def grouped(secret: str) -> str:
    """The secret as a person types it: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def is_totp_code(code: str) -> bool:
    return re.fullmatch(r"\d{6}", re.sub(r"\s", "", code or "")) is not None


def verify_totp(user: User, code: str, now: float | None = None) -> bool:
    """Accept ``code`` for ``user``'s active secret once: a replay of an accepted code is refused."""
    if not user.has_totp:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def _normalize_recovery_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def use_recovery_code(user: User, code: str) -> bool:
    """Accept one of ``user``'s recovery codes, and strike it off."""
    typed = _normalize_recovery_code(code)
    if len(typed) != _RECOVERY_LENGTH or not user.recovery_code_hashes:
        return False
    for stored in user.recovery_code_hashes:
        if check_password_hash(stored, typed):
            user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != stored]
            return True
    return False


def new_recovery_codes(user: User) -> list[str]:
    """Give ``user`` a fresh set of recovery codes; returns them in plain text, to show once."""
    method = current_app.config["RECOVERY_CODE_HASH_METHOD"]
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_code_hashes = [generate_password_hash(code, method=method) for code in codes]
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def begin_enrolment(user: User) -> str:
    user.totp_pending_secret = new_secret()
    return user.totp_pending_secret


def confirm_enrolment(user: User, code: str, now: float | None = None) -> list[str] | None:
    """Activate the pending secret if ``code`` matches it; returns the new recovery codes, or None."""
    if not user.totp_pending_secret:
        return None
    step = _matching_step(user.totp_pending_secret, code, now)
    if step is None:
        return None
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step  # the confirming code cannot then sign anyone in
    return new_recovery_codes(user)


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_code_hashes = None
