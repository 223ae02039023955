"""A first-report ruling binds: the losing project stays 终止 until the admin reopens it (with a reason,
recorded on the ruling); a new project for the firm raises a new conflict; both sides are told."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.db import utcnow
from crm.dashboard.my_work import my_work
from crm.errors import ServiceError
from crm.extensions import db
from crm.formatting import local_datetime
from crm.pipeline.first_report import decide, reopen, ruling_notices
from crm.pipeline.models import FirstReportConflict, Project
from crm.pipeline.service import change_stage, is_flagged, update_project
from tests import factories as f

SECRET_AMOUNT = Decimal("73519")  # the losing zone's planned investment: must not reach the other zone


def _conflict() -> FirstReportConflict:
    return db.session.scalars(select(FirstReportConflict).order_by(FirstReportConflict.id)).first()


def _b_negotiates_then_loses(world) -> FirstReportConflict:
    for stage in ("接洽", "考察", "洽谈"):
        change_stage(world.officer_b, world.project_b, stage)
    update_project(world.officer_b, world.project_b, {"planned_investment": SECRET_AMOUNT})
    conflict = _conflict()
    decide(world.admin, conflict, world.project_a.id, "甲园区首报在先且已考察")
    db.session.commit()
    return conflict


@pytest.mark.parametrize("who", ["officer_b", "chief_b"])
def test_the_losing_zone_cannot_move_the_terminated_project_back(world, who):
    _b_negotiates_then_loses(world)
    with pytest.raises(ServiceError, match="已由市投促中心首报首谈裁定终止.*如需重启请联系市投促中心") as refused:
        change_stage(getattr(world, who), world.project_b, "洽谈", note="企业仍有意向")
    assert refused.value.field == "stage"
    assert world.project_b.stage == "终止"


def test_the_admin_too_reopens_only_from_the_ruling_page(world):
    _b_negotiates_then_loses(world)
    with pytest.raises(ServiceError, match="首报首谈裁定”页面"):
        change_stage(world.admin, world.project_b, "洽谈", note="直接改阶段")
    assert world.project_b.stage == "终止" and _conflict().reopened_at is None


def test_the_losing_officer_is_refused_on_the_project_page(world, login_as):
    conflict = _b_negotiates_then_loses(world)
    client = login_as(world.officer_b)
    version = db.session.get(Project, world.project_b.id).version
    page = client.post(f"/projects/{world.project_b.id}/stage",
                       data={"stage": "洽谈", "note": "企业仍有意向", "version": version}).get_data(as_text=True)
    assert "首报首谈裁定终止" in page and "如需重启请联系市投促中心" in page
    assert f"裁定终止（{local_datetime(conflict.decided_at)[:10]}）" in page
    db.session.expire_all()
    assert db.session.get(Project, world.project_b.id).stage == "终止"


def test_admin_reopens_with_a_reason_and_the_stage_returns(world):
    conflict = _b_negotiates_then_loses(world)
    with pytest.raises(ServiceError, match="重启理由"):
        reopen(world.admin, conflict, "  ")
    with pytest.raises(ServiceError, match="管理员"):
        reopen(world.chief_b, conflict, "乙园区申请")
    assert world.project_b.stage == "终止"
    reopen(world.admin, conflict, "甲园区放弃，乙园区继续")
    db.session.commit()
    assert world.project_b.stage == "洽谈"
    last = world.project_b.events[-1]
    assert (last.from_stage, last.to_stage) == ("终止", "洽谈") and "甲园区放弃，乙园区继续" in last.note
    assert last.actor_id == world.admin.id
    assert conflict.reopened_by_id == world.admin.id and conflict.reopened_at is not None
    assert conflict.reopen_reason == "甲园区放弃，乙园区继续"
    with pytest.raises(ServiceError, match="已重启"):
        reopen(world.admin, conflict, "再次重启")
    # Reopened, the project is the zone's to move again.
    change_stage(world.officer_b, world.project_b, "终止", note="企业最终放弃")
    change_stage(world.officer_b, world.project_b, "接洽", note="企业回心转意")
    assert world.project_b.stage == "接洽"


def test_a_signed_loser_reopens_with_its_dates_unchanged(world):
    signed = world.project_b.signed_date
    for stage in ("接洽", "考察", "洽谈"):
        change_stage(world.officer_b, world.project_b, stage)
    day = utcnow().date() - timedelta(days=20)
    change_stage(world.officer_b, world.project_b, "签约", on_date=day, contract_investment=Decimal(9000))
    change_stage(world.officer_b, world.project_b, "注册", on_date=day + timedelta(days=5))
    decide(world.admin, _conflict(), world.project_a.id, "甲园区在先")
    reopen(world.admin, _conflict(), "裁定有误")
    assert signed is None and world.project_b.stage == "注册"
    assert world.project_b.signed_date == day and world.project_b.registered_date == day + timedelta(days=5)
    assert world.project_b.contract_investment == Decimal(9000)


def test_ruling_page_reopens_and_shows_the_reopening(world, login_as):
    conflict = _b_negotiates_then_loses(world)
    assert login_as(world.chief_b).post(f"/admin/first-reports/{conflict.id}/reopen",
                                        data={"reopen_reason": "想重启"}).status_code == 403
    client = login_as(world.admin)
    listing = client.get("/admin/first-reports").get_data(as_text=True)
    assert "重启被终止的项目" in listing
    client.post(f"/admin/first-reports/{conflict.id}/reopen", data={"reopen_reason": ""})
    db.session.expire_all()
    assert db.session.get(Project, world.project_b.id).stage == "终止"
    response = client.post(f"/admin/first-reports/{conflict.id}/reopen", data={"reopen_reason": "双方协商由乙园区继续"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, world.project_b.id).stage == "洽谈"
    listing = client.get("/admin/first-reports").get_data(as_text=True)
    assert "已重启" in listing and "双方协商由乙园区继续" in listing and "重启被终止的项目" not in listing


def test_the_winning_project_moves_freely(world):
    _b_negotiates_then_loses(world)
    change_stage(world.officer_a, world.project_a, "终止", note="企业放弃")
    change_stage(world.officer_a, world.project_a, "接洽", note="企业重新接洽")
    assert world.project_a.stage == "接洽"


def test_a_new_project_of_the_losing_zone_raises_a_new_conflict(world):
    old = _b_negotiates_then_loses(world)
    fresh = f.make_project(world.officer_b, world.enterprise, name="乙园区再次登记")
    assert is_flagged(fresh)
    conflicts = db.session.scalars(select(FirstReportConflict).order_by(FirstReportConflict.id)).all()
    assert [c.status for c in conflicts] == ["decided", "open"] and conflicts[0].id == old.id
    assert conflicts[1].holder_project_id == world.project_a.id and conflicts[1].challenger_project_id == fresh.id


def test_a_twin_firm_by_the_losing_holder_zone_raises_a_new_conflict(world):
    """The first reporter lost: its next project for the same firm (a twin entry by credit code) is
    flagged against the zone that kept it."""
    decide(world.admin, _conflict(), world.project_b.id, "乙园区已谈成用地")
    twin = f.make_enterprise(world.admin, name="宏达铝业（江苏）有限公司")
    twin.uscc = None
    twin.name_normalized = world.enterprise.name_normalized
    fresh = f.make_project(world.officer_a, twin, name="甲园区换个条目再登记")
    assert is_flagged(fresh)
    new = db.session.scalars(select(FirstReportConflict).where(
        FirstReportConflict.challenger_project_id == fresh.id)).one()
    assert new.holder_project_id == world.project_b.id and new.status == "open"


def test_the_ruling_reaches_both_owners_and_both_chiefs_only(world):
    _b_negotiates_then_loses(world)
    bystander = f.make_user("officer", [world.zone_a], username="officer_a2")
    other_b = f.make_user("officer", [world.zone_b], username="officer_b2")
    seen = {who: ruling_notices(getattr(world, who)) for who in ("officer_a", "chief_a", "officer_b", "chief_b")}
    for who, notices in seen.items():
        assert len(notices) == 1, who
        notice = notices[0]
        assert notice.kept_by_zone == "甲园区" and notice.reason == "甲园区首报在先且已考察"
        assert notice.enterprise_name == world.enterprise.name
    assert {seen[w][0].project.id for w in ("officer_a", "chief_a")} == {world.project_a.id}
    assert {seen[w][0].project.id for w in ("officer_b", "chief_b")} == {world.project_b.id}
    assert not seen["officer_a"][0].lost and seen["officer_b"][0].lost
    assert ruling_notices(bystander) == [] and ruling_notices(other_b) == []
    assert ruling_notices(world.viewer_a) == [] and ruling_notices(world.admin) == []
    assert my_work(world.officer_b)["rulings"] == seen["officer_b"]


def test_the_ruling_leaves_my_work_after_thirty_days(world):
    conflict = _b_negotiates_then_loses(world)
    assert ruling_notices(world.officer_b, now=conflict.decided_at + timedelta(days=29))
    assert ruling_notices(world.officer_b, now=conflict.decided_at + timedelta(days=31)) == []


def test_my_work_pages_show_the_ruling_without_the_other_zones_project(world, login_as):
    update_project(world.officer_a, world.project_a, {"planned_investment": Decimal("61234")})
    _b_negotiates_then_loses(world)
    for who in ("officer_b", "chief_b"):
        page = login_as(getattr(world, who)).get("/visits/my-work").get_data(as_text=True)
        assert "首报首谈裁定" in page and "甲园区" in page and "甲园区首报在先且已考察" in page
        assert "该项目已由裁定终止" in page and world.project_b.name in page
        assert f"/projects/{world.project_b.id}\"" in page
        assert world.project_a.name not in page and "61234" not in page and "61,234" not in page
        assert f"/projects/{world.project_a.id}\"" not in page
    for who in ("officer_a", "chief_a"):
        page = login_as(getattr(world, who)).get("/visits/my-work").get_data(as_text=True)
        assert "首报首谈裁定" in page and "本园区保留该企业" in page and world.project_a.name in page
        assert world.project_b.name not in page and "73519" not in page and "73,519" not in page
        assert f"/projects/{world.project_b.id}\"" not in page
    bystander = f.make_user("officer", [world.zone_a], username="officer_a3")
    db.session.commit()
    page = login_as(bystander).get("/visits/my-work").get_data(as_text=True)
    assert "首报首谈裁定" not in page


def test_my_work_reads_the_rulings_in_one_query(world, login_as, count_queries):
    def ruled(n):
        for i in range(n):
            firm = f.make_enterprise(world.admin, name=f"裁定测试企业{i}有限公司")
            f.make_project(world.officer_a, firm, name=f"甲园{i}")
            f.make_project(world.officer_b, firm, name=f"乙园{i}")
            conflict = db.session.scalars(select(FirstReportConflict).where(
                FirstReportConflict.enterprise_id == firm.id)).one()
            decide(world.admin, conflict, conflict.holder_project_id, f"理由{i}")
        db.session.commit()

    client = login_as(world.chief_b)
    ruled(1)
    client.get("/visits/my-work")
    with count_queries() as few:
        client.get("/visits/my-work")
    ruled(4)
    with count_queries() as many:
        page = client.get("/visits/my-work").get_data(as_text=True)
    assert page.count('data-testid="ruling"') == 5
    assert len(many) == len(few)


def test_a_ledger_import_does_not_reopen_the_terminated_project(world):
    from tests.imports.conftest import plan_for

    _b_negotiates_then_loses(world)
    rows = [["项目名称", "企业名称", "统一社会信用代码", "阶段"],
            [world.project_b.name, world.enterprise.name, world.enterprise.uscc, "洽谈"]]
    plan = plan_for(world.chief_b, "projects", rows, world.zone_b)
    assert not plan.ok
    assert any("首报首谈裁定终止" in p.message for p in plan.problems)
    assert world.project_b.stage == "终止"


def test_a_holder_that_lost_to_two_zones_is_reopened_once_for_both(world):
    zone_c = f.make_zone("丙园区")
    officer_c = f.make_user("officer", [zone_c], username="officer_c")
    project_c = f.make_project(officer_c, world.enterprise, name="宏达铝材丙园项目")
    first, second = db.session.scalars(select(FirstReportConflict).order_by(FirstReportConflict.id)).all()
    assert second.holder_project_id == world.project_a.id
    decide(world.admin, first, world.project_b.id, "乙园区已谈成用地")
    decide(world.admin, second, project_c.id, "丙园区条件更优")
    assert world.project_a.stage == "终止"
    reopen(world.admin, second, "企业选择甲园区")
    assert world.project_a.stage == "线索"
    assert first.reopened_at is not None and second.reopened_at is not None
    assert first.reopen_reason == second.reopen_reason == "企业选择甲园区"
