"""The security log: sign-ins, failures, throttling, two-factor events and account changes, in UTC.

Text a visitor typed (a username) is stored with its control characters escaped, so a log line
cannot be forged: see ``crm.accounts.security_log.escape_control``.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import utcnow
from crm.extensions import db
from crm.accounts.models import User

SECURITY_EVENTS = {
    "login_ok": "登录成功",
    "login_failed": "登录失败",
    "login_throttled": "登录被限流",
    "logout": "退出登录",
    "password_changed": "修改密码",
    "totp_enrolled": "启用两步验证",
    "totp_disabled": "停用两步验证",
    "totp_failed": "两步验证码错误",
    "recovery_code_used": "使用恢复码",
    "user_disabled": "停用账号",
    "sessions_revoked": "强制下线",
    "password_reset_by_admin": "管理员重置密码",
    "api_call": "API 调用",
    "api_refused": "API 令牌被拒绝",
    "api_throttled": "API 调用被限流",
    "api_token_created": "创建 API 令牌",
    "api_token_revoked": "撤销 API 令牌",
}


class SecurityEvent(db.Model):
    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(32), index=True)
    # The account concerned, when there is one; ``username`` is what was typed (escaped).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    username: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")

    user: Mapped[User | None] = relationship(lazy="raise")

    @property
    def event_label(self) -> str:
        return SECURITY_EVENTS.get(self.event, self.event)

    @property
    def at_utc(self) -> str:
        at = self.at if self.at.tzinfo else self.at.replace(tzinfo=UTC)  # SQLite returns naive UTC
        return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def __repr__(self) -> str:
        return f"<SecurityEvent {self.id} {self.event} {self.username}>"
