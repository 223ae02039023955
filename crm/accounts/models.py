from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.crypto import EncryptedString
from crm.db import TimestampMixin
from crm.extensions import db
from crm.accounts.zones import Zone

ROLES = {
    "officer": "招商专员",
    "chief": "园区负责人",
    "admin": "市投促中心管理员",
    "viewer": "领导（只读）",
}

user_zones = Table(
    "user_zones",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("zone_id", ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __audited__ = True
    # Secrets and sign-in bookkeeping stay out of the audit log (the security log records sign-ins).
    __audit_exclude__ = frozenset({
        "password_hash", "last_login_at", "totp_secret", "totp_pending_secret", "totp_last_step",
        "recovery_code_hashes",
    })

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped at sign-out, password change, disabling and 强制下线: cookies carrying an older value stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set by an admin (and by an admin's password reset): every page leads to 修改密码 until done.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Two-factor sign-in (TOTP, RFC 6238). The pending secret waits for its first code; the last
    # time-step used refuses a replay of the same code; recovery codes are kept only as hashes.
    # Secrets are stored encrypted with TOTP_ENCRYPTION_KEYS (crm/accounts/crypto.py).
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(255), default=None)
    totp_pending_secret: Mapped[str | None] = mapped_column(EncryptedString(255), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    recovery_code_hashes: Mapped[list[str] | None] = mapped_column(JSON, default=None)

    zones: Mapped[list[Zone]] = relationship(secondary=user_zones, lazy="selectin", order_by=Zone.id)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def recovery_codes_left(self) -> int:
        return len(self.recovery_code_hashes or [])

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def zone_ids(self) -> list[int]:
        return [zone.id for zone in self.zones]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
