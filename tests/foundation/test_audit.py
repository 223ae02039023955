"""Every change to a business record leaves exactly one audit entry, in the same transaction."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.audit.log import acting_as
from crm.extensions import db
from crm.audit.models import AuditEntry
from crm.library.models import Enterprise
from crm.pipeline.models import Project
from crm.visits.models import Visit
from crm import records
from crm.library.service import update_enterprise
from crm.pipeline.service import update_project
from crm.visits.service import update_visit
from tests import factories as f


def entries(record) -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == type(record).__name__, AuditEntry.entity_id == str(record.id))
        .order_by(AuditEntry.id)
    ).all()


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def _make(kind, world, actor):
    if kind == "project":
        return f.make_project(actor, world.enterprise, name="审计测试项目", planned_investment=Decimal("5000"))
    if kind == "visit":
        return f.make_visit(actor, project=world.project_a, summary="审计测试走访")
    return f.make_enterprise(actor, name="审计测试企业有限公司", uscc=f.valid_uscc(99), zone_id=world.zone_a.id)


UPDATES = {
    "project": (update_project, "name", "审计测试项目（改）"),
    "visit": (update_visit, "summary", "审计测试走访（改）"),
    "enterprise": (update_enterprise, "name", "审计测试企业（改）有限公司"),
}
KINDS = list(UPDATES)


@pytest.mark.parametrize("kind", KINDS)
def test_create_writes_one_entry_with_actor_zone_and_values(world, kind):
    with acting_as(db.session, world.officer_a):
        record = _make(kind, world, world.officer_a)
    [entry] = entries(record)
    assert entry.action == "create"
    assert entry.actor_id == world.officer_a.id
    assert entry.entity_type == type(record).__name__ and entry.entity_id == str(record.id)
    assert entry.zone_id == world.zone_a.id
    assert entry.before is None
    field = UPDATES[kind][1]
    assert entry.after[field] == getattr(record, field)
    assert entry.after["id"] == record.id


@pytest.mark.parametrize("kind", KINDS)
def test_update_records_only_the_changed_fields_old_and_new(world, kind):
    with acting_as(db.session, world.officer_a):
        record = _make(kind, world, world.officer_a)
    db.session.commit()
    update, field, new_value = UPDATES[kind]
    old_value = getattr(record, field)
    with acting_as(db.session, world.chief_a):
        update(world.chief_a, record, {field: new_value}, version=record.version)
    db.session.commit()
    create, update_entry = entries(record)
    assert update_entry.action == "update"
    assert update_entry.actor_id == world.chief_a.id
    assert update_entry.zone_id == world.zone_a.id
    # Only what the user changed: no version, updated_at or derived bookkeeping beside it.
    changed = {k for k in update_entry.after if not k.startswith(("name_normalized", "search_pinyin"))}
    assert changed == {field}
    assert update_entry.before[field] == old_value
    assert update_entry.after[field] == new_value


def test_update_of_an_amount_records_it_as_text(world):
    with acting_as(db.session, world.officer_a):
        project = _make("project", world, world.officer_a)
        db.session.commit()
        update_project(world.officer_a, project, {"planned_investment": Decimal("7500.50")})
    entry = entries(project)[-1]
    assert entry.before == {"planned_investment": "5000.00"}
    assert entry.after == {"planned_investment": "7500.50"}


@pytest.mark.parametrize("kind", KINDS)
def test_soft_delete_and_restore_each_write_one_entry(world, kind):
    with acting_as(db.session, world.officer_a):
        record = _make(kind, world, world.officer_a)
    db.session.commit()
    with acting_as(db.session, world.chief_a):
        records.soft_delete(world.chief_a, record)
    db.session.commit()
    with acting_as(db.session, world.admin):
        records.restore(world.admin, record)
    db.session.commit()
    create, delete, restore = entries(record)
    assert (delete.action, delete.actor_id) == ("delete", world.chief_a.id)
    assert delete.before == {"deleted_at": None}
    assert delete.after["deleted_at"] is not None and set(delete.after) == {"deleted_at"}
    assert (restore.action, restore.actor_id) == ("restore", world.admin.id)
    assert restore.before == {"deleted_at": delete.after["deleted_at"]}
    assert restore.after == {"deleted_at": None}
    assert delete.zone_id == restore.zone_id == world.zone_a.id


@pytest.mark.parametrize("kind", KINDS)
def test_a_save_without_a_change_writes_nothing(world, kind):
    with acting_as(db.session, world.officer_a):
        record = _make(kind, world, world.officer_a)
    db.session.commit()
    update, field, _ = UPDATES[kind]
    version = record.version
    before = audit_count()
    with acting_as(db.session, world.officer_a):
        update(world.officer_a, record, {field: getattr(record, field)}, version=record.version)
    db.session.commit()
    assert audit_count() == before
    assert record.version == version


def test_one_save_flushed_in_parts_is_one_entry(world):
    """A query in the middle of a service autoflushes; the user still made one change."""
    project = world.project_a
    with acting_as(db.session, world.chief_a):
        update_project(world.chief_a, project, {"name": "第一次改名"})
        update_project(world.chief_a, project, {"name": "第二次改名", "priority": "高"})
    db.session.commit()
    create, update = entries(project)
    assert update.before == {"name": "宏达铝材甲园项目", "priority": "中"}
    assert update.after == {"name": "第二次改名", "priority": "高"}


def test_a_change_undone_in_the_same_transaction_leaves_no_entry(world):
    project = world.project_a
    with acting_as(db.session, world.chief_a):
        update_project(world.chief_a, project, {"name": "临时名字"})
        update_project(world.chief_a, project, {"name": "宏达铝材甲园项目"})
    db.session.commit()
    assert [e.action for e in entries(project)] == ["create"]


def test_changes_by_two_actors_stay_two_entries(world):
    project = world.project_a
    with acting_as(db.session, world.chief_a):
        update_project(world.chief_a, project, {"name": "负责人改的名字"})
    with acting_as(db.session, world.admin):
        update_project(world.admin, project, {"priority": "低"})
    db.session.commit()
    updates = entries(project)[1:]
    assert [(e.actor_id, e.after) for e in updates] == [
        (world.chief_a.id, {"name": "负责人改的名字"}), (world.admin.id, {"priority": "低"}),
    ]


def test_a_record_created_and_changed_in_one_transaction_has_one_create_entry(world):
    with acting_as(db.session, world.officer_a):
        project = _make("project", world, world.officer_a)
        update_project(world.officer_a, project, {"name": "改过的新项目"})
    db.session.commit()
    [entry] = entries(project)
    assert entry.action == "create" and entry.after["name"] == "改过的新项目"


def test_a_rolled_back_change_leaves_no_entry(world):
    project = world.project_a
    before = audit_count()
    with acting_as(db.session, world.officer_a):
        update_project(world.officer_a, project, {"name": "不会保存的名字"})
        records.soft_delete(world.officer_a, world.visit_a)
    assert audit_count() == before + 2  # flushed: the entries wait in the open transaction
    db.session.rollback()
    assert audit_count() == before
    assert db.session.get(Project, project.id).name == "宏达铝材甲园项目"
    assert [e.action for e in entries(project)] == ["create"]


def test_an_entry_is_attributed_to_nobody_outside_acting_as(world):
    """The CLI and the demo loader act as None; an entry never borrows an earlier actor."""
    with acting_as(db.session, world.officer_a):
        pass
    project = f.make_project(world.officer_a, world.enterprise, name="无人操作项目")
    assert entries(project)[0].actor_id is None


def test_a_post_through_the_site_records_the_signed_in_officer(world, login_as):
    client = login_as(world.officer_a)
    project = world.project_a
    response = client.post(
        f"/projects/{project.id}/edit",
        data={"name": "宏达铝材甲园项目（二期）", "source": "其他", "priority": "高", "version": project.version},
    )
    assert response.status_code == 302
    entry = entries(project)[-1]
    assert entry.action == "update" and entry.actor_id == world.officer_a.id
    assert entry.before["name"] == "宏达铝材甲园项目" and entry.after["name"] == "宏达铝材甲园项目（二期）"
    assert entry.before["priority"] == "中" and entry.after["priority"] == "高"


def test_resaving_an_unchanged_form_writes_no_entry(world, login_as):
    client = login_as(world.officer_a)
    project = world.project_a
    form = {"name": project.name, "source": project.source, "priority": project.priority,
            "description": project.description, "version": project.version}
    before = audit_count()
    assert client.post(f"/projects/{project.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert audit_count() == before
    assert db.session.get(Project, project.id).version == form["version"]


def test_a_stage_change_through_the_site_is_audited(world, login_as):
    client = login_as(world.officer_a)
    project = world.project_a
    client.post(f"/projects/{project.id}/stage", data={"stage": "接洽", "version": project.version})
    entry = entries(project)[-1]
    assert entry.actor_id == world.officer_a.id
    assert entry.before["stage"] == "线索" and entry.after["stage"] == "接洽"


# --- the admin's trash --------------------------------------------------------------------------


def test_admin_trash_lists_a_deleted_project_and_restores_it(world, login_as):
    project = world.project_a
    with acting_as(db.session, world.officer_a):
        records.soft_delete(world.officer_a, project)
    db.session.commit()
    client = login_as(world.admin)
    assert "宏达铝材甲园项目" not in client.get("/projects/").get_data(as_text=True)
    trash = client.get("/admin/trash?kind=project").get_data(as_text=True)
    assert "宏达铝材甲园项目" in trash
    assert f"/admin/trash/project/{project.id}/restore" in trash
    response = client.post(f"/admin/trash/project/{project.id}/restore")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).deleted_at is None
    assert "宏达铝材甲园项目" not in client.get("/admin/trash?kind=project").get_data(as_text=True)
    assert "宏达铝材甲园项目" in client.get("/projects/").get_data(as_text=True)
    restore = entries(project)[-1]
    assert (restore.action, restore.actor_id) == ("restore", world.admin.id)


@pytest.mark.parametrize(("kind", "model"), [("visit", Visit), ("enterprise", Enterprise)])
def test_admin_restores_visits_and_enterprises(world, login_as, kind, model):
    record = world.visit_a if kind == "visit" else world.enterprise
    records.soft_delete(world.admin, record)
    db.session.commit()
    client = login_as(world.admin)
    assert client.get(f"/admin/trash?kind={kind}").status_code == 200
    assert client.post(f"/admin/trash/{kind}/{record.id}/restore").status_code == 302
    db.session.expire_all()
    assert db.session.get(model, record.id).deleted_at is None
    assert entries(record)[-1].action == "restore"


def test_restoring_a_record_that_is_not_deleted_is_404(world, login_as):
    client = login_as(world.admin)
    assert client.post(f"/admin/trash/project/{world.project_a.id}/restore").status_code == 404
    assert client.post("/admin/trash/user/1/restore").status_code == 404


def _admin_urls(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        values = {name: ("project" if name == "kind" else 1) for name in rule.arguments}
        method = "GET" if "GET" in rule.methods else "POST"
        yield method, rule.build(values, append_unknown=False)[1]


@pytest.mark.parametrize("role", ["officer_a", "chief_a", "viewer_a"])
def test_non_admins_get_403_on_every_admin_url(app, world, login_as, role):
    records.soft_delete(world.admin, world.project_a)
    db.session.commit()
    client = login_as(getattr(world, role))
    urls = list(_admin_urls(app))
    assert {"/admin/", "/admin/users", "/admin/audit", "/admin/trash"} <= {path for _, path in urls}
    for method, path in urls:
        assert client.open(path, method=method).status_code == 403, (method, path)
    db.session.expire_all()
    assert db.session.get(Project, world.project_a.id).deleted_at is not None  # the POSTs did nothing
