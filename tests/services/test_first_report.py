import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.pipeline.models import FirstReportConflict
from crm.errors import ServiceError
from crm.pipeline.first_report import decide, holds_elsewhere
from crm.pipeline.service import change_stage, is_flagged
from tests import factories as f


def test_second_zone_project_is_flagged_not_refused(world):
    conflict = db.session.scalars(select(FirstReportConflict)).one()
    assert conflict.holder_project_id == world.project_a.id
    assert conflict.challenger_project_id == world.project_b.id
    assert is_flagged(world.project_b) and not is_flagged(world.project_a)


def test_same_zone_second_project_is_not_a_conflict(world):
    project = f.make_project(world.chief_a, world.enterprise, name="同园区二期")
    assert not is_flagged(project)


def test_twin_enterprise_with_same_normalised_name_counts_as_held(world):
    twin = f.make_enterprise(world.admin, name="宏达铝业（中国）有限公司")
    project = f.make_project(world.officer_b, twin, name="通过另一条目登记")
    assert is_flagged(project)


def test_dropped_project_does_not_hold(world):
    change_stage(world.officer_a, world.project_a, "终止", note="企业放弃")
    change_stage(world.officer_b, world.project_b, "终止", note="企业放弃")
    fresh = f.make_project(world.officer_b, world.enterprise, name="重新接洽")
    assert not is_flagged(fresh)


def test_holds_elsewhere_names_zone_and_date_only(world):
    holds = holds_elsewhere(world.enterprise, [world.zone_a.id])
    assert [h.zone_name for h in holds] == ["乙园区"]
    assert set(vars(holds[0])) == {"zone_id", "zone_name", "since"}  # no project detail crosses zones


def test_admin_decides_and_loser_is_dropped_with_reason(world):
    conflict = db.session.scalars(select(FirstReportConflict)).one()
    decide(world.admin, conflict, world.project_a.id, "甲园区首报在先且已考察")
    assert conflict.status == "decided" and conflict.winner_project_id == world.project_a.id
    assert world.project_b.stage == "终止"
    assert "首报首谈裁定" in world.project_b.stage_reason and "甲园区" in world.project_b.stage_reason
    assert world.project_b.events[-1].to_stage == "终止"
    assert world.project_a.stage == "线索"
    with pytest.raises(ServiceError, match="已裁定"):
        decide(world.admin, conflict, world.project_b.id, "再次裁定")


@pytest.mark.parametrize("who, winner, reason, message", [
    ("chief_a", "a", "理由", "管理员"),
    ("admin", "a", "  ", "理由"),
    ("admin", "other", "理由", "园区"),
])
def test_decision_refusals_change_nothing(world, who, winner, reason, message):
    conflict = db.session.scalars(select(FirstReportConflict)).one()
    winner_id = world.project_a.id if winner == "a" else 999999
    with pytest.raises(ServiceError, match=message):
        decide(getattr(world, who), conflict, winner_id, reason)
    assert conflict.status == "open" and world.project_b.stage == "线索"


def test_zone_pages_show_hold_without_details_and_admin_rules(world, login_as):
    page = login_as(world.officer_a).get(f"/enterprises/{world.enterprise.id}").get_data(as_text=True)
    assert "乙园区" in page and "乙园机密" not in page
    client = login_as(world.admin)
    conflict = db.session.scalars(select(FirstReportConflict)).one()
    listing = client.get("/admin/first-reports").get_data(as_text=True)
    assert "宏达铝材乙园机密项目" in listing and "待裁定" in listing
    response = client.post(f"/admin/first-reports/{conflict.id}",
                           data={"winner": world.project_b.id, "reason": "乙园区已谈成用地"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(FirstReportConflict, conflict.id).status == "decided"
    assert login_as(world.officer_a).get("/admin/first-reports").status_code == 403


def test_changing_a_projects_segments_is_audited(world):
    from crm.audit.models import AuditEntry
    from crm.catalog.models import Segment
    from crm.pipeline.service import update_project

    segments = db.session.scalars(select(Segment).order_by(Segment.id).limit(2)).all()
    update_project(world.officer_a, world.project_a, {"segments": segments})
    db.session.commit()
    update_project(world.officer_a, world.project_a, {"segments": segments[:1]})
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "Project", AuditEntry.entity_id == str(world.project_a.id),
        AuditEntry.action == "update").order_by(AuditEntry.id)).all()
    ids = sorted(str(s.id) for s in segments)
    assert entries[-2].after["segments"] == ids and entries[-2].before["segments"] == []
    assert entries[-1].before["segments"] == ids and entries[-1].after["segments"] == [str(segments[0].id)]


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\ufeff", "\u2060", "\u200e"])
def test_a_look_alike_name_with_an_invisible_character_is_the_same_company(world, invisible):
    """A zero-width space before 有限公司 escaped both the duplicate and the first-report checks."""
    from crm.library.duplicates import find_duplicates

    name = f"江苏宏达铝业{invisible}有限公司"
    assert [d.enterprise.id for d in find_duplicates(name)][:1] == [world.enterprise.id]
    twin = f.make_enterprise(world.admin, name=name)
    project = f.make_project(world.officer_b, twin, name="不可见字符的同名企业")
    assert is_flagged(project)
