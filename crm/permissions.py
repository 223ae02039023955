"""Who may read and who may change what, in one place.

Reading: every service selects projects, visits and funds through ``scope``. Changing: the policy at
the end of this module (``refusal`` / ``can`` / ``require``), which every service, view, template, CLI
command and import asks.

The enterprise library is city-wide; everything a zone negotiates (projects, visits, funds, and the
audit trail of those) is visible only to the zones a user is bound to, or to the city admin.

Inside a zone, a 保密项目 (``Project.confidential``) is seen in full only by its owner, the chiefs
of its zone and the city admin (``sees_in_full``, and ``in_full_condition`` for queries). Everyone
else of the zone still counts it in every figure, but sees it as "保密项目" with no name, enterprise,
amounts or notes (``masked_name``), and its pages answer 404 (``get_scoped_or_404``). A visit, a
funds entry or a capital increase of such a project is masked with it (``linked_in_full_condition``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import NamedTuple

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true

from crm.errors import ServiceError
from crm.extensions import db


def visible_zone_ids(user) -> list[int] | None:
    """The zones whose records ``user`` may read; None means every zone (the city admin)."""
    if user.role == "admin":
        return None
    return user.zone_ids


def writable_zone_ids(user) -> list[int] | None:
    if user.role == "viewer":
        return []
    return visible_zone_ids(user)


def can_see_zone(user, zone_id: int | None) -> bool:
    zones = visible_zone_ids(user)
    return zones is None or zone_id in zones


def scope(stmt: Select, model, user, *, include_deleted: bool = False) -> Select:
    """Limit ``stmt`` to the rows of ``model`` that ``user`` may see."""
    if not include_deleted and hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    if hasattr(model, "zone_id") and getattr(model, "__zone_scoped__", True):
        zones = visible_zone_ids(user)
        if zones is not None:
            stmt = stmt.where(model.zone_id.in_(zones))
    if getattr(model, "__owner_scoped__", False) and not can(user, "jobs.see_all"):
        stmt = stmt.where(model.owner_id == user.id)  # a person's own work (jobs): theirs and the admin's
    return stmt


MASKED_NAME = "保密项目"


STAFF_ROLES = ("officer", "chief")


def is_zone_staff(user) -> bool:
    """Officers and chiefs: their zones' promotion staff, who own projects and log visits."""
    return getattr(user, "role", None) in STAFF_ROLES


def zones_in_charge(user) -> list[int]:
    """The zones whose every project ``user`` answers for: a chief's own zones."""
    return user.zone_ids if getattr(user, "role", None) == "chief" else []


def sees_in_full(user, project) -> bool:
    """Whether ``user`` sees ``project`` in full: name, enterprise, amounts, notes, its pages.

    A project of a zone the user cannot see is not seen at all. Within the zone, a confidential
    project is seen in full by its owner, the zone's chiefs and the admin; others see it masked.
    ``project`` None (a visit without a project) is nothing to hide.
    """
    if project is None or user is None:
        return True
    if not getattr(user, "is_authenticated", True):
        return False
    if user.role == "admin":
        return True
    if not can_see_zone(user, project.zone_id):
        return False
    return (not project.confidential or project.owner_id == user.id
            or project.zone_id in zones_in_charge(user))


def in_full_condition(user, project=None) -> ColumnElement[bool]:
    """``sees_in_full`` as SQL, over ``project`` (the Project entity, an alias, or a subquery's
    columns) — for rows already limited to the user's zones by ``scope``. ``user`` None (the CLI,
    a system job) sees everything."""
    if project is None:
        from crm.pipeline.models import Project as project
    if user is None or user.role == "admin":
        return true()
    parts = [project.confidential == false(), project.owner_id == user.id]
    chief_zones = zones_in_charge(user)
    if chief_zones:
        parts.append(project.zone_id.in_(chief_zones))
    return or_(*parts)


def linked_in_full_condition(user, model) -> ColumnElement[bool]:
    """SQL: a record hanging off a project (``model.project_id``: visits, funds, capital increases)
    whose project, if any, ``user`` sees in full."""
    from crm.pipeline.models import Project

    if user is None or user.role == "admin":
        return true()
    linked = exists().where(Project.id == model.project_id, in_full_condition(user, Project))
    return or_(model.project_id.is_(None), linked)


def masked_name(user, project, name: str | None = None) -> str:
    """The name to show for ``project``: its own (or ``name``), or "保密项目" for those who may not
    see it in full. Every page and export names a project through this (the Jinja filter
    ``project_name``)."""
    if project is None:
        return name or ""
    return (name if name is not None else project.name) if sees_in_full(user, project) else MASKED_NAME


def if_in_full(user, project, value, hidden=None):
    """``value`` when ``user`` sees ``project`` in full, else ``hidden`` (a blank cell, an empty note)."""
    return value if sees_in_full(user, project) else hidden


def get_scoped_or_404(model, record_id, user, *, include_deleted: bool = False, options=()):
    """The record, or 404 — never 403 — when it belongs to a zone the user cannot see, or when it
    is (or hangs off) a confidential project the user may not see in full."""
    stmt = scope(select(model).where(model.id == record_id), model, user, include_deleted=include_deleted)
    if hasattr(model, "confidential") and hasattr(model, "owner_id"):
        stmt = stmt.where(in_full_condition(user, model))
    elif hasattr(model, "project_id") and hasattr(model, "zone_id"):
        stmt = stmt.where(linked_in_full_condition(user, model))
    record = db.session.scalars(stmt.options(*options)).unique().first()
    if record is None:
        abort(404)
    return record


def _current():
    return current_user._get_current_object()


# Jinja: ``p|project_name``, ``{% if p is in_full %}``, ``p.planned_investment|if_in_full(p)|money``.
TEMPLATE_FILTERS = {
    "project_name": lambda project: masked_name(_current(), project),
    "if_in_full": lambda value, project, hidden=None: if_in_full(_current(), project, value, hidden),
}
TEMPLATE_TESTS = {"in_full": lambda project: sees_in_full(_current(), project)}
# ``{% if may('project.change', project) %}``: the policy (below) for the signed-in user.
TEMPLATE_GLOBALS = {"may": lambda action, record=None, **context: can(
    _current(), action, ANY if record is None else record, **context)}


# ----- the policy: who may do what ---------------------------------------------------------------
# ``scope`` above decides what an actor may read; ``refusal`` / ``can`` / ``require`` below decide what
# it may change. Every view, service, CLI command and import asks them; nothing else looks at a role.
#
# An actor is a ``User`` or the ``SystemActor`` (the server's console, an import or job with no user
# named): both have ``id``, ``role``, ``zone_ids`` and ``display_name``.
#
# ``record`` is what the action is about: a project, a visit, an enterprise, a contact … or, for
# actions in a zone (creating, importing, setting targets), the zone's id. Left out (``ANY``), the
# question is whether the actor may do it at all — the gate of a page or a navigation entry.
WRITER_ROLES = ("officer", "chief", "admin")
ANY = object()


class Refusal(NamedTuple):
    message: str
    field: str | None = None


class NotAllowed(ServiceError):
    """A refusal of the policy, raised by ``require``; views show it like any service error."""


@dataclass(frozen=True)
class SystemActor:
    """The system acting on its own behalf: the city admin's rights, no user row."""

    display_name: str = "系统"
    id: None = None
    role: str = "admin"
    username: str = "system"
    zone_ids: tuple = ()
    zones: tuple = ()
    is_authenticated: bool = True


SYSTEM = SystemActor()


@dataclass(frozen=True)
class PlatformActor:
    """A system calling the open API with a platform token: it reads the zones the token is bound to as
    a leader (领导) of them does, and changes nothing (its ``viewer`` role is refused every write)."""

    display_name: str = "平台令牌"
    zone_ids: tuple = ()
    zones: tuple = ()
    id: None = None
    role: str = "viewer"
    username: str = "platform"
    is_authenticated: bool = True


def _role(actor) -> str | None:
    return getattr(actor, "role", None)


def _zones(actor) -> set[int]:
    return set(getattr(actor, "zone_ids", ()) or ())


def _zone_of(record) -> int | None:
    """The zone a record belongs to; ``record`` may be a zone id, a Zone or a zoned record."""
    if record is None or isinstance(record, int):
        return record
    return record.zone_id if hasattr(record, "zone_id") else record.id


def _admin_only(what: str):
    def rule(actor, record, **context):
        return None if _role(actor) == "admin" else Refusal(f"只有市投促中心管理员可以{what}")
    return rule


def _writer_in_zone(actor, record, **context) -> Refusal | None:
    """Write in a zone: a writer bound to it (the admin everywhere). A record of no zone (a contact the
    admin kept for no zone) is the admin's."""
    if _role(actor) == "admin":
        return None
    if _role(actor) not in WRITER_ROLES:
        return Refusal("只读账号不能修改数据")
    if record is ANY or _zone_of(record) in _zones(actor):
        return None
    return Refusal("只能处理本人所属园区的数据", "zone_id")


def _import_into(actor, record, **context) -> Refusal | None:
    """Import into a zone: a writer of it; the rows are written as of the actor's first zone, so a
    writer of several zones imports into the first only (the admin into any)."""
    refused = _writer_in_zone(actor, record)
    if refused:
        return Refusal("只有招商专员、园区负责人和管理员可以导入台账") if _role(actor) not in WRITER_ROLES else refused
    if _role(actor) == "admin" or record is ANY or list(actor.zone_ids)[:1] == [_zone_of(record)]:
        return None
    return Refusal("本账号的首个所属园区不是所选园区，系统只能将数据写入首个所属园区", "zone_id")


def _chief_of(actor, zone_id) -> bool:
    return zone_id in zones_in_charge(actor)


def _change_project(actor, project, **context) -> Refusal | None:
    """A project is changed by its owner, the chiefs of its zone and the admin. The other officers
    of the zone read it, log visits on it, and leave the rest to its owner (README: 谁可以修改项目)."""
    if _role(actor) == "admin" or (project is ANY and _role(actor) in WRITER_ROLES):
        return None
    refused = _writer_in_zone(actor, project)
    if refused:
        return refused
    if _chief_of(actor, project.zone_id) or project.owner_id == actor.id:
        return None
    return Refusal("只有项目负责人、本园区负责人或市投促中心可以修改该项目")


def _assign_owner(actor, record, **context) -> Refusal | None:
    """Choosing a project's owner: the zone's chiefs and the admin; an officer's projects are their own."""
    if _role(actor) == "admin" or (_role(actor) == "chief" and (record is ANY or _chief_of(actor, _zone_of(record)))):
        return None
    return Refusal("只有园区负责人或市投促中心可以指定项目负责人", "owner_id")


def _change_funds(actor, entry, **context) -> Refusal | None:
    """Funds in place and capital increases are the project's: whoever may change the project."""
    return _change_project(actor, entry if entry is ANY else entry.project)


def _change_visit(actor, visit, **context) -> Refusal | None:
    """A visit is changed by the officer who logged it, the owner of its project, the zone's chiefs
    and the admin."""
    if _role(actor) == "admin" or (visit is ANY and _role(actor) in WRITER_ROLES):
        return None
    refused = _writer_in_zone(actor, visit)
    if refused:
        return refused
    project = visit.project
    if _chief_of(actor, visit.zone_id) or visit.officer_id == actor.id or (project and project.owner_id == actor.id):
        return None
    return Refusal("只有记录人、项目负责人、本园区负责人或市投促中心可以修改该走访记录")


def _read_reports(actor, record, **context) -> Refusal | None:
    """Reports (the ledger, targets): zone chiefs, the city centre and leaders, for the zones they see."""
    if _role(actor) not in ("chief", "admin", "viewer"):
        return Refusal("报表仅供园区负责人、市投促中心和领导查看")
    if record is ANY or record is None or can_see_zone(actor, _zone_of(record)):
        return None
    return Refusal("只能查看本人所属园区的报表", "zone_id")


def _chiefs_of_zone(what: str):
    """An act of the zone's management: its chiefs and the admin (record: a zone id or a zoned record)."""
    def rule(actor, record, **context) -> Refusal | None:
        if _role(actor) == "admin" or (_role(actor) == "chief" and (record is ANY or _chief_of(actor, _zone_of(record)))):
            return None
        return Refusal(f"只有本园区负责人或市投促中心可以{what}")
    return rule


def _name_person(actor, person, **context) -> Refusal | None:
    """Writing a record in someone's name (an import's 负责人 / 走访人 column): an officer only in their own."""
    if person is ANY or _role(actor) != "officer" or person.id == actor.id:
        return None
    return Refusal("招商专员只能导入本人负责的记录")


def _see_name(viewer, author, **context) -> Refusal | None:
    """Whether ``viewer`` may know who made a change: within the viewer's zones, the viewer's own, the
    admin's, or for the admin; another zone's staff show as "其他园区"."""
    if author is ANY or _role(viewer) == "admin" or _role(author) == "admin" or author.id == viewer.id \
            or _zones(author) & _zones(viewer):
        return None
    return Refusal("其他园区")


# The shared enterprise library -----------------------------------------------------------------
def _local_elsewhere(actor, enterprise) -> bool:
    return enterprise.zone_id is not None and enterprise.zone_id not in _zones(actor)


def _library_writer(actor) -> Refusal | None:
    return None if _role(actor) in WRITER_ROLES else Refusal("只读账号不能修改企业库")


def _local_firms_own(what: str, field: str):
    """A part of a firm that a target's every writer may change, and a local firm's only its zone (and
    the admin): another zone's local firm is read-only to it."""
    def rule(actor, enterprise, **context) -> Refusal | None:
        if _role(actor) == "admin":
            return None
        if refused := _library_writer(actor):
            return refused
        if enterprise is not ANY and _local_elsewhere(actor, enterprise):
            return Refusal(f"该企业是其他园区的在园企业，其{what}只能由所在园区或市投促中心修改", field)
        return None
    return rule


_edit_enterprise = _local_firms_own("企业信息", "zone_id")  # its basic facts
_map_enterprise = _local_firms_own("产业链环节和链主标记", "segment_ids")  # segment mappings, 链主 marks


def _rehome_enterprise(actor, enterprise, *, to_zone_id=None, **context) -> Refusal | None:
    """Making a target local to one's own zone; moving a firm local elsewhere, or back to target, is
    the admin's alone — in the form and the import alike."""
    if _role(actor) == "admin":
        return None
    if refused := _library_writer(actor):
        return refused
    if enterprise is ANY or to_zone_id == enterprise.zone_id:
        return None
    if enterprise.zone_id is None and to_zone_id in _zones(actor):
        return None
    return Refusal("只能把外地目标企业登记为本园区的在园企业；变更其他在园企业的所在园区或改回目标企业，"
                   "请联系市投促中心", "zone_id")


def _delete_enterprise(actor, enterprise, *, working_zone_ids=(), **context) -> Refusal | None:
    """A chief's, for a firm no other zone works on (``working_zone_ids``: zones with an active
    project or an open next step on it); the admin's always, after seeing who works on it."""
    if _role(actor) == "admin":
        return None
    if refused := _library_writer(actor):
        return refused
    if _role(actor) != "chief" or (enterprise is not ANY and _local_elsewhere(actor, enterprise)):
        return Refusal("只有本园区负责人可以删除本园区在园企业或外地目标企业")
    if set(working_zone_ids) - _zones(actor):
        return Refusal("其他园区正在跟进该企业（有在办项目或待办下一步），不能删除；如需删除请联系市投促中心")
    return None


def _enter_efficiency(actor, record, **context) -> Refusal | None:
    """亩均效益 figures of a firm local to the actor's zone (``record``: the firm or its figures)."""
    if _role(actor) == "admin":
        return None
    if _role(actor) not in WRITER_ROLES:
        return Refusal("只读账号不能填报亩均效益数据")
    if record is ANY:
        return None
    if record.zone_id is None:
        return Refusal("只有在园企业才能填报亩均效益数据", "zone_id")
    if record.zone_id not in _zones(actor):
        return Refusal("只能填报本园区在园企业的亩均效益数据", "zone_id")
    return None


RULES = {
    "zone.write": _writer_in_zone,            # record: a zone id — create projects, visits, contacts there
    "project.change": _change_project,        # edit, stage, segments, commitments, delete
    "project.assign": _assign_owner,          # record: a project or zone id
    "funds.change": _change_funds,            # record: a funds entry or capital increase
    "visit.change": _change_visit,            # edit, mark the next step done, delete
    "contact.change": _writer_in_zone,        # contacts and notes are their zone's own
    "enterprise.edit": _edit_enterprise,
    "enterprise.rehome": _rehome_enterprise,  # context: to_zone_id
    "enterprise.map": _map_enterprise,
    "enterprise.delete": _delete_enterprise,  # context: working_zone_ids
    "import.run": _import_into,               # record: a zone id
    "import.name_person": _name_person,       # record: the user a row names
    "reports.read": _read_reports,            # record: a zone id, None for the city
    "reports.set_targets": _chiefs_of_zone("设置目标"),    # record: a zone id
    "efficiency.enter": _enter_efficiency,    # record: a local firm or its yearly figures
    "efficiency.evaluate": _chiefs_of_zone("设置评价方法和开展亩均效益评价"),  # record: a zone id — the method and the yearly run
    "parcel.change": _chiefs_of_zone("登记和修改地块"),   # record: a zone id or a parcel (crm/land)
    "land.link": _change_funds,               # record: a project's parcel; taking one asks project.change
    "land.accept": _chiefs_of_zone("作出达产验收结论"),     # record: the project or its acceptance
    "compliance.record": _change_funds,       # record: a yearly actual or developed area (crm/compliance)
    "compliance.act": _chiefs_of_zone("登记约谈、限期整改、收回/清退等处置"),  # record: the project or action
    "zone.set_leading_chains": _chiefs_of_zone("设置主导产业链"),  # record: a zone or zone id
    "history.see_name": _see_name,            # record: the author of a change
    "city.all_zones": _admin_only("在各园区之间选择"),  # choose any zone on a form, the city's by-zone views
    "enterprise.merge": _admin_only("合并企业"),
    "import.revert": _admin_only("撤销导入批次"),
    "ruling.decide": _admin_only("裁定首报首谈"),
    "ruling.reopen": _admin_only("重启被裁定终止的项目"),
    "trash.restore": _admin_only("从回收站恢复记录"),
    "jobs.see_all": _admin_only("查看所有人的任务"),  # 我的任务 and a job's page: one's own otherwise
    "admin.manage": _admin_only("管理用户、园区和产业链"),
    "service.assign": _chiefs_of_zone("指定包保干部"),        # record: a zone id or a ServiceAssignment — 包保干部/责任领导
    "request.change": _writer_in_zone,        # record: a zone id or an EnterpriseRequest — 企业诉求, 企业测评
    "service.settings": _chiefs_of_zone("设置诉求办理时限"),         # record: a zone id — days per category of request
    "api.platform_tokens": _admin_only("管理平台令牌"),  # make and revoke the tokens of other systems
}

# What deleting a record asks (``records.soft_delete``), by its kind.
DELETE_ACTIONS = {
    "Project": "project.change", "Visit": "visit.change", "FundsInPlace": "funds.change",
    "CapitalIncrease": "funds.change", "Contact": "contact.change", "EnterpriseNote": "contact.change",
    "Enterprise": "enterprise.delete", "EnterpriseSegment": "enterprise.map",
    "EfficiencyFigures": "efficiency.enter",
    "Parcel": "parcel.change", "ProjectParcel": "land.link", "LandAcceptance": "land.accept",
    "ProjectActual": "compliance.record", "DevelopedArea": "compliance.record", "ComplianceAction": "compliance.act",
    "EnterpriseRequest": "request.change",
}


def refusal(actor, action: str, record=ANY, **context) -> Refusal | None:
    """Why ``actor`` may not do ``action`` (to ``record``), or None when it may."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Refusal("请先登录")
    try:
        rule = RULES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}") from None
    return rule(actor, record, **context)


def can(actor, action: str, record=ANY, **context) -> bool:
    """The policy as a yes/no, for templates, navigation and lists."""
    return refusal(actor, action, record, **context) is None


def require(actor, action: str, record=ANY, **context) -> None:
    """Raise ``NotAllowed`` (a ServiceError: Chinese message, field) unless ``actor`` may."""
    refused = refusal(actor, action, record, **context)
    if refused:
        raise NotAllowed(refused.message, refused.field)


def require_delete(actor, record, **context) -> None:
    require(actor, DELETE_ACTIONS[type(record).__name__], record, **context)


def allowed(action: str):
    """A view's gate: 403 for a signed-in user who may never do ``action``. The record-level
    question is the service's (``require``) or the view's, once the record is loaded."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def allowed_or_404(actor, action: str, record, **context):
    """``record`` when ``actor`` may do ``action`` to it; otherwise 404, as for another zone's record."""
    if not can(actor, action, record, **context):
        abort(404)
    return record
