"""包保 service: who serves each firm, the firms' requests (企业诉求), and their ratings of officers."""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, TimestampMixin, VersionedMixin
from crm.extensions import db


class ServiceAssignment(AuditedMixin, VersionedMixin, db.Model):
    """The 包保干部 (a user) and the 责任领导 (a user, or a name and title) of a local firm or a signed
    project of a zone."""

    __tablename__ = "service_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    leader_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    leader_name: Mapped[str] = mapped_column(String(50), default="")
    leader_title: Mapped[str] = mapped_column(String(50), default="")

    enterprise = relationship("Enterprise", lazy="joined")
    officer = relationship("User", foreign_keys=[officer_id], lazy="joined")
    leader = relationship("User", foreign_keys=[leader_user_id], lazy="joined")

    @property
    def leader_text(self) -> str:
        if self.leader is not None:
            return self.leader.display_name
        return " ".join(filter(None, [self.leader_name, self.leader_title]))


class EnterpriseRequest(AuditedMixin, VersionedMixin, db.Model):
    """A firm's request (企业诉求): 受理 → 办理中 → 办结 with a reply, then the firm's rating."""

    __tablename__ = "enterprise_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    category: Mapped[str] = mapped_column(String(10))
    received_on: Mapped[date] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="受理")
    reply: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None]
    rating: Mapped[str | None] = mapped_column(String(10))

    enterprise = relationship("Enterprise", lazy="joined")

    __table_args__ = (Index("ix_enterprise_requests_zone_status", "zone_id", "status"),)


class ZoneRequestSetting(TimestampMixin, db.Model):
    """A zone's working days to answer a category of request."""

    __tablename__ = "zone_request_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    category: Mapped[str] = mapped_column(String(10))
    days: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("zone_id", "category", name="uq_zone_request_settings"),)


class OfficerRating(AuditedMixin, db.Model):
    """企业测评: a firm's rating of its service officer for a half-year ('2026H2')."""

    __tablename__ = "officer_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    period: Mapped[str] = mapped_column(String(6), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rating: Mapped[str] = mapped_column(String(10))

    enterprise = relationship("Enterprise", lazy="joined")
    officer = relationship("User", lazy="joined")

    __table_args__ = (UniqueConstraint("period", "enterprise_id", "officer_id", name="uq_officer_ratings"),)
