"""The projects ledger's 产业链环节 / 所属产业链 columns: matching, dry-run problems, defaults, revert."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.catalog.models import EnterpriseSegment, Segment
from crm.errors import ServiceError
from crm.extensions import db
from crm.imports import service as import_service
from crm.imports.reading import parse_name_list, suggest_mapping
from crm.pipeline.models import Project
from crm.pipeline.service import update_project
from tests import factories as f
from tests.imports.conftest import commit, count, plan_for, problems_of, table_of

HEADER = ["项目名称", "企业名称", "阶段", "负责人", "产业环节"]


def segment(code: str) -> Segment:
    return db.session.scalars(select(Segment).where(Segment.code == code)).one()


def _map(enterprise, code: str, primary: bool = False) -> None:
    db.session.add(EnterpriseSegment(enterprise_id=enterprise.id, segment_id=segment(code).id, is_primary=primary))
    db.session.flush()


def _codes(name: str) -> list[str]:
    db.session.expire_all()
    project = db.session.scalars(select(Project).where(Project.name == name, Project.deleted_at.is_(None))).one()
    return [s.code for s in project.segments]


@pytest.fixture
def firms(world):
    """宏达 (the world's firm) makes 铝板带 (primary) and 包装铝箔; 鼎胜 makes 电池铝箔 and 锂电正极, none primary."""
    _map(world.enterprise, "AL-SHEET", primary=True)
    _map(world.enterprise, "AL-FOIL-PACKAGING")
    world.dingsheng = f.make_enterprise(world.admin, name="江州鼎胜新材料有限公司")
    _map(world.dingsheng, "AL-FOIL-BATTERY")
    _map(world.dingsheng, "AL-PROFILE-INDUSTRIAL")
    _map(world.dingsheng, "LB-CATHODE")
    db.session.commit()
    return world


@pytest.mark.parametrize("header, field", [
    ("所属产业链", "chain"), ("产业环节", "segments"), ("产业链环节", "segments"), ("所属环节", "segments"),
    ("产业链/环节", "segments"), ("所属产业链（环节）", "chain")])
def test_the_headers_zones_use_are_recognised(header, field):
    assert suggest_mapping(["项目名称", "企业名称", header], "projects")[2] == field


def test_a_cell_lists_several_names_with_any_separator():
    assert parse_name_list("电池铝箔、铝板带，AL-SHEET;正极材料；铝基新材料/电池铝箔") == [
        "电池铝箔", "铝板带", "AL-SHEET", "正极材料", "铝基新材料"]
    assert parse_name_list("  ") is None and parse_name_list("—") is None and parse_name_list("无") is None


def test_segments_match_by_name_code_or_keyword_and_a_chain_qualifies_its_segment(firms):
    rows = [HEADER,
            ["按名称", "江苏宏达铝业有限公司", "线索", None, "电池铝箔"],
            ["按代码", "江苏宏达铝业有限公司", "线索", None, "al-foil-battery"],
            ["按关键词", "江苏宏达铝业有限公司", "线索", None, "涂碳铝箔"],
            ["多个环节", "江苏宏达铝业有限公司", "线索", None, "电池铝箔、LB-CATHODE，铝板带"],
            ["链名加环节", "江苏宏达铝业有限公司", "线索", None, "铝基新材料/电池铝箔"],
            ["表单写法", "江苏宏达铝业有限公司", "线索", None, "电池铝箔（AL-FOIL-BATTERY）"]]
    plan = plan_for(firms.officer_a, "projects", rows, firms.zone_a)
    assert plan.ok, plan.problems
    assert "产业链环节：电池铝箔（AL-FOIL-BATTERY）" in plan.actions[0].detail
    commit(firms.officer_a, "projects", rows, firms.zone_a)
    for name in ("按名称", "按代码", "按关键词", "链名加环节", "表单写法"):
        assert _codes(name) == ["AL-FOIL-BATTERY"], name
    assert _codes("多个环节") == ["AL-FOIL-BATTERY", "AL-SHEET", "LB-CATHODE"]


def test_a_chain_name_alone_takes_the_enterprises_segment_in_that_chain(firms):
    rows = [["项目名称", "企业名称", "阶段", "所属产业链"],
            ["宏达链名项目", "江苏宏达铝业有限公司", "线索", "铝基新材料"],  # two there: the primary one
            ["宏达链名全称", "江苏宏达铝业有限公司", "线索", "铝基新材料产业链"],
            ["鼎胜锂电项目", "江州鼎胜新材料有限公司", "线索", "锂电池与储能"]]  # the only one there
    plan = plan_for(firms.officer_a, "projects", rows, firms.zone_a)
    assert plan.ok, plan.problems
    commit(firms.officer_a, "projects", rows, firms.zone_a)
    assert _codes("宏达链名项目") == _codes("宏达链名全称") == ["AL-SHEET"]
    assert _codes("鼎胜锂电项目") == ["LB-CATHODE"]


def test_the_chain_and_segment_columns_side_by_side(firms):
    rows = [["项目名称", "企业名称", "所属产业链", "产业环节"],
            ["两列项目", "江州鼎胜新材料有限公司", "铝基新材料", "工业型材"],
            ["只有链", "江州鼎胜新材料有限公司", "锂电池与储能", None]]
    plan = plan_for(firms.officer_a, "projects", rows, firms.zone_a)
    assert plan.ok, plan.problems
    commit(firms.officer_a, "projects", rows, firms.zone_a)
    assert _codes("两列项目") == ["AL-PROFILE-INDUSTRIAL"]
    assert _codes("只有链") == ["LB-CATHODE"]


def test_without_the_column_new_projects_take_the_enterprises_primary_segment(firms):
    rows = [["项目名称", "企业名称", "阶段"], ["宏达无环节列", "江苏宏达铝业有限公司", "线索"],
            ["新企业的项目", "江州新来科技有限公司", "线索"]]
    plan = plan_for(firms.officer_a, "projects", rows, firms.zone_a)
    assert plan.ok
    assert "产业链环节：铝板带（AL-SHEET）（企业主环节）" in plan.actions[0].detail
    commit(firms.officer_a, "projects", rows, firms.zone_a)
    assert _codes("宏达无环节列") == ["AL-SHEET"]
    assert _codes("新企业的项目") == []
    # A blank cell of the column is the same as no column.
    commit(firms.officer_a, "projects", [HEADER, ["宏达空格", "江苏宏达铝业有限公司", "线索", None, "—"]], firms.zone_a)
    assert _codes("宏达空格") == ["AL-SHEET"]


def test_names_that_match_nothing_or_several_are_dry_run_problems_and_nothing_is_imported(firms):
    rows = [HEADER,
            ["好的行", "江苏宏达铝业有限公司", "线索", None, "电池铝箔"],
            ["未知环节", "江苏宏达铝业有限公司", "线索", None, "电池"],
            ["含糊关键词", "江苏宏达铝业有限公司", "线索", None, "铝箔"],
            ["新企业只写链", "江州新来科技有限公司", "线索", None, "铝基新材料"],
            ["链中无环节", "江苏宏达铝业有限公司", "线索", None, "医药健康"],
            ["链中多个环节", "江州鼎胜新材料有限公司", "线索", None, "铝基新材料"],
            ["几条链", "江州鼎胜新材料有限公司", "线索", None, "新能源"]]
    plan = plan_for(firms.officer_a, "projects", rows, firms.zone_a)
    assert problems_of(plan) == [(row, "产业环节") for row in range(3, 9)]
    unknown, ambiguous, new_firm, no_mapping, several, group = (p.message for p in plan.problems)
    assert "包含多条产业链（锂电池与储能、新能源汽车、光伏）" in group
    assert unknown.startswith("未找到产业链环节或产业链“电池”") and "电池铝箔（AL-FOIL-BATTERY）" in unknown
    assert "包装铝箔（AL-FOIL-PACKAGING）" in ambiguous and "电池铝箔（AL-FOIL-BATTERY）" in ambiguous
    assert "请改写为其中一个环节的名称或代码" in ambiguous
    assert new_firm.startswith("未找到本次新建的企业“江州新来科技有限公司”在“铝基新材料”产业链中的环节")
    assert "新企业尚未关联环节" in new_firm and "请改写为具体环节名称或代码" in new_firm
    assert no_mapping.startswith("未找到企业“江苏宏达铝业有限公司”在“医药健康”产业链中的环节")
    assert "关联了 2 个环节" in several and "工业铝型材" in several and "电池铝箔" in several
    assert [p.value for p in plan.problems] == ["电池", "铝箔", "铝基新材料", "医药健康", "铝基新材料", "新能源"]

    projects = count(Project)
    with pytest.raises(import_service.ImportHasProblems):
        import_service.commit_import(firms.officer_a, "projects", _table(rows), None, firms.zone_a, "台账.xlsx")
    db.session.rollback()
    assert count(Project) == projects  # all or nothing: not even the good row


def _table(rows):
    return table_of(rows, kind="projects")


def test_a_filled_cell_replaces_an_existing_projects_segments_and_revert_restores_them(firms, login_as):
    project = firms.project_a
    update_project(firms.officer_a, project, {"segments": [segment("AL-SHEET"), segment("AL-FOIL-PACKAGING")]})
    db.session.commit()
    rows = [HEADER, [project.name, "江苏宏达铝业有限公司", None, None, "电池铝箔、正极"]]
    plan = plan_for(firms.officer_a, "projects", rows, firms.zone_a)
    assert plan.ok and plan.actions[0].action == "update" and "更新：产业链环节" in plan.actions[0].detail
    batch = commit(firms.officer_a, "projects", rows, firms.zone_a)
    assert _codes(project.name) == ["AL-FOIL-BATTERY", "LB-CATHODE"]
    assert batch.changes["updated"]["Project"][str(project.id)] == {"segments": ["AL-FOIL-PACKAGING", "AL-SHEET"]}
    page = login_as(firms.admin).get(f"/imports/batches/{batch.id}").get_data(as_text=True)
    assert "产业链环节：AL-FOIL-PACKAGING、AL-SHEET" in page

    # The same cell again changes nothing; a blank cell keeps what the project has.
    assert plan_for(firms.officer_a, "projects", rows, firms.zone_a).actions[0].action == "unchanged"
    rows[1][4] = None
    assert plan_for(firms.officer_a, "projects", rows, firms.zone_a).actions[0].action == "unchanged"

    import_service.revert_batch(firms.admin, batch)
    db.session.commit()
    assert _codes(project.name) == ["AL-FOIL-PACKAGING", "AL-SHEET"]


def test_revert_refuses_when_the_segments_were_changed_after_the_import(firms):
    project = firms.project_a
    rows = [HEADER, [project.name, "江苏宏达铝业有限公司", None, None, "电池铝箔"]]
    batch = commit(firms.officer_a, "projects", rows, firms.zone_a)
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    update_project(firms.officer_a, project, {"segments": [segment("LB-CATHODE")]})
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        import_service.revert_batch(firms.admin, batch)
    assert "在导入后已被修改" in refused.value.message
    db.session.rollback()
    assert _codes(project.name) == ["LB-CATHODE"]  # the later edit stands


def test_revert_of_created_projects_leaves_them_deleted_with_the_gap_analysis_unchanged(firms):
    from crm.chains import gaps as analysis

    rows = [["项目名称", "企业名称", "阶段", "协议投资额", "签约日期", "产业环节"],
            ["撤销的签约项目", "江苏宏达铝业有限公司", "签约", 118000, "2024-03-05", "电池铝箔"]]
    before = analysis.presence_for(["AL-FOIL-BATTERY"], [firms.zone_a.id], user=firms.chief_a)
    batch = commit(firms.officer_a, "projects", rows, firms.zone_a)
    after = analysis.presence_for(["AL-FOIL-BATTERY"], [firms.zone_a.id], user=firms.chief_a)
    assert before == {} and after["AL-FOIL-BATTERY"]["partial"] == 1
    import_service.revert_batch(firms.admin, batch)
    db.session.commit()
    assert analysis.presence_for(["AL-FOIL-BATTERY"], [firms.zone_a.id], user=firms.chief_a) == {}
