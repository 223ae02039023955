"""Importing projects (stages, signing rules, owners, the ledger's own columns) and visits."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from crm.extensions import db
from crm.library.models import Enterprise
from crm.pipeline.models import Project, StageEvent
from crm.visits.models import Visit
from crm.imports import service as import_service
from crm.permissions import SYSTEM as SYSTEM_ACTOR
from tests import factories as f
from tests.imports.conftest import commit, count, plan_for, problems_of

LEDGER = ["项目名称", "企业名称", "统一社会信用代码", "阶段", "计划投资(万元)", "协议投资额(万元)", "签约日期", "负责人",
          "来源", "用地(亩)"]


def _events(project) -> list[str]:
    return list(db.session.scalars(select(StageEvent.to_stage).where(StageEvent.project_id == project.id)
                                   .order_by(StageEvent.id)))


def _project(name) -> Project:
    return db.session.scalars(select(Project).where(Project.name == name, Project.deleted_at.is_(None))).one()


def test_the_monthly_ledger_columns_import_as_projects(world):
    rows = [
        ["2024年3月甲园区招商项目台账"] + [None] * 9,
        LEDGER,
        ["宏达铝箔深加工项目", "江苏宏达铝业有限公司", world.enterprise.uscc, "签约", "1.2亿元", "10,000",
         datetime(2024, 3, 5), "officer_a", "以商招商", 120],
        ["瑞丰电池PACK项目", "宁波瑞丰新能源科技有限公司", f.valid_uscc(701), "开工", 50000, "4.8亿元", "2024年3月5日",
         world.officer_a.display_name, "中介", "80亩"],
        ["瑞丰储能二期", "宁波瑞丰新能源科技有限公司", None, "洽谈", "２０００", None, None, "chief_a", None, None],
        ["恒泰绿色食品项目", "江州恒泰食品有限公司", None, "已签约", 3000, 2800, "2024.3.5", None, "驻点招商", None],
        ["暂缓的项目", "江州暂缓科技有限公司", None, "搁置", None, None, None, None, None, None],
    ]
    plan = plan_for(world.chief_a, "projects", rows, world.zone_a, merges=("A1:J1",))
    assert plan.ok, plan.problems
    assert [a.action for a in plan.actions] == ["create"] * 5
    assert "按统一社会信用代码匹配到已有企业“江苏宏达铝业有限公司”" in plan.actions[0].detail
    assert "乙园区" in plan.actions[0].detail  # another zone follows this firm: 首报首谈 may need a ruling
    assert "企业同第 4 行（本次新建）" in plan.actions[2].detail
    assert plan.counts()[("Enterprise", "create")] == 3

    enterprises = count(Enterprise)
    commit(world.chief_a, "projects", rows, world.zone_a, merges=("A1:J1",))
    assert count(Enterprise) == enterprises + 3  # 瑞丰 created once for its two projects

    foil = _project("宏达铝箔深加工项目")
    assert (foil.zone_id, foil.stage, foil.signed_date) == (world.zone_a.id, "签约", date(2024, 3, 5))
    assert (foil.planned_investment, foil.contract_investment) == (Decimal("12000.00"), Decimal("10000.00"))
    assert (foil.owner_id, foil.source, foil.land_area) == (world.officer_a.id, "以商招商", Decimal("120.00"))
    assert _events(foil) == ["线索", "签约"]

    pack = _project("瑞丰电池PACK项目")
    assert (pack.stage, pack.signed_date, pack.started_date) == ("开工", date(2024, 3, 5), None)  # 开工 date unknown
    assert (pack.contract_investment, pack.source, pack.owner_id) == (Decimal("48000.00"), "中介招商", world.officer_a.id)
    assert _events(pack) == ["线索", "签约", "开工"]

    phase2 = _project("瑞丰储能二期")
    assert (phase2.stage, phase2.enterprise_id, phase2.owner_id) == ("洽谈", pack.enterprise_id, world.chief_a.id)
    assert phase2.planned_investment == Decimal("2000.00") and phase2.source == "其他"

    food = _project("恒泰绿色食品项目")
    assert (food.stage, food.signed_date, food.owner_id) == ("签约", date(2024, 3, 5), world.chief_a.id)

    paused = _project("暂缓的项目")
    assert paused.stage == "搁置" and paused.stage_reason.startswith("台账导入")


def test_signing_and_stage_rules_are_checked_row_by_row(world):
    future = (date.today() + timedelta(days=10)).isoformat()
    rows = [
        LEDGER + ["开工日期"],
        ["缺协议额", "规则企业一有限公司", None, "签约", 100, None, "2024-01-02", None, None, None, None],
        ["缺签约日期", "规则企业二有限公司", None, "投产", 100, 90, None, None, None, None, None],
        ["未来签约", "规则企业三有限公司", None, "签约", 100, 90, future, None, None, None, None],
        ["未知阶段", "规则企业四有限公司", None, "谈妥了", 100, None, None, None, None, None, None],
        ["洽谈却有签约日", "规则企业五有限公司", None, "洽谈", 100, None, "2024-01-02", None, None, None, None],
        ["开工早于签约", "规则企业六有限公司", None, "开工", 100, 90, "2024-03-05", None, None, None, "2024-01-01"],
        ["签约却有开工日", "规则企业七有限公司", None, "签约", 100, 90, "2024-03-05", None, None, None, "2024-04-01"],
        ["好的一行", "规则企业八有限公司", None, "开工", 100, 90, "2024-03-05", None, None, None, "2024-04-01"],
    ]
    plan = plan_for(world.officer_a, "projects", rows, world.zone_a)
    assert problems_of(plan) == [
        (2, "协议投资额(万元)"), (3, "签约日期"), (4, "签约日期"), (5, "阶段"), (6, "签约日期"), (7, "开工日期"),
        (8, "开工日期"),
    ]
    messages = [p.message for p in plan.problems]
    assert "协议投资额" in messages[0] and "大于 0" in messages[0]
    assert "须填写签约日期" in messages[1]
    assert "不能晚于今天" in messages[2]
    assert "未知的阶段“谈妥了”" in messages[3] and "线索、接洽" in messages[3]
    assert "未签约" in messages[4]
    assert "不能早于签约日期 2024-03-05" in messages[5]
    assert "阶段为“签约”，不应填写开工日期" in messages[6]
    assert [a.row for a in plan.actions] == [9]  # the good row is planned; nothing is written while any row is bad


def test_owner_lookup_by_username_or_name_within_the_zone(world):
    rows = [LEDGER,
            ["甲", "负责人企业一有限公司", None, None, None, None, None, "nobody", None, None],
            ["乙", "负责人企业二有限公司", None, None, None, None, None, "officer_b", None, None],
            ["丙", "负责人企业三有限公司", None, None, None, None, None, "chief_a", None, None]]
    plan = plan_for(world.officer_a, "projects", rows, world.zone_a)
    assert problems_of(plan) == [(2, "负责人"), (3, "负责人"), (4, "负责人")]
    assert "没有名为“nobody”" in plan.problems[0].message
    assert "没有名为“officer_b”" in plan.problems[1].message  # zone B's officer is not zone A's staff
    assert "须为本人" in plan.problems[2].message  # an officer's own rule: projects they import are theirs
    assert plan_for(world.chief_a, "projects", rows[:1] + rows[3:], world.zone_a).ok


def test_a_display_name_shared_by_two_users_needs_the_username(world):
    twin = f.make_user("officer", [world.zone_a], username="officer_twin")
    twin.display_name = world.officer_a.display_name
    db.session.commit()
    plan = plan_for(world.chief_a, "projects", [LEDGER, ["甲", "重名企业有限公司", None, None, None, None, None,
                                                           world.officer_a.display_name, None, None]], world.zone_a)
    assert problems_of(plan) == [(2, "负责人")] and "officer_twin" in plan.problems[0].message


def test_the_system_actor_must_be_told_the_owner(world):
    rows = [LEDGER, ["系统导入项目", "系统导入企业有限公司", None, "接洽", None, None, None, None, None, None]]
    plan = plan_for(SYSTEM_ACTOR, "projects", rows, world.zone_b)
    assert problems_of(plan) == [(2, "负责人")]
    rows[1][7] = "officer_b"
    commit(SYSTEM_ACTOR, "projects", rows, world.zone_b)
    project = _project("系统导入项目")
    assert (project.zone_id, project.owner_id, project.stage) == (world.zone_b.id, world.officer_b.id, "接洽")


def test_an_existing_project_is_updated_and_never_moved_back(world):
    rows = [LEDGER, [world.project_a.name, "江苏宏达铝业有限公司", None, "洽谈", 6000, None, None, None, None, None]]
    plan = plan_for(world.officer_a, "projects", rows, world.zone_a)
    assert plan.ok and plan.actions[0].action == "update" and plan.actions[0].target_id == world.project_a.id
    assert "匹配到本园区已有项目" in plan.actions[0].detail and "线索 → 洽谈" in plan.actions[0].detail
    batch = commit(world.officer_a, "projects", rows, world.zone_a)
    db.session.expire_all()
    project = db.session.get(Project, world.project_a.id)
    assert (project.stage, project.planned_investment) == ("洽谈", Decimal("6000.00"))

    rows[1][3] = "接洽"
    plan = plan_for(world.officer_a, "projects", rows, world.zone_a)
    assert plan.ok and plan.actions[0].action == "unchanged" and "阶段不回退" in plan.actions[0].detail

    import_service.revert_batch(world.admin, batch)
    db.session.commit()
    db.session.expire_all()
    project = db.session.get(Project, world.project_a.id)
    assert (project.stage, project.planned_investment, project.deleted_at) == ("线索", None, None)
    assert _events(project)[-2:] == ["洽谈", "线索"]  # the revert shows in the timeline


def test_revert_removes_imported_projects_and_their_new_firms(world):
    rows = [LEDGER, ["撤销的项目", "撤销的企业有限公司", f.valid_uscc(720), "签约", 100, 100, "2024-02-01", None, None,
                     None]]
    batch = commit(world.officer_a, "projects", rows, world.zone_a)
    project = _project("撤销的项目")
    enterprise_id = project.enterprise_id
    import_service.revert_batch(world.admin, batch)
    db.session.commit()
    assert db.session.get(Project, project.id).deleted_at is not None
    assert db.session.get(Enterprise, enterprise_id).deleted_at is not None


VISIT_HEADER = ["企业名称", "统一社会信用代码", "项目名称", "走访日期", "走访方式", "带队领导", "洽谈内容", "成果", "下一步工作",
                "完成时限", "跟进人"]


def test_visits_import_with_project_links_new_firms_and_dates_in_any_form(world):
    rows = [
        VISIT_HEADER,
        ["江苏宏达铝业有限公司", None, world.project_a.name, datetime(2024, 3, 5), "上门", "管委会主任", "洽谈扩产",
         "原则同意", "寄送政策", "2024年3月20日", None],
        ["新走访企业有限公司", None, None, "2024年3月6日", "视频会议", None, "视频沟通", None, None, None, "officer_a"],
        ["新走访企业有限公司", None, None, "2024.3.7", "来访", None, "来园考察", None, None, None, None],
    ]
    plan = plan_for(world.officer_a, "visits", rows, world.zone_a)
    assert plan.ok, plan.problems
    batch = commit(world.officer_a, "visits", rows, world.zone_a)
    visits = db.session.scalars(select(Visit).where(Visit.id.in_(batch.changes["created"]["Visit"]))
                                .order_by(Visit.visit_date)).all()
    assert [(v.visit_date.day, v.kind, v.officer_id, v.zone_id) for v in visits] == [
        (5, "上门拜访", world.officer_a.id, world.zone_a.id), (6, "视频会", world.officer_a.id, world.zone_a.id),
        (7, "来访考察", world.officer_a.id, world.zone_a.id)]
    first = visits[0]
    assert (first.project_id, first.our_leader, first.next_step, first.next_step_due) == (
        world.project_a.id, "管委会主任", "寄送政策", date(2024, 3, 20))
    assert visits[1].enterprise_id == visits[2].enterprise_id
    assert len(batch.changes["created"]["Enterprise"]) == 1

    again = plan_for(world.officer_a, "visits", rows, world.zone_a)
    assert again.ok and [a.action for a in again.actions] == ["skip", "skip", "skip"]
    assert "系统中已有相同的走访记录" in again.actions[0].detail


def test_visit_rows_with_problems(world):
    rows = [
        VISIT_HEADER,
        ["江苏宏达铝业有限公司", None, "不存在的项目", "2024-03-05", "上门拜访", None, "甲", None, None, None, None],
        ["江苏宏达铝业有限公司", None, None, "2024-03-05", "飞鸽传书", None, "乙", None, None, None, None],
        ["江苏宏达铝业有限公司", None, None, "2024-03-05", "电话", None, "丙", None, "回访", "2024-03-01", None],
        ["江苏宏达铝业有限公司", None, None, "2024-03-05", "电话", None, "丁", None, None, "2024-03-09", None],
        ["江苏宏达铝业有限公司", None, None, "2024-03-08", "电话", None, "戊", None, None, None, None],
        ["江苏宏达铝业有限公司", None, None, "2024-03-08", "电话", None, "戊", None, None, None, None],
        ["江苏宏达铝业有限公司", None, None, None, "电话", None, "己", None, None, None, None],
    ]
    plan = plan_for(world.officer_a, "visits", rows, world.zone_a)
    assert problems_of(plan) == [(2, "项目名称"), (3, "走访方式"), (4, "完成时限"), (5, "下一步工作"), (7, "走访日期"),
                                 (8, "走访日期")]
    assert "没有该企业名为“不存在的项目”的项目" in plan.problems[0].message
    assert "上门拜访、来访考察" in plan.problems[1].message
    assert "不能早于走访日期" in plan.problems[2].message
    assert "与第 6 行是同一次走访" in plan.problems[4].message
    assert plan.problems[5].message == "请填写走访日期"
