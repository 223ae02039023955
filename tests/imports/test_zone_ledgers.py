"""Ledgers as zones keep them (one investment column for every stage), the templates of each kind, and
the import's stage changes going through the lifecycle rules, in the import and in its revert."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm import fields
from crm.extensions import db
from crm.imports import dictionary
from crm.imports import service as import_service
from crm.imports.reading import accepted_headers, FIELD_KEYS
from crm.ledger.service import add_funds
from crm.pipeline.lifecycle import LifecycleError, plan_change, ProjectFacts, SIGNED_STAGES
from crm.pipeline.models import Project, StageEvent
from crm.pipeline.service import change_stage
from crm.visits.models import Visit
from tests import factories as f
from tests.imports.conftest import commit, plan_for, problems_of

# A 招商项目推进台账 as a zone keeps it: a title, 序号, one 计划总投资 column in 亿元 for every stage.
ZONE_HEADER = ["序号", "项目名称", "投资主体", "计划总投资（亿元）", "推进阶段", "签约时间", "开工时间", "投产时间", "责任人",
               "备注"]
STAGE_ROWS = [
    ("线索", None, None, None),
    ("接洽", None, None, None),
    ("考察", None, None, None),
    ("洽谈", None, None, None),
    ("签约", "2024.3.5", None, None),
    ("注册", "2024年1月8日", None, None),
    ("开工", "2023-11-20", "2024-02-01", None),
    ("投产", "2023-06-30", "2023-09-01", None),
    ("达产", "2022-05-06", "2022-08-01", "2023-05-01"),
]


def _zone_ledger(amounts=None) -> list[list]:
    rows = [["甲园区2024年招商项目推进台账"] + [None] * 9, ZONE_HEADER]
    for number, (stage, signed, started, production) in enumerate(STAGE_ROWS, start=1):
        amount = (amounts or {}).get(stage, f"{number}.5")
        rows.append([number, f"台账{stage}项目", f"台账{stage}科技有限公司", amount, stage, signed, started, production,
                     "chief_a", f"{stage}阶段的项目"])
    return rows


def _project(name) -> Project:
    return db.session.scalars(select(Project).where(Project.name == name, Project.deleted_at.is_(None))).one()


def _events(project) -> list[tuple[str, str]]:
    return list(db.session.execute(select(StageEvent.to_stage, StageEvent.note)
                                   .where(StageEvent.project_id == project.id).order_by(StageEvent.id)))


def test_a_zone_ledger_with_one_investment_column_imports_every_stage(world):
    plan = plan_for(world.chief_a, "projects", _zone_ledger(), world.zone_a, merges=("A1:J1",))
    assert plan.ok, plan.problems
    by_stage = {stage: action for (stage, *_), action in zip(STAGE_ROWS, plan.actions)}
    for number, (stage, *_) in enumerate(STAGE_ROWS, start=1):
        action = by_stage[stage]
        if stage in SIGNED_STAGES:
            amount = Decimal(f"{number}.5") * 10000
            assert action.notices == [f"提示：台账只有一列投资额“计划总投资（亿元）”，签约项目的协议投资额按该列计 {amount:.2f} 万元"]
            assert action.notices[0] in action.detail  # listed with the row, like the plan's other notes
        else:
            assert action.notices == [], stage
    assert plan.noticed_rows == [7, 8, 9, 10, 11]

    commit(world.chief_a, "projects", _zone_ledger(), world.zone_a, merges=("A1:J1",))
    for number, (stage, signed, started, production) in enumerate(STAGE_ROWS, start=1):
        project = _project(f"台账{stage}项目")
        amount = Decimal(f"{number}.5") * 10000
        assert project.stage == stage and project.planned_investment == amount
        assert project.contract_investment == (amount if stage in SIGNED_STAGES else None)
    reached = _project("台账达产项目")
    assert (reached.signed_date, reached.started_date, reached.production_date) == (
        date(2022, 5, 6), date(2022, 8, 1), date(2023, 5, 1))
    assert reached.registered_date is None and reached.full_production_date is None  # not in the ledger: unknown
    assert [stage for stage, _ in _events(reached)] == ["线索", "签约", "开工", "投产", "达产"]


def test_a_signed_row_without_the_amount_is_refused_at_the_investment_column(world):
    plan = plan_for(world.chief_a, "projects", _zone_ledger({"开工": None}), world.zone_a)
    assert problems_of(plan) == [(9, "计划总投资（亿元）")]
    message = plan.problems[0].message
    assert "协议投资额" in message and "计划总投资（亿元）" in message  # names the rule the row relies on


def test_a_ledger_with_a_contract_column_keeps_the_two_apart(world):
    rows = [["项目名称", "企业名称", "阶段", "计划总投资", "协议投资额", "签约日期"],
            ["两列投资的项目", "两列投资科技有限公司", "签约", 900, None, "2024-03-05"]]
    plan = plan_for(world.chief_a, "projects", rows, world.zone_a)
    assert problems_of(plan) == [(2, "协议投资额")] and not plan.noticed_rows


@pytest.mark.parametrize("cell, header", [("50000亿元", "协议投资额"), (5 * 10**8, "协议投资额（万元）"),
                                          ("5000.01亿", "计划投资")])
def test_an_amount_past_5000_yi_yuan_is_refused_with_its_row_and_column(world, cell, header):
    rows = [["项目名称", "企业名称", "阶段", "计划投资", "协议投资额", "签约日期"],
            ["巨额项目", "巨额科技有限公司", "签约", 100, 100, "2024-03-05"]]
    rows[0][rows[0].index(header.split("（")[0])] = header
    rows[1][rows[0].index(header)] = cell
    plan = plan_for(world.chief_a, "projects", rows, world.zone_a)
    assert problems_of(plan) == [(2, header)]
    assert "超过 5000 亿元" in plan.problems[0].message and "请检查单位" in plan.problems[0].message
    rows[1][rows[0].index(header)] = "1731亿元"  # 浙江石化 4000 万吨/年炼化一体化项目: a real one, accepted
    assert plan_for(world.chief_a, "projects", rows, world.zone_a).ok


# ----- templates ------------------------------------------------------------------------------
FILLED = {
    "enterprises": [{"name": "模板导入企业有限公司", "uscc": f.valid_uscc(801), "registered_capital": "1.5亿元",
                     "employees": 320, "above_scale": "是", "tags": "专精特新、高企", "local": "是",
                     "industry_code": "3252", "region_province": "江苏省"}],
    "projects": [{"name": "模板导入项目", "enterprise_name": "模板导入企业二有限公司", "stage": "开工",
                  "planned_investment": 5000, "contract_investment": 4800, "signed_date": "2024-03-05",
                  "started_date": "2024-05-06", "owner": "officer_a", "source": "以商招商", "land_area": 80,
                  "priority": "高", "stage_note": "按期开工"},
                 {"name": "模板导入搁置项目", "enterprise_name": "模板导入企业三有限公司", "stage": "搁置",
                  "stage_note": "企业资金紧张"}],
    "visits": [{"enterprise_name": world_enterprise, "project_name": "宏达铝材甲园项目", "visit_date": "2024-03-05",
                "kind": "上门拜访", "our_leader": "王主任", "summary": "洽谈扩产", "next_step": "报送方案",
                "next_step_due": "2024-04-01", "officer": "officer_a"}
               for world_enterprise in ["江苏宏达铝业有限公司"]],
}


@pytest.mark.parametrize("kind", ["enterprises", "projects", "visits"])
def test_a_filled_template_imports_cleanly(world, login_as, kind):
    response = login_as(world.officer_a).get(f"/imports/template/{kind}.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers == [import_service.FIELD_LABELS[kind][t] for t in FIELD_KEYS[kind]]
    guide = workbook["字段说明"]
    listed = {row[0]: row for row in guide.iter_rows(min_row=3, values_only=True)}
    assert set(listed) == set(headers)
    amount_header = fields.header("planned_investment" if kind == "projects" else "registered_capital")
    if kind != "visits":
        assert listed[amount_header][2] == "万元" and "不超过" in listed[amount_header][6]
    first = import_service.FIELD_LABELS[kind][next(iter(FIELD_KEYS[kind]))]
    assert listed[first][4] == "必填"
    if kind == "projects":
        assert "线索、接洽" in listed["阶段"][5] and "计划总投资" in listed[amount_header][1]

    for values in FILLED[kind]:
        sheet.append([values.get(target) for target in FIELD_KEYS[kind]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    plan = plan_for(world.officer_a, kind, buffer.getvalue(), world.zone_a)
    assert plan.ok, plan.problems
    assert plan.mapping == dict(enumerate(FIELD_KEYS[kind]))  # every template header is recognised as itself
    commit(world.officer_a, kind, buffer.getvalue(), world.zone_a)
    if kind == "projects":
        started = _project("模板导入项目")
        assert (started.stage, started.contract_investment, started.started_date) == (
            "开工", Decimal("4800.00"), date(2024, 5, 6))
        paused = _project("模板导入搁置项目")
        assert paused.stage == "搁置" and paused.stage_reason.endswith("企业资金紧张")
    if kind == "visits":
        assert db.session.scalars(select(Visit).where(Visit.summary == "洽谈扩产")).one().project_id == world.project_a.id


def test_the_import_page_offers_the_templates_and_lists_the_accepted_columns(world, login_as):
    page = login_as(world.officer_a).get("/imports/").get_data(as_text=True)
    for kind in ("enterprises", "projects", "visits"):
        assert f"/imports/template/{kind}.xlsx" in page and f'data-testid="columns-{kind}"' in page
        for column in dictionary.columns(kind):
            assert column.header in page
    assert "、".join(accepted_headers("projects", "planned_investment")[1:]) in page
    assert login_as(world.officer_a).get("/imports/template/nothing.xlsx").status_code == 404


# ----- the lifecycle ---------------------------------------------------------------------------
LEDGER = ["项目名称", "企业名称", "阶段", "协议投资额", "签约日期", "注册日期", "开工日期"]


def test_the_import_refuses_what_the_lifecycle_refuses_with_its_words(world):
    future = date.today() + timedelta(days=3)
    rows = [LEDGER, ["未来开工", "未来开工科技有限公司", "开工", 100, "2024-03-05", None, future.isoformat()]]
    plan = plan_for(world.chief_a, "projects", rows, world.zone_a)
    assert problems_of(plan) == [(2, "开工日期")]
    signed = ProjectFacts("签约", {"签约": date(2024, 3, 5)}, Decimal(100))
    with pytest.raises(LifecycleError) as refusal:
        plan_change(signed, "开工", today=date.today(), on_date=future)
    assert plan.problems[0].message == refusal.value.message  # one rule, one message


def test_an_import_step_is_the_lifecycle_plan_and_is_applied_as_it(world):
    rows = [LEDGER, [world.project_a.name, "江苏宏达铝业有限公司", "开工", 300, "2024-03-05", "2024-04-01", None]]
    plan = plan_for(world.chief_a, "projects", rows, world.zone_a)
    steps = plan.actions[0].steps
    assert [(s.change.from_stage, s.change.to_stage) for s in steps] == [("线索", "签约"), ("签约", "注册"), ("注册", "开工")]
    assert steps[0].change.set_dates == {"signed_date": date(2024, 3, 5)}
    assert steps[0].change.contract_investment == Decimal("300.00")
    assert steps[2].change.set_dates == {}  # 开工 reached on a day the ledger does not give
    commit(world.chief_a, "projects", rows, world.zone_a)
    project = db.session.get(Project, world.project_a.id)
    assert (project.stage, project.signed_date, project.registered_date, project.started_date) == (
        "开工", date(2024, 3, 5), date(2024, 4, 1), None)


def test_revert_takes_the_stage_back_through_the_lifecycle_and_clears_the_dates_the_batch_set(world):
    change_stage(world.officer_a, world.project_a, "签约", note="签了", on_date=date(2024, 1, 10),
                 contract_investment=Decimal(500))
    db.session.commit()
    rows = [LEDGER, [world.project_a.name, "江苏宏达铝业有限公司", "开工", None, None, "2024-02-01", "2024-03-01"]]
    batch = commit(world.chief_a, "projects", rows, world.zone_a)
    project = db.session.get(Project, world.project_a.id)
    assert (project.stage, project.registered_date, project.started_date) == ("开工", date(2024, 2, 1), date(2024, 3, 1))

    import_service.revert_batch(world.admin, batch)
    db.session.commit()
    db.session.expire_all()
    project = db.session.get(Project, world.project_a.id)
    assert (project.stage, project.signed_date, project.contract_investment) == ("签约", date(2024, 1, 10), Decimal("500.00"))
    assert (project.registered_date, project.started_date) == (None, None)
    to_stage, note = _events(project)[-1]
    assert to_stage == "签约" and note.startswith(f"撤销导入批次 #{batch.id}") and "已清除 注册日期" in note


def test_revert_refuses_when_the_lifecycle_does(world):
    rows = [LEDGER, [world.project_a.name, "江苏宏达铝业有限公司", "签约", 800, "2024-03-05", None, None]]
    batch = commit(world.chief_a, "projects", rows, world.zone_a)
    project = db.session.get(Project, world.project_a.id)
    add_funds(world.officer_a, project, date(2024, 4, 1), Decimal(100))  # money arrived since the import
    db.session.commit()
    with pytest.raises(import_service.ServiceError) as refusal:
        import_service.revert_batch(world.admin, batch)
    db.session.rollback()
    assert "到资" in refusal.value.message and project.name in refusal.value.message
    assert db.session.get(Project, world.project_a.id).stage == "签约"


def test_the_preview_marks_each_notice_as_a_hint_not_a_problem(world, login_as, uploads):
    from tests.imports.builders import xlsx
    from tests.imports.test_views import token_of, upload

    client = login_as(world.chief_a)
    token = token_of(upload(client, xlsx(_zone_ledger())))
    page = client.get(f"/imports/{token}").get_data(as_text=True)
    assert 'data-testid="plan-ok"' in page and "其中 5 行有提示（不影响导入）" in page
    assert page.count('data-testid="notice">提示</span>') == 5
    assert 'data-testid="commit" disabled' not in page
