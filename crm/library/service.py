"""The city-wide enterprise library: create, edit, soft delete, search keys."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import and_, any_, func, or_, select

from crm.permissions import can, require, scope

from crm.extensions import db
from crm.catalog.models import Chain, EnterpriseSegment, Segment
from crm.library.models import Contact, Enterprise, EnterpriseNote, EnterpriseSearchGram
from crm.errors import check_version, ServiceError
from crm.inputs import phone_problem
from crm.library.names import bigrams, clean_uscc, normalize_name, pinyin_keys
from crm.pipeline.lifecycle import DROPPED  # a pure rule module: any feature may read it
from crm.records import soft_delete

EDITABLE_FIELDS = (
    "name", "uscc", "aliases", "region_province", "region_city", "region_county", "address",
    "industry_code", "industry_name", "main_products", "registered_capital", "annual_revenue",
    "employees", "above_scale", "tags", "website", "zone_id",
)


def _refresh_search_keys(enterprise: Enterprise) -> None:
    enterprise.name_normalized = normalize_name(enterprise.name)
    aliases = [a for a in (enterprise.aliases or "").replace("，", ",").split(",") if a.strip()]
    enterprise.search_pinyin = pinyin_keys(enterprise.name, *aliases)


def _apply(enterprise: Enterprise, data: dict[str, Any], *, check_clash: bool = True) -> None:
    for key in EDITABLE_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if key == "uscc":
            try:
                value = clean_uscc(value)
            except ValueError as error:
                raise ServiceError(str(error), field="uscc") from error
        elif key == "tags" and isinstance(value, (list, tuple)):
            value = ",".join(value)
        elif key in {"registered_capital", "annual_revenue"} and value is not None:
            if Decimal(value) < 0:
                raise ServiceError("金额不能为负数", field=key)
        elif key == "employees" and value is not None and value < 0:
            raise ServiceError("人数不能为负数", field=key)
        elif isinstance(value, str):
            value = value.strip()
        setattr(enterprise, key, value)
    if not enterprise.name:
        raise ServiceError("请填写企业名称", field="name")
    if enterprise.uscc and check_clash:
        clash = db.session.scalar(
            select(Enterprise.id).where(Enterprise.uscc == enterprise.uscc, Enterprise.id != enterprise.id)
        )
        if clash:
            raise ServiceError("该统一社会信用代码已登记在另一家企业名下", field="uscc")
    _refresh_search_keys(enterprise)


def new_enterprise(actor, data: dict[str, Any], *, check_clash: bool = True, into=None) -> Enterprise:
    """A new enterprise with every rule of ``create_enterprise`` applied, not yet in the session.

    The import writes many at once (``crm.imports.service``): it leaves ``check_clash`` off (its dry run
    has checked the credit codes in bulk, and the unique index still guards) and passes ``into``, a
    plain record whose unset attributes read None, to collect the values without the ORM's bookkeeping."""
    enterprise = Enterprise() if into is None else into
    enterprise.created_by_id = getattr(actor, "id", None)
    if data.get("zone_id"):  # a new firm local to a zone: as making a target local (the policy decides)
        require(actor, "enterprise.rehome", enterprise, to_zone_id=data["zone_id"])
    else:
        require(actor, "enterprise.edit", enterprise)
    _apply(enterprise, data, check_clash=check_clash)
    return enterprise


def create_enterprise(actor, data: dict[str, Any]) -> Enterprise:
    enterprise = new_enterprise(actor, data)
    db.session.add(enterprise)
    db.session.flush()
    return enterprise


def edit_enterprise(actor, enterprise: Enterprise, data: dict[str, Any], *, check_clash: bool = True) -> None:
    """Apply ``data`` to ``enterprise`` by the rules of ``update_enterprise``, without flushing.

    The import applies it to a detached copy of each firm it updates and writes the changed columns
    in bulk."""
    require(actor, "enterprise.edit", enterprise)
    if "zone_id" in data and (data["zone_id"] or None) != enterprise.zone_id:
        require(actor, "enterprise.rehome", enterprise, to_zone_id=data["zone_id"] or None)
    _apply(enterprise, data, check_clash=check_clash)


def update_enterprise(actor, enterprise: Enterprise, data: dict[str, Any], version=None) -> Enterprise:
    check_version(enterprise, version)
    edit_enterprise(actor, enterprise, data)
    db.session.flush()
    return enterprise


SORTS = {
    "name": Enterprise.name,
    "region": Enterprise.region_city,
    "industry": Enterprise.industry_code,
    "revenue": Enterprise.annual_revenue,
    "updated": Enterprise.updated_at,
}


def zones_working_on(enterprise: Enterprise) -> list[int]:
    """Zones with an active project (not 终止) or an open next step on the enterprise.

    The pipeline's and visits' tables hang off enterprises; reading them by name keeps the library from
    importing the features above it.
    """
    projects, visits = db.metadata.tables["projects"], db.metadata.tables["visits"]
    active = select(projects.c.zone_id).where(projects.c.enterprise_id == enterprise.id,
                                              projects.c.deleted_at.is_(None), projects.c.stage != DROPPED)
    open_steps = select(visits.c.zone_id).where(visits.c.enterprise_id == enterprise.id,
                                                visits.c.deleted_at.is_(None), visits.c.next_step != "",
                                                visits.c.next_step_done_at.is_(None))
    return sorted(set(db.session.scalars(active.union(open_steps))))


def delete_enterprise(actor, enterprise: Enterprise) -> list[int]:
    """Soft-delete the enterprise if the policy allows; returns the zones that were working on it."""
    working = zones_working_on(enterprise)
    soft_delete(actor, enterprise, working_zone_ids=working)
    return working


def search_condition(q: str):
    """Name, alias, credit code or pinyin (full or initials): '铝业', 'lvye' and 'ly' all find 铝业.

    The match is the LIKE it always was. A Chinese (not all-Latin) term of two or more characters first
    narrows it to the enterprises whose name and alias bigrams (``enterprise_search_grams``) hold all of
    the term's, so the database reads an index instead of scanning every name; on PostgreSQL a term of
    three or more characters is left to its trigram indexes, which no two-character term can use. A
    Latin term also searches the pinyin keys, which only the trigram indexes serve; one character scans."""
    q = q.strip()
    conditions = [Enterprise.name.contains(q, autoescape=True), Enterprise.aliases.contains(q, autoescape=True)]
    if q.isascii():
        conditions.append(Enterprise.search_pinyin.contains(q.lower().replace(" ", ""), autoescape=True))
        conditions.append(Enterprise.uscc == q.upper())
        return or_(*conditions)
    match = or_(*conditions)
    if len(q) < 2 or (len(q) >= 3 and db.engine.dialect.name == "postgresql"):
        return match
    candidates = _having_grams(q)
    if db.engine.dialect.name == "postgresql":
        # = ANY(ARRAY(…)): PostgreSQL probes the candidates by id; with IN (…) it may hash them and scan
        # every enterprise with the LIKE, which it costs too cheaply (80 ms instead of 13 at city scale).
        return and_(Enterprise.id == any_(func.array(candidates.scalar_subquery())), match)
    return and_(Enterprise.id.in_(candidates), match)


def _having_grams(term: str):
    """The enterprises whose search bigrams include every bigram of ``term``."""
    grams = sorted(bigrams(term))
    gram = EnterpriseSearchGram
    if len(grams) == 1:
        return select(gram.enterprise_id).where(gram.gram == grams[0])
    return (select(gram.enterprise_id).where(gram.gram.in_(grams))
            .group_by(gram.enterprise_id).having(func.count() == len(grams)))


def enterprise_list_query(filters: dict[str, Any], sort: str = "name"):
    """Enterprises matching the filters; the library is city-wide, so no zone scope applies."""
    stmt = select(Enterprise).where(Enterprise.deleted_at.is_(None))
    if filters.get("q"):
        stmt = stmt.where(search_condition(filters["q"]))
    if filters.get("zone_id"):
        stmt = stmt.where(Enterprise.zone_id == filters["zone_id"])
    if filters.get("local") == "local":
        stmt = stmt.where(Enterprise.zone_id.is_not(None))
    elif filters.get("local") == "target":
        stmt = stmt.where(Enterprise.zone_id.is_(None))
    if filters.get("province"):
        stmt = stmt.where(Enterprise.region_province == filters["province"])
    if filters.get("city"):
        stmt = stmt.where(Enterprise.region_city == filters["city"])
    if filters.get("industry"):
        stmt = stmt.where(Enterprise.industry_code.startswith(filters["industry"], autoescape=True))
    if filters.get("tag"):
        stmt = stmt.where(Enterprise.tags.contains(filters["tag"], autoescape=True))
    if filters.get("segment_id"):
        stmt = stmt.where(
            Enterprise.id.in_(
                select(EnterpriseSegment.enterprise_id).where(EnterpriseSegment.segment_id == filters["segment_id"])
            )
        )
    column = SORTS.get(sort.lstrip("-"), Enterprise.name)
    order = column.desc() if sort.startswith("-") else column.asc()
    return stmt.order_by(order, Enterprise.id)


# ----- contacts and notes: the zone's own ------------------------------------------------------
CONTACT_FIELDS = ("name", "title", "phone", "email", "notes")


def writer_zone_id(actor, zone_id: int | None = None) -> int | None:
    """The zone a contact or note of ``actor`` belongs to: ``zone_id`` when given (and writable),
    else the actor's own zone. The admin writes for no zone (None: seen by the admin only) unless
    a zone is named. Refuses a zone the actor cannot write for, or an actor of several zones who
    did not say which."""
    if zone_id is not None:
        require(actor, "zone.write", zone_id)
        return zone_id
    if can(actor, "city.all_zones"):
        return None
    require(actor, "zone.write")
    zones = actor.zone_ids
    if len(zones) != 1:
        raise ServiceError("请选择记录所属的园区", field="zone_id")
    return zones[0]


def contacts_of(actor, enterprise: Enterprise) -> list[Contact]:
    """The enterprise's contacts ``actor`` may see: its own zones' (every one for the admin)."""
    stmt = scope(select(Contact), Contact, actor).where(Contact.enterprise_id == enterprise.id)
    return list(db.session.scalars(stmt.order_by(Contact.id)))


def notes_of(actor, enterprise: Enterprise) -> list[EnterpriseNote]:
    stmt = scope(select(EnterpriseNote), EnterpriseNote, actor).where(EnterpriseNote.enterprise_id == enterprise.id)
    return list(db.session.scalars(stmt.order_by(EnterpriseNote.id.desc())))


def _clean_contact(data: dict[str, Any]) -> dict[str, str]:
    values = {k: (data.get(k) or "").strip() for k in CONTACT_FIELDS if k in data}
    if "name" in values and not values["name"]:
        raise ServiceError("请填写联系人姓名", field="name")
    if problem := phone_problem(values.get("phone", "")):
        raise ServiceError(problem, field="phone")
    return values


def add_contact(actor, enterprise: Enterprise, data: dict[str, Any], zone_id: int | None = None) -> Contact:
    contact = Contact(enterprise_id=enterprise.id, zone_id=writer_zone_id(actor, zone_id), **_clean_contact(data))
    db.session.add(contact)
    db.session.flush()
    return contact


def update_contact(actor, contact: Contact, data: dict[str, Any]) -> Contact:
    require(actor, "contact.change", contact)
    for key, value in _clean_contact(data).items():
        setattr(contact, key, value)
    db.session.flush()
    return contact


def new_note(actor, enterprise_id: int | None, text: str, zone_id: int | None = None) -> EnterpriseNote:
    """A note with the rules of ``add_note`` applied, not yet in the session (the import writes many at once)."""
    text = (text or "").strip()
    if not text:
        raise ServiceError("请填写备注内容", field="text")
    return EnterpriseNote(enterprise_id=enterprise_id, zone_id=writer_zone_id(actor, zone_id),
                          author_id=getattr(actor, "id", None), text=text)


def add_note(actor, enterprise: Enterprise, text: str, zone_id: int | None = None) -> EnterpriseNote:
    note = new_note(actor, enterprise.id, text, zone_id)
    db.session.add(note)
    db.session.flush()
    return note


def update_note(actor, note: EnterpriseNote, text: str) -> EnterpriseNote:
    require(actor, "contact.change", note)
    text = (text or "").strip()
    if not text:
        raise ServiceError("请填写备注内容", field="text")
    note.text = text
    db.session.flush()
    return note


def segment_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Segments grouped by chain, for filter selects."""
    rows = db.session.execute(
        select(Chain.name, Segment.id, Segment.name, Segment.tier)
        .join(Segment, Segment.chain_id == Chain.id)
        .order_by(Chain.id, Segment.sort_order)
    ).all()
    groups: dict[str, list[tuple[int, str]]] = {}
    for chain_name, segment_id, segment_name, tier in rows:
        groups.setdefault(chain_name, []).append((segment_id, f"{segment_name}（{tier}）"))
    return list(groups.items())
