"""The commit writes in bulk: the audit entries say what the flush listener would have said, a firm
saved since the dry run is not overwritten, a plan is reused only while nothing it read has changed,
and progress is reported as the rows go in."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.audit.log import snapshot
from crm.audit.models import AuditEntry
from crm.errors import ServiceError
from crm.extensions import db
from crm.imports import service as import_service
from crm.library.models import Enterprise, EnterpriseNote
from crm.library.service import update_enterprise
from crm.visits.models import Visit
from tests import factories as f
from tests.imports.conftest import count, table_of

HEADERS = ["企业名称", "统一社会信用代码", "营业收入（万元）", "企业标签", "主营产品", "备注"]


def _entries(entity: str, record_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == entity,
                                                            AuditEntry.entity_id == str(record_id))
                                   .order_by(AuditEntry.id)))


def _content(entry: AuditEntry) -> tuple:
    return entry.actor_id, entry.action, entry.entity_type, entry.zone_id, entry.before, entry.after


def test_audit_entries_of_a_bulk_commit_are_the_listeners(world):
    officer, zone = world.officer_a, world.zone_a
    db.session.info["actor_id"] = officer.id
    existing = f.make_enterprise(officer, name="批量审计既有铝业有限公司", uscc=f.valid_uscc(9101),
                                 annual_revenue=Decimal("100"), tags="专精特新")
    db.session.commit()
    row = ["批量审计既有铝业有限公司", existing.uscc, "2500", "高新技术企业", "铝板带", "重点跟进"]

    # What the services and the flush listener record for the same change of the same firm.
    table = table_of([HEADERS, row])
    plan = import_service.dry_run(officer, "enterprises", table, None, zone)
    (action,) = plan.actions
    with db.session.begin_nested() as savepoint:
        update_enterprise(officer, existing, {k: v for k, v in action.data.items() if k != "notes"})
        (expected,) = [e for e in _entries("Enterprise", existing.id) if e.action == "update"]
        expected = _content(expected)
        savepoint.rollback()
    db.session.expire_all()

    new_row = ["批量审计新建科技有限公司", f.valid_uscc(9102), "800", "专精特新", "铝箔", "首次接触"]
    batch = import_service.commit_import(officer, "enterprises", table_of([HEADERS, row, new_row]), None, zone,
                                         "批量.xlsx")
    db.session.flush()
    db.session.expire_all()
    (update,) = [e for e in _entries("Enterprise", existing.id) if e.action == "update"]
    assert _content(update) == expected
    assert update.after["annual_revenue"] == "2500.00" or Decimal(update.after["annual_revenue"]) == 2500
    created = db.session.scalar(select(Enterprise).where(Enterprise.uscc == new_row[1]))
    (create,) = _entries("Enterprise", created.id)
    assert (create.actor_id, create.action, create.zone_id, create.before) == (officer.id, "create", None, None)
    assert create.after == snapshot(created)  # the listener's snapshot of the row as stored
    assert batch.changes["created"]["Enterprise"] == [created.id]
    assert batch.changes["versions"]["Enterprise"] == {str(created.id): 1, str(existing.id): existing.version}
    assert batch.changes["updated"]["Enterprise"][str(existing.id)]["annual_revenue"] in ("100", "100.00")
    notes = db.session.scalars(select(EnterpriseNote).where(EnterpriseNote.zone_id == zone.id,
                                                            EnterpriseNote.enterprise_id.in_([existing.id, created.id]))
                               ).all()
    assert sorted(n.text for n in notes) == ["重点跟进", "首次接触"]
    for note in notes:
        (entry,) = _entries("EnterpriseNote", note.id)
        assert (entry.action, entry.actor_id, entry.zone_id, entry.after) == ("create", officer.id, zone.id,
                                                                             snapshot(note))


def test_visits_in_bulk_are_audited_as_the_listener_would(world):
    officer, zone = world.officer_a, world.zone_a
    db.session.info["actor_id"] = officer.id
    rows = [["企业名称", "走访日期", "走访方式", "走访内容"],
            [world.enterprise.name, date.today().isoformat(), "上门拜访", "批量导入的走访"],
            ["批量走访新企业有限公司", date.today().isoformat(), "电话", "首次电话沟通"]]
    import_service.commit_import(officer, "visits", table_of(rows), None, zone, "走访.xlsx")
    db.session.flush()
    db.session.expire_all()
    visits = db.session.scalars(select(Visit).where(Visit.summary.in_(["批量导入的走访", "首次电话沟通"]))).all()
    assert len(visits) == 2
    for visit in visits:
        (entry,) = _entries("Visit", visit.id)
        assert (entry.action, entry.actor_id, entry.zone_id) == ("create", officer.id, zone.id)
        assert entry.after == snapshot(visit)
    new_firm = db.session.scalar(select(Enterprise).where(Enterprise.name == "批量走访新企业有限公司"))
    assert {v.enterprise_id for v in visits} == {world.enterprise.id, new_firm.id}


def test_a_firm_saved_after_the_dry_run_is_not_overwritten(world):
    officer, zone = world.officer_a, world.zone_a
    existing = f.make_enterprise(officer, name="批量并发修改铝业有限公司", uscc=f.valid_uscc(9103))
    db.session.commit()
    table = table_of([HEADERS, [existing.name, existing.uscc, "900", None, None, None]])
    plan = import_service.dry_run(officer, "enterprises", table, None, zone)
    update_enterprise(world.chief_a, existing, {"main_products": "他人刚改的主营产品"})  # the version moves on
    with pytest.raises(ServiceError, match="导入期间有企业被他人修改"):
        import_service.write_plan(officer, plan, table, zone, "并发.xlsx")
    db.session.rollback()


def test_the_commit_reuses_its_dry_run_only_while_nothing_it_read_has_changed(world, monkeypatch):
    officer, zone = world.officer_a, world.zone_a
    existing = f.make_enterprise(officer, name="批量复用计划铝业有限公司", uscc=f.valid_uscc(9104))
    db.session.commit()
    table = table_of([HEADERS, [existing.name, existing.uscc, "700", None, None, None],
                      ["批量复用计划新建有限公司", f.valid_uscc(9105), None, None, None, None]])
    plans = []
    real = import_service.dry_run
    monkeypatch.setattr(import_service, "dry_run", lambda *a, **k: plans.append(real(*a, **k)) or plans[-1])

    plan = import_service.dry_run(officer, "enterprises", table, None, zone, filename="复用.xlsx")
    f.make_visit(world.officer_b)  # another zone's save: not something this plan read
    assert not import_service._changed_since(plan)
    import_service.commit_import(officer, "enterprises", table, None, zone, "复用.xlsx")
    assert len(plans) == 1  # the dry run's plan was written
    db.session.rollback()

    plan = import_service.dry_run(officer, "enterprises", table, None, zone, filename="复用.xlsx")
    update_enterprise(world.chief_a, db.session.get(Enterprise, existing.id), {"annual_revenue": Decimal("5")})
    assert import_service._changed_since(plan)  # a firm it looked up was saved since
    import_service.commit_import(officer, "enterprises", table, None, zone, "复用.xlsx")
    assert len(plans) == 3  # planned again against the firm as it is now
    assert db.session.get(Enterprise, existing.id).annual_revenue == Decimal("700")
    db.session.rollback()

    plan = import_service.dry_run(officer, "enterprises", table, None, zone, filename="复用.xlsx")
    f.make_enterprise(world.officer_b, name="别处新建企业", uscc=f.valid_uscc(9105))  # takes the file's code
    assert import_service._changed_since(plan)
    db.session.rollback()


def test_progress_is_reported_per_chunk_as_the_rows_go_in(world, monkeypatch):
    monkeypatch.setattr(import_service, "CHUNK", 2)
    rows = [["企业名称"]] + [[f"批量进度企业{i}有限公司"] for i in range(5)]
    calls = []
    batch = import_service.commit_import(world.officer_a, "enterprises", table_of(rows), None, world.zone_a,
                                         "进度.xlsx", progress=lambda done, total, stage: calls.append((done, total, stage)))
    assert len(batch.changes["created"]["Enterprise"]) == 5 and count(Enterprise, Enterprise.name.like("批量进度%")) == 5
    checked = [c for c in calls if c[2] == import_service.PROGRESS_CHECK]
    written = [c for c in calls if c[2] == import_service.PROGRESS_WRITE]
    assert checked == [(2, 5, "检查"), (4, 5, "检查")]
    assert [c[0] for c in written] == [2, 4, 5] and {c[1] for c in written} == {5}
    db.session.rollback()


def test_a_visit_plan_is_stale_only_when_a_save_touches_its_firms(world):
    officer, zone = world.officer_a, world.zone_a
    rows = [["企业名称", "走访日期", "走访方式", "走访内容"],
            [world.enterprise.name, date.today().isoformat(), "上门拜访", "计划中的走访"]]
    plan = import_service.dry_run(officer, "visits", table_of(rows), None, zone)
    elsewhere = f.make_enterprise(officer, name="与台账无关的企业有限公司")
    f.make_visit(officer, elsewhere, summary="同园区另一家企业的走访")  # the zone saves on, about another firm
    assert not import_service._changed_since(plan)
    world.visit_a.summary = "台账企业的走访被改了"  # a visit of the file's firm: the duplicate check may differ
    db.session.flush()
    assert import_service._changed_since(plan)
    db.session.rollback()
