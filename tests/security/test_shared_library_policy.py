"""What zones share is guarded by one policy (crm.permissions.refusal): the form, the mapping page,
delete and the import ask it. Each test reproduces a finding of the review."""
import io

from openpyxl import Workbook
from sqlalchemy import select

from crm.catalog.models import EnterpriseSegment, Segment
from crm.errors import ServiceError
from crm.extensions import db
from crm.imports import service as import_service
from crm.library.models import Enterprise
from crm.library.segments import set_enterprise_segments
from crm.library.service import update_enterprise
from tests import factories as f


def _local_to_b(world, name="乙园在园企业有限公司"):
    firm = f.make_enterprise(world.admin, name=name, uscc=f.valid_uscc(4242))
    firm.zone_id = world.zone_b.id
    db.session.commit()
    return firm


def test_another_zones_local_firm_cannot_be_rehomed_through_the_form(world, login_as):
    """officer1 (zone 1) posting zone_id=1 to /enterprises/15/edit moved zone 2's firm."""
    firm = _local_to_b(world)
    page = login_as(world.officer_a).post(f"/enterprises/{firm.id}/edit", data={
        "name": firm.name, "zone_id": world.zone_a.id, "version": firm.version})
    assert page.status_code == 200 and "其他园区的在园企业" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enterprise, firm.id).zone_id == world.zone_b.id


def test_a_target_becomes_local_to_ones_own_zone_but_not_back_or_elsewhere(world):
    target = f.make_enterprise(world.admin, name="外地目标企业有限公司")
    try:
        update_enterprise(world.officer_a, target, {"zone_id": world.zone_b.id})
        raise AssertionError("moved a target into another zone")
    except ServiceError as refused:
        assert refused.field == "zone_id"
    update_enterprise(world.officer_a, target, {"zone_id": world.zone_a.id})
    assert target.zone_id == world.zone_a.id
    try:
        update_enterprise(world.chief_a, target, {"zone_id": None})
        raise AssertionError("a zone turned its local firm back into a target")
    except ServiceError as refused:
        assert "市投促中心" in refused.message
    update_enterprise(world.admin, target, {"zone_id": None})
    assert target.zone_id is None


def test_chain_leader_marks_of_another_zones_firm_are_not_ours(world):
    """Move the firm, save its mapping without the leader mark, move it back: zone 2's 链主 lost its mark."""
    firm = _local_to_b(world)
    segment = db.session.scalars(select(Segment).order_by(Segment.id)).first()
    set_enterprise_segments(world.chief_b, firm, [segment.id], [segment.id], [segment.id])
    try:
        set_enterprise_segments(world.chief_a, firm, [segment.id], [segment.id], [])
        raise AssertionError("zone A changed zone B's mapping")
    except ServiceError as refused:
        assert refused.field == "segment_ids"
    mapping = db.session.scalars(select(EnterpriseSegment).where(EnterpriseSegment.enterprise_id == firm.id)).one()
    assert mapping.is_leader


def test_a_firm_another_zone_works_on_is_deleted_only_by_the_admin(world, login_as):
    """chief1 deleted enterprise 79 while zone 2's project 56 was at 洽谈; zone 2 then got 404."""
    firm = f.make_enterprise(world.admin, name="两园都在谈的企业有限公司")
    f.make_project(world.officer_b, firm, name="乙园在谈项目")
    db.session.commit()
    refused = login_as(world.chief_a).post(f"/enterprises/{firm.id}/delete", follow_redirects=True)
    assert "其他园区正在跟进该企业" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enterprise, firm.id).deleted_at is None
    admin = login_as(world.admin)
    assert "正在跟进：乙园区" in admin.get(f"/enterprises/{firm.id}").get_data(as_text=True)
    done = admin.post(f"/enterprises/{firm.id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "删除时仍在跟进该企业的园区：乙园区" in done
    db.session.expire_all()
    assert db.session.get(Enterprise, firm.id).deleted_at is not None


def test_a_chief_deletes_a_target_nobody_else_works_on(world, login_as):
    firm = f.make_enterprise(world.admin, name="无人跟进的目标企业有限公司")
    db.session.commit()
    login_as(world.chief_a).post(f"/enterprises/{firm.id}/delete")
    db.session.expire_all()
    assert db.session.get(Enterprise, firm.id).deleted_at is not None


def _ledger(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["企业名称", "统一社会信用代码", "在园企业", "地址"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return import_service.read_table(out.getvalue(), "企业.xlsx", kind="enterprises", max_bytes=10**7, max_rows=1000)


def test_the_import_asks_the_same_policy(world):
    firm = _local_to_b(world)
    plan = import_service.dry_run(world.chief_a, "enterprises", _ledger([[firm.name, firm.uscc, "是", ""]]),
                                  None, world.zone_a)
    assert any("乙园区" in p.message and "市投促中心" in p.message for p in plan.problems)
    plan = import_service.dry_run(world.chief_a, "enterprises", _ledger([[firm.name, firm.uscc, "否", "新地址"]]),
                                  None, world.zone_a)
    assert any("其他园区的在园企业" in p.message for p in plan.problems)
