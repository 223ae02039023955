"""Creating, revoking and checking API tokens; the per-token throttle.

A token is ``lz_`` and 43 characters of ``secrets.token_urlsafe(32)`` (256 random bits). Only its SHA-256
is stored: a fast hash is enough for a secret with that much entropy (nobody can guess their way to a
preimage), unlike a password, and it lets every request find its token by one indexed lookup instead of
a bcrypt round per request. The whole token is shown once, when it is made.
"""
from __future__ import annotations

import hashlib
import math
import secrets
import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select

from crm.accounts.zones import Zone
from crm.api.models import ApiToken
from crm.db import utcnow
from crm.errors import ServiceError
from crm.extensions import db
from crm.permissions import PlatformActor, require

TOKEN_PREFIX = "lz_"
SHOWN_PREFIX = 10  # characters of the token the pages show
MAX_DAYS = 366
THROTTLE_KEY = "lianzhao_api_throttle"


class TokenRefused(Exception):
    """401: no token, an unknown one, or one revoked or expired."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _new(kind: str, name: str, scope: str, days: int | None, **columns) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name:
        raise ServiceError("请填写令牌名称", field="name")
    if len(name) > 100:
        raise ServiceError("令牌名称不能超过 100 个字", field="name")
    if scope not in ("read", "write"):
        raise ServiceError("请选择令牌权限", field="scope")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ServiceError(f"有效期须在 1–{MAX_DAYS} 天之间", field="days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(kind=kind, name=name, scope=scope, prefix=secret[:SHOWN_PREFIX], secret_hash=hash_secret(secret),
                     expires_at=utcnow() + timedelta(days=days) if days else None, **columns)
    db.session.add(token)
    db.session.flush()
    return token, secret


def create_personal_token(user, name: str, scope: str, days: int | None) -> tuple[ApiToken, str]:
    """A token acting as ``user``; ``scope`` read or write (write still asks the policy for each change)."""
    return _new("personal", name, scope, days, user_id=user.id, created_by_id=user.id)


def create_platform_token(actor, name: str, zone_ids, days: int | None) -> tuple[ApiToken, str]:
    """A system's token, read-only, for the zones it is bound to (the admin's)."""
    require(actor, "api.platform_tokens")
    zones = db.session.scalars(select(Zone).where(Zone.id.in_(list(zone_ids or [])))).all()
    if not zones:
        raise ServiceError("请至少选择一个园区", field="zone_ids")
    token, secret = _new("platform", name, "read", days, created_by_id=actor.id)
    token.zones = list(zones)
    db.session.flush()
    return token, secret


def personal_tokens(user) -> list[ApiToken]:
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.kind == "personal")
                              .order_by(ApiToken.id.desc())).all()


def platform_tokens() -> list[ApiToken]:
    return db.session.scalars(select(ApiToken).where(ApiToken.kind == "platform").order_by(ApiToken.id.desc())).all()


def own_token_or_none(user, token_id: int) -> ApiToken | None:
    """One of ``user``'s personal tokens (another person's answers as missing)."""
    return db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def authenticate(header: str | None) -> tuple[ApiToken, object]:
    """The token of an ``Authorization: Bearer …`` header and the actor it acts as, or ``TokenRefused``."""
    scheme, _, secret = (header or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        raise TokenRefused("缺少有效的访问令牌（Authorization: Bearer …）")
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret)))
    if token is None:
        raise TokenRefused("访问令牌无效")
    if token.revoked_at is not None:
        raise TokenRefused("访问令牌已撤销")
    if token.expires_at is not None and _aware(token.expires_at) <= datetime.now(UTC):
        raise TokenRefused("访问令牌已过期")
    if token.kind == "platform":
        actor = PlatformActor(display_name=f"平台令牌：{token.name}", zone_ids=tuple(token.zone_ids),
                              zones=tuple(token.zones))
    else:
        actor = token.user
        if actor is None or not actor.active:
            raise TokenRefused("令牌所属账号已停用")
    return token, actor


class ApiThrottle:
    """Calls per token per minute, in the sign-in throttle's storage (Redis shared by every worker)."""

    def __init__(self, storage_uri: str, per_minute: int):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.item = RateLimitItemPerMinute(per_minute, 1, namespace="lianzhao-api-token")

    def hit(self, token: ApiToken) -> int:
        """0 when the call may go on (and counts it), else the seconds to wait."""
        key = token.secret_hash[:32]  # not the id: ids come back after a rollback
        if self.limiter.hit(self.item, key):
            return 0
        reset_at = self.limiter.get_window_stats(self.item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def init_throttle(app) -> None:
    app.extensions[THROTTLE_KEY] = ApiThrottle(app.config["RATELIMIT_STORAGE_URI"],
                                               app.config.get("API_CALLS_PER_MINUTE", 120))


def throttle() -> ApiThrottle:
    return current_app.extensions[THROTTLE_KEY]
