from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import TimestampMixin
from crm.extensions import db


class Chain(TimestampMixin, db.Model):
    __tablename__ = "chains"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    group: Mapped[str] = mapped_column(String(30), default="")
    version: Mapped[str] = mapped_column(String(20), default="")

    segments: Mapped[list[Segment]] = relationship(
        back_populates="chain", order_by="Segment.sort_order"
    )


class Segment(TimestampMixin, db.Model):
    __tablename__ = "segments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(ForeignKey("chains.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    tier: Mapped[str] = mapped_column(String(4))
    value_add: Mapped[int] = mapped_column(default=3)
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(default=0)
    # Set when an admin edits the segment in the UI: `flask chains load` then keeps the database's
    # values and reports where the file differs.
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    chain: Mapped[Chain] = relationship(back_populates="segments")


class SegmentLink(TimestampMixin, db.Model):
    """Supplier → buyer between two segments, possibly of different chains."""

    __tablename__ = "segment_links"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    from_segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), index=True)
    to_segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), index=True)

    from_segment: Mapped[Segment] = relationship(foreign_keys=[from_segment_id])
    to_segment: Mapped[Segment] = relationship(foreign_keys=[to_segment_id])

    __table_args__ = (UniqueConstraint("from_segment_id", "to_segment_id"),)


class EnterpriseSegment(TimestampMixin, db.Model):
    """An enterprise mapped onto a chain segment; one mapping per enterprise is primary."""

    __tablename__ = "enterprise_segments"
    __audited__ = True

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), primary_key=True, index=True)
    is_primary: Mapped[bool] = mapped_column(default=False)
    is_leader: Mapped[bool] = mapped_column(default=False)  # 链主 of this segment

    segment: Mapped[Segment] = relationship(lazy="joined")
