"""包保 service and 企业诉求: plain functions; the caller (a view, the CLI) commits."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import IO, Any

from sqlalchemy import func, select

from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.errors import ServiceError, check_version
from crm.excel import Book
from crm.extensions import db
from crm.library.models import Enterprise
from crm.permissions import can, require, scope, visible_zone_ids, writable_zone_ids
from crm.service import rules
from crm.service.models import EnterpriseRequest, OfficerRating, ServiceAssignment, ZoneRequestSetting

REQUEST_FIELDS = ("category", "received_on", "description", "department", "deadline")


def _checked(call, *args):
    try:
        return call(*args)
    except rules.RuleError as error:
        raise ServiceError(error.message, field=error.field) from None


def days_by_category(zone_id: int) -> dict[str, int]:
    found = {s.category: s.days for s in db.session.scalars(
        select(ZoneRequestSetting).where(ZoneRequestSetting.zone_id == zone_id))}
    return {c: found.get(c, rules.DEFAULT_DAYS[c]) for c in rules.CATEGORIES}


def set_days(actor, zone_id: int, days: dict[str, int]) -> None:
    require(actor, "service.settings", zone_id)
    current = {s.category: s for s in db.session.scalars(
        select(ZoneRequestSetting).where(ZoneRequestSetting.zone_id == zone_id))}
    for category, value in days.items():
        if category not in rules.CATEGORIES:
            continue
        if value is None or not 1 <= value <= 250:
            raise ServiceError("办理时限请填 1 到 250 个工作日", field=f"days_{rules.CATEGORIES.index(category)}")
        setting = current.get(category) or ZoneRequestSetting(zone_id=zone_id, category=category, days=value)
        setting.days = value
        db.session.add(setting)
    db.session.flush()


def _zone_for(actor, data: dict[str, Any]) -> int:
    if can(actor, "city.all_zones"):
        zone_id = data.get("zone_id")
    else:
        zones = writable_zone_ids(actor)
        zone_id = zones[0] if zones else None
    if zone_id is None or not can(actor, "request.change", zone_id):
        raise ServiceError("请选择本人有权限的园区", field="zone_id")
    return zone_id


def _apply(req: EnterpriseRequest, data: dict[str, Any]) -> None:
    for key in REQUEST_FIELDS:
        if key in data:
            value = data[key]
            setattr(req, key, value.strip() if isinstance(value, str) else value)
    _checked(rules.check_request, req.category, req.received_on, req.deadline)
    if req.deadline is None:
        req.deadline = rules.deadline_for(req.received_on, req.category, days_by_category(req.zone_id))


def create_request(actor, enterprise: Enterprise, data: dict[str, Any]) -> EnterpriseRequest:
    if enterprise.zone_id is not None:  # a local firm's requests are its zone's
        zone_id = enterprise.zone_id
        require(actor, "request.change", zone_id)
    else:  # a signed project's firm from elsewhere: the zone that serves it
        zone_id = _zone_for(actor, data)
    req = EnterpriseRequest(zone_id=zone_id, enterprise_id=enterprise.id, status=rules.RECEIVED)
    _apply(req, data)
    db.session.add(req)
    db.session.flush()
    return req


def update_request(actor, req: EnterpriseRequest, data: dict[str, Any], version=None) -> EnterpriseRequest:
    require(actor, "request.change", req)
    check_version(req, version)
    _apply(req, data)
    db.session.flush()
    return req


def advance_request(actor, req: EnterpriseRequest, reply: str | None = None, today: date | None = None) -> None:
    """受理 → 办理中 → 办结; closing records the reply and the day."""
    require(actor, "request.change", req)
    req.status = _checked(rules.advance, req.status, reply if reply is not None else req.reply)
    if reply is not None and reply.strip():
        req.reply = reply.strip()
    if req.status == rules.CLOSED:
        req.closed_on = today or date.today()
    db.session.flush()


def rate_request(actor, req: EnterpriseRequest, rating: str) -> None:
    require(actor, "request.change", req)
    _checked(rules.check_rating, req.status, rating)
    req.rating = rating
    db.session.flush()


def request_query(actor, filters: dict[str, Any], today: date | None = None):
    today = today or date.today()
    stmt = scope(select(EnterpriseRequest), EnterpriseRequest, actor)
    if filters.get("status"):
        stmt = stmt.where(EnterpriseRequest.status == filters["status"])
    if filters.get("category"):
        stmt = stmt.where(EnterpriseRequest.category == filters["category"])
    if filters.get("enterprise_id"):
        stmt = stmt.where(EnterpriseRequest.enterprise_id == filters["enterprise_id"])
    if filters.get("overdue"):
        stmt = stmt.where(EnterpriseRequest.status != rules.CLOSED, EnterpriseRequest.deadline < today)
    return stmt.order_by(EnterpriseRequest.received_on.desc(), EnterpriseRequest.id.desc())


def figures(actor, today: date | None = None, month: str | None = None) -> list[dict]:
    """Open, overdue and satisfaction by zone and category, over the requests ``actor`` sees (one query)."""
    today = today or date.today()
    stmt = scope(select(EnterpriseRequest.zone_id, EnterpriseRequest.category, EnterpriseRequest.status,
                        EnterpriseRequest.deadline, EnterpriseRequest.rating), EnterpriseRequest, actor)
    groups: dict[tuple, dict] = defaultdict(lambda: {"total": 0, "open": 0, "overdue": 0, "ratings": []})
    for zone_id, category, status, deadline, rating in db.session.execute(stmt):
        g = groups[(zone_id, category)]
        g["total"] += 1
        g["open"] += status != rules.CLOSED
        g["overdue"] += rules.is_overdue(status, deadline, today)
        g["ratings"].append(rating)
    names = dict(db.session.execute(select(Zone.id, Zone.name)).all())
    return [{"zone": names.get(z, ""), "category": c, "total": g["total"], "open": g["open"],
             "overdue": g["overdue"], "satisfaction": rules.satisfaction(g["ratings"])}
            for (z, c), g in sorted(groups.items(), key=lambda kv: (kv[0][0], rules.CATEGORIES.index(kv[0][1])))]


# --- 包保 assignments ---------------------------------------------------------------------------
def assignment_for(enterprise_id: int, zone_id: int | None) -> ServiceAssignment | None:
    if zone_id is None:
        return None
    return db.session.scalars(select(ServiceAssignment).where(
        ServiceAssignment.enterprise_id == enterprise_id, ServiceAssignment.zone_id == zone_id,
        ServiceAssignment.project_id.is_(None), ServiceAssignment.deleted_at.is_(None))).first()


def assign(actor, enterprise: Enterprise, data: dict[str, Any]) -> ServiceAssignment:
    """Name the 包保干部 (and 责任领导) of a local firm of the actor's zone."""
    zone_id = enterprise.zone_id
    if zone_id is None:
        raise ServiceError("只有在园企业可以指定包保干部", field="officer_id")
    require(actor, "service.assign", zone_id)
    officer = db.session.get(User, data.get("officer_id") or 0)
    if officer is None or zone_id not in (officer.zone_ids or []):
        raise ServiceError("包保干部须是本园区的工作人员", field="officer_id")
    leader = db.session.get(User, data["leader_user_id"]) if data.get("leader_user_id") else None
    record = assignment_for(enterprise.id, zone_id) or ServiceAssignment(zone_id=zone_id, enterprise_id=enterprise.id)
    record.officer_id = officer.id
    record.leader_user_id = leader.id if leader else None
    record.leader_name = (data.get("leader_name") or "").strip()
    record.leader_title = (data.get("leader_title") or "").strip()
    db.session.add(record)
    db.session.flush()
    return record


def enterprise_block(actor, enterprise: Enterprise) -> dict:
    """For the enterprise page: its 包保干部/责任领导 and open requests (of the zones the actor sees)."""
    zones = visible_zone_ids(actor)
    assignment = assignment_for(enterprise.id, enterprise.zone_id) if (
        zones is None or enterprise.zone_id in zones) else None
    open_requests = db.session.scalars(scope(select(EnterpriseRequest), EnterpriseRequest, actor).where(
        EnterpriseRequest.enterprise_id == enterprise.id, EnterpriseRequest.status != rules.CLOSED)
        .order_by(EnterpriseRequest.deadline)).all()
    return {"assignment": assignment, "open_requests": open_requests, "today": date.today()}


def my_service(actor, today: date | None = None) -> dict:
    """我的工作: the firms the actor serves or leads, and their open requests, overdue first."""
    today = today or date.today()
    assignments = db.session.scalars(scope(select(ServiceAssignment), ServiceAssignment, actor).where(
        (ServiceAssignment.officer_id == actor.id) | (ServiceAssignment.leader_user_id == actor.id))).all()
    firm_ids = {a.enterprise_id for a in assignments if a.enterprise_id}
    stmt = scope(select(EnterpriseRequest), EnterpriseRequest, actor).where(
        EnterpriseRequest.status != rules.CLOSED)
    if not can(actor, "service.assign"):  # a chief (and the admin) watches every request of the zone
        stmt = stmt.where(EnterpriseRequest.enterprise_id.in_(firm_ids))
    requests = db.session.scalars(stmt.order_by(EnterpriseRequest.deadline)).all()
    overdue = [r for r in requests if rules.is_overdue(r.status, r.deadline, today)]
    return {"assignments": assignments, "requests": requests, "overdue": overdue, "today": today}


# --- 企业测评 ----------------------------------------------------------------------------------
def rate_officer(actor, enterprise: Enterprise, data: dict[str, Any]) -> OfficerRating:
    period = (data.get("period") or "").strip().upper()
    _checked(rules.check_period, period)
    if data.get("rating") not in rules.RATINGS:
        raise ServiceError("请选择满意度", field="rating")
    zone_id = enterprise.zone_id
    if zone_id is None:
        raise ServiceError("只有在园企业可以参加企业测评", field="enterprise_id")
    require(actor, "request.change", zone_id)
    officer = db.session.get(User, data.get("officer_id") or 0)
    if officer is None or zone_id not in (officer.zone_ids or []):
        raise ServiceError("请选择本园区的包保干部", field="officer_id")
    record = db.session.scalars(select(OfficerRating).where(
        OfficerRating.period == period, OfficerRating.enterprise_id == enterprise.id,
        OfficerRating.officer_id == officer.id)).first()
    record = record or OfficerRating(zone_id=zone_id, period=period, enterprise_id=enterprise.id,
                                     officer_id=officer.id)
    record.rating = data["rating"]
    db.session.add(record)
    db.session.flush()
    return record


def officer_results(actor) -> list[dict]:
    """Per officer and period: the count of each rating and the satisfaction share."""
    stmt = scope(select(OfficerRating.officer_id, OfficerRating.period, OfficerRating.rating,
                        func.count()), OfficerRating, actor).group_by(
        OfficerRating.officer_id, OfficerRating.period, OfficerRating.rating)
    rows: dict[tuple, dict] = defaultdict(lambda: {r: 0 for r in rules.RATINGS})
    for officer_id, period, rating, count in db.session.execute(stmt):
        rows[(officer_id, period)][rating] = count
    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({k[0] for k in rows}))).all()) if rows else {}
    result = []
    for (officer_id, period), counts in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True):
        ratings = [r for r, n in counts.items() for _ in range(n)]
        result.append({"officer": names.get(officer_id, ""), "period": period, "counts": counts,
                       "satisfaction": rules.satisfaction(ratings)})
    return result


# --- 企业诉求台账 ------------------------------------------------------------------------------
LEDGER_HEAD = ("受理日期", "园区", "企业", "类别", "诉求内容", "承办部门", "办理期限", "状态", "办结日期",
               "答复意见", "满意度", "是否超期")


def export_ledger(actor, month: str, out: IO[bytes], today: date | None = None) -> int:
    """The month's 企业诉求台账 (requests received that month) as .xlsx; returns the row count."""
    today = today or date.today()
    year, mon = (int(p) for p in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + (mon == 12), mon % 12 + 1, 1)
    rows = db.session.scalars(scope(select(EnterpriseRequest), EnterpriseRequest, actor).where(
        EnterpriseRequest.received_on >= start, EnterpriseRequest.received_on < end)
        .order_by(EnterpriseRequest.zone_id, EnterpriseRequest.received_on, EnterpriseRequest.id)).all()
    names = dict(db.session.execute(select(Zone.id, Zone.name)).all())
    book = Book(out)
    bold = book.format(None, (("bold", True),))
    day = book.format("yyyy-mm-dd")
    sheet = book.sheet("企业诉求台账", header_row=1)
    sheet.append([f"企业诉求台账（{month}）"], [bold])
    sheet.append(list(LEDGER_HEAD), [bold] * len(LEDGER_HEAD))
    for r in rows:
        sheet.append([r.received_on, names.get(r.zone_id, ""), r.enterprise.name, r.category, r.description,
                      r.department, r.deadline, r.status, r.closed_on, r.reply, r.rating or "",
                      "超期" if rules.is_overdue(r.status, r.deadline, today) else ""],
                     [day, None, None, None, None, None, day, None, day])
    sheet.set_widths([12, 10, 24, 8, 40, 14, 12, 8, 12, 30, 8, 8])
    book.close()
    return len(rows)
