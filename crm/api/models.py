"""API tokens: personal ones (a user's, acting as that user) and platform ones (a system's, bound to zones)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.zones import Zone
from crm.db import utcnow
from crm.extensions import db

TOKEN_KINDS = {"personal": "个人令牌", "platform": "平台令牌"}
SCOPES = {"read": "只读", "write": "读写"}

api_token_zones = Table(
    "api_token_zones",
    db.metadata,
    Column("token_id", ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("zone_id", ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True),
)


class ApiToken(db.Model):
    """A bearer token. Only the SHA-256 of the secret is stored; ``prefix`` (its first characters) is
    what the pages show to tell tokens apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # personal / platform
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10), default="read")  # read / write
    # A personal token acts as its user; a platform token has none (it acts for its zones).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    zones: Mapped[list[Zone]] = relationship(secondary=api_token_zones, lazy="selectin", order_by=Zone.id)

    @property
    def zone_ids(self) -> list[int]:
        return [zone.id for zone in self.zones]

    @property
    def kind_label(self) -> str:
        return TOKEN_KINDS.get(self.kind, self.kind)

    @property
    def scope_label(self) -> str:
        return SCOPES.get(self.scope, self.scope)

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.kind} {self.prefix}>"
