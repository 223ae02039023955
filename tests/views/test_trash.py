"""Nothing is lost by deleting: every soft-deleted kind is in the admin's trash and comes back.

A record whose parent is still deleted is not restored alone: the trash says "所属的X已删除" and
offers "一并恢复", which brings both back (each restore audited).
"""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.admin import trash
from crm.audit.log import acting_as
from crm.audit.models import AuditEntry
from crm.catalog.models import EnterpriseSegment, Segment
from crm.extensions import db
from crm.ledger.service import add_capital_increase, add_funds
from crm.library.service import add_contact, add_note
from crm.library.segments import set_enterprise_segments
from crm.pipeline.service import change_stage
from crm.records import soft_delete
from tests import factories as f


def _signed(world):
    change_stage(world.officer_a, world.project_a, "签约", contract_investment=1000, on_date=date.today().replace(day=1))
    return world.project_a


def _make(kind, world):
    """A record of ``kind``, made by officer_a and deleted by officer_a (an enterprise by chief_a, whose
    alone deleting it is); returns (record, the text the trash shows)."""
    with acting_as(db.session, world.officer_a):
        if kind == "enterprise":
            record = f.make_enterprise(world.officer_a, name="回收站企业有限公司")
            text = "回收站企业有限公司"
        elif kind == "project":
            record = f.make_project(world.officer_a, world.enterprise, name="回收站项目")
            text = "回收站项目"
        elif kind == "visit":
            record = f.make_visit(world.officer_a, project=world.project_a, summary="回收站走访")
            text = f"{record.visit_date.isoformat()} {record.kind}"
        elif kind == "funds":
            record = add_funds(world.officer_a, _signed(world), date.today().replace(day=1), Decimal("123"))
            text = "123.00 万元"
        elif kind == "increase":
            record = add_capital_increase(world.officer_a, _signed(world), date.today(), Decimal("77"))
            text = "77.00 万元"
        elif kind == "contact":
            record = add_contact(world.officer_a, world.enterprise, {"name": "回收站联系人"})
            text = "回收站联系人"
        elif kind == "note":
            record = add_note(world.officer_a, world.enterprise, "回收站备注")
            text = "回收站备注"
        soft_delete(world.chief_a if kind == "enterprise" else world.officer_a, record)
    db.session.commit()
    return record, text


KINDS = ("enterprise", "project", "visit", "funds", "increase", "contact", "note")


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_listed_in_the_trash_and_restored(world, login_as, kind):
    record, text = _make(kind, world)
    client = login_as(world.admin)
    page = client.get(f"/admin/trash?kind={kind}").get_data(as_text=True)
    assert text in page
    assert f"/admin/trash/{kind}/{record.id}/restore" in page
    response = client.post(f"/admin/trash/{kind}/{record.id}/restore")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(record), record.id).deleted_at is None
    after = client.get(f"/admin/trash?kind={kind}").get_data(as_text=True)
    assert "记录已恢复" in after and 'data-testid="trash-row"' not in after
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == type(record).__name__,
                                                        AuditEntry.entity_id == str(record.id))
                               .order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor_id) == ("restore", world.admin.id)


def test_the_trash_names_the_parent(world, login_as):
    _make("contact", world)
    page = login_as(world.admin).get("/admin/trash?kind=contact").get_data(as_text=True)
    assert "企业：江苏宏达铝业有限公司" in page


def test_a_child_of_a_deleted_parent_says_so_and_is_restored_with_it(world, login_as):
    funds, _text = _make("funds", world)
    with acting_as(db.session, world.officer_a):
        soft_delete(world.officer_a, world.project_a)
    db.session.commit()
    client = login_as(world.admin)
    page = client.get("/admin/trash?kind=funds").get_data(as_text=True)
    assert "所属的项目已删除" in page and "一并恢复" in page

    response = client.post(f"/admin/trash/funds/{funds.id}/restore")
    assert response.status_code == 302 and f"offer={funds.id}" in response.location
    db.session.expire_all()
    assert db.session.get(type(funds), funds.id).deleted_at is not None  # not restored alone
    offer = client.get(response.location).get_data(as_text=True)
    assert "所属的项目“宏达铝材甲园项目”已删除" in offer
    assert f"/admin/trash/funds/{funds.id}/restore?with_parents=1" in offer

    assert client.post(f"/admin/trash/funds/{funds.id}/restore?with_parents=1").status_code == 302
    assert "已一并恢复：到资" in client.get("/admin/trash?kind=funds").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(funds), funds.id).deleted_at is None
    assert db.session.get(type(world.project_a), world.project_a.id).deleted_at is None
    actions = db.session.execute(select(AuditEntry.entity_type, AuditEntry.action, AuditEntry.actor_id)
                                 .where(AuditEntry.action == "restore")).all()
    assert set(actions) == {("FundsInPlace", "restore", world.admin.id), ("Project", "restore", world.admin.id)}


def test_restoring_with_parents_reaches_the_grandparent(world):
    with acting_as(db.session, world.officer_a):
        enterprise = f.make_enterprise(world.officer_a, name="祖辈企业有限公司")
        project = f.make_project(world.officer_a, enterprise, name="父辈项目")
        visit = f.make_visit(world.officer_a, project=project)
        for record in (visit, project, enterprise):
            soft_delete(world.chief_a if record is enterprise else world.officer_a, record)
    db.session.commit()
    with pytest.raises(trash.ParentDeleted) as refused:
        trash.restore(world.admin, "visit", visit)
    assert refused.value.message == "所属的项目“父辈项目”已删除"
    restored = trash.restore(world.admin, "visit", visit, with_parents=True)
    assert len(restored) == 3
    assert enterprise.deleted_at is project.deleted_at is visit.deleted_at is None


def test_a_merged_enterprise_is_restored_by_undoing_the_merge_not_from_the_trash(world, login_as):
    from crm.admin.merges import merge_enterprises

    duplicate = f.make_enterprise(world.admin, name="江苏宏达铝业股份有限公司")
    merge_enterprises(world.admin, world.enterprise, duplicate)
    db.session.commit()
    client = login_as(world.admin)
    client.post(f"/admin/trash/enterprise/{duplicate.id}/restore")
    db.session.expire_all()
    assert db.session.get(type(duplicate), duplicate.id).deleted_at is not None
    assert "撤销合并" in client.get("/admin/trash?kind=enterprise").get_data(as_text=True)


def test_a_removed_segment_mapping_is_in_the_trash_and_comes_back(world, login_as):
    segments = list(db.session.scalars(select(Segment).order_by(Segment.id).limit(2)))
    if len(segments) < 2:
        pytest.skip("no chain loaded")
    first, second = segments
    enterprise = world.enterprise
    with acting_as(db.session, world.officer_a):
        set_enterprise_segments(world.officer_a, enterprise, [first.id, second.id], [first.id], [])
        db.session.commit()
        set_enterprise_segments(world.officer_a, enterprise, [second.id], [second.id], [])
    db.session.commit()
    client = login_as(world.admin)
    page = client.get("/admin/trash?kind=mapping").get_data(as_text=True)
    assert first.name in page and "企业：江苏宏达铝业有限公司" in page
    removal = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "EnterpriseSegment", AuditEntry.action == "delete")).one()
    assert client.post(f"/admin/trash/mapping/{removal.id}/restore").status_code == 302
    mapping = db.session.get(EnterpriseSegment, (enterprise.id, first.id))
    assert mapping is not None and not mapping.is_primary  # the enterprise keeps its one primary
    assert 'data-testid="trash-row"' not in client.get("/admin/trash?kind=mapping").get_data(as_text=True)
    assert client.post(f"/admin/trash/mapping/{removal.id}/restore").status_code == 404


def test_unknown_kinds_and_live_records_are_404(world, login_as):
    client = login_as(world.admin)
    assert client.get("/admin/trash?kind=nothing").status_code == 404
    assert client.post(f"/admin/trash/project/{world.project_a.id}/restore").status_code == 404
    assert client.post("/admin/trash/mapping/999999/restore").status_code == 404
    assert client.get("/admin/trash?kind=funds&offer=abc").status_code == 200


@pytest.mark.parametrize("kind", ["contact", "note", "visit", "project"])
def test_the_trash_lists_a_page_in_a_fixed_number_of_queries(world, login_as, count_queries, kind):
    _make(kind, world)
    client = login_as(world.admin)
    client.get(f"/admin/trash?kind={kind}")
    with count_queries() as one:
        assert client.get(f"/admin/trash?kind={kind}").status_code == 200
    for _ in range(3):
        _make(kind, world)
    with count_queries() as four:
        page = client.get(f"/admin/trash?kind={kind}").get_data(as_text=True)
    assert page.count('data-testid="trash-row"') == 4
    assert len(four) == len(one)
