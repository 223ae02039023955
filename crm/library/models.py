from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, JSON, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, TimestampMixin, VersionedMixin
from crm.extensions import db

ENTERPRISE_TAGS = ("上市", "500强", "专精特新", "小巨人", "单项冠军", "高新技术企业", "链主", "规上")


class Enterprise(AuditedMixin, VersionedMixin, db.Model):
    """A company in the city-wide library: local to a zone (zone_id set) or a target elsewhere."""

    __tablename__ = "enterprises"
    # The library is shared city-wide: zone_id says where a firm is local, not who may read it.
    __zone_scoped__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    aliases: Mapped[str] = mapped_column(String(500), default="")
    # Search keys derived from the name and aliases, kept in step by the service.
    name_normalized: Mapped[str] = mapped_column(String(200), default="", index=True)
    search_pinyin: Mapped[str] = mapped_column(String(1000), default="")
    region_province: Mapped[str] = mapped_column(String(20), default="")
    region_city: Mapped[str] = mapped_column(String(30), default="")
    region_county: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    industry_code: Mapped[str] = mapped_column(String(10), default="", index=True)
    industry_name: Mapped[str] = mapped_column(String(100), default="")
    main_products: Mapped[str] = mapped_column(String(500), default="")
    registered_capital: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 万元
    annual_revenue: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 万元
    employees: Mapped[int | None]
    above_scale: Mapped[bool] = mapped_column(default=False)  # 规模以上工业企业
    tags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated ENTERPRISE_TAGS
    website: Mapped[str] = mapped_column(String(200), default="")
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    zone = relationship("Zone", lazy="joined")

    __table_args__ = (
        Index("ix_enterprises_zone_deleted", "zone_id", "deleted_at"),
        # Substring search (name, aliases, pinyin) on PostgreSQL; SQLite scans, fine at zone scale.
        *(
            Index(f"ix_enterprises_{column}_trgm", column, postgresql_using="gin",
                  postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")
            for column in ("name", "aliases", "search_pinyin")
        ),
    )

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]

    @property
    def is_local(self) -> bool:
        return self.zone_id is not None

    def __repr__(self) -> str:
        return f"<Enterprise {self.id} {self.name}>"


class EnterpriseSearchGram(db.Model):
    """One two-character piece (bigram) of an enterprise's name or aliases: the search index.

    ``crm.library.names.search_grams`` makes them; ``crm.library.search_index`` rewrites an enterprise's
    rows in the flush that changes its names, and ``search_condition`` reads them to find the candidates
    of a non-Latin search term of two or more characters before checking them with the LIKE it always used.
    """

    __tablename__ = "enterprise_search_grams"

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"),
                                               primary_key=True, index=True)


class Contact(AuditedMixin, db.Model):
    """A person at an enterprise, the zone's own: shown to the zone that recorded it and the admin.

    zone_id None (a contact of unknown origin, from before contacts were the zone's) is the admin's.
    """

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(String(500), default="")

    enterprise: Mapped[Enterprise] = relationship()


class EnterpriseNote(AuditedMixin, db.Model):
    """A zone's own note on an enterprise: shown to the zone that wrote it and the admin only.

    zone_id None is the admin's (the shared 备注 text the library held before notes were the zone's).
    """

    __tablename__ = "enterprise_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text, default="")

    enterprise: Mapped[Enterprise] = relationship()
    author = relationship("User", lazy="joined")
    zone = relationship("Zone", lazy="joined")


class EnterpriseMerge(TimestampMixin, db.Model):
    """An admin's merge of a duplicate enterprise into a survivor, with what moved, so it can be undone."""

    __tablename__ = "enterprise_merges"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # {"contacts": [ids], "projects": [ids], "visits": [ids], "segments": [{segment_id, is_primary, is_leader}],
    #  "survivor_before": {field: value}} — exactly what undo has to put back.
    moved: Mapped[dict] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None]

    survivor = relationship("Enterprise", foreign_keys=[survivor_id], lazy="joined")
    merged = relationship("Enterprise", foreign_keys=[merged_id], lazy="joined")
