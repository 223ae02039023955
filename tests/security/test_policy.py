"""One policy decides who may do what (crm.permissions.refusal / can / require): every role and
ownership against every action, through the policy, the services, the pages and the import; and no
other code looks at a role."""
from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from crm.audit.log import acting_as
from crm.extensions import db
from crm.ledger.service import add_funds
from crm.permissions import ANY, SYSTEM, NotAllowed, can, refusal
from crm.pipeline.models import Project
from crm.pipeline.service import update_project
from crm.pipeline.stages import change_stage
from crm.records import soft_delete
from crm.visits.models import Visit
from crm.visits.service import complete_next_step, update_visit
from tests import factories as f

ACTORS = ("owner", "colleague", "chief_a", "viewer_a", "officer_b", "chief_b", "admin", "system")


@pytest.fixture
def people(world):
    """The world's people by the part they play towards officer_a's project, plus a colleague:
    another officer of zone A who owns nothing here."""
    colleague = f.make_user("officer", [world.zone_a], username="colleague_a")
    db.session.commit()
    return {"owner": world.officer_a, "colleague": colleague, "chief_a": world.chief_a,
            "viewer_a": world.viewer_a, "officer_b": world.officer_b, "chief_b": world.chief_b,
            "admin": world.admin, "system": SYSTEM}


def _allowed(people, action, record, **context) -> set[str]:
    return {name for name, actor in people.items() if can(actor, action, record, **context)}


def test_who_may_change_a_project_and_choose_its_owner(world, people):
    assert _allowed(people, "project.change", world.project_a) == {"owner", "chief_a", "admin", "system"}
    assert _allowed(people, "project.assign", world.project_a) == {"chief_a", "admin", "system"}
    assert _allowed(people, "project.assign", ANY) == {"chief_a", "chief_b", "admin", "system"}


def test_who_may_change_a_visit(world, people):
    # Logged by officer_a on officer_a's project; and one the colleague logged on it.
    assert _allowed(people, "visit.change", world.visit_a) == {"owner", "chief_a", "admin", "system"}
    with acting_as(db.session, people["colleague"]):
        colleagues = f.make_visit(people["colleague"], project=world.project_a, summary="同事陪同走访")
    assert _allowed(people, "visit.change", colleagues) == {"colleague", "owner", "chief_a", "admin", "system"}


def test_who_may_manage_parcels_accept_and_act_on_compliance(world, people):
    """标准地 and 履约监管: parcels, 达产验收 and actions (约谈, 限期整改, 收回/清退) are the zone chiefs' and the
    admin's; a project's parcels, actuals and developed area are whoever changes the project."""
    for action in ("parcel.change", "land.accept", "compliance.act"):
        assert _allowed(people, action, world.zone_a.id) == {"chief_a", "admin", "system"}, action
        assert _allowed(people, action, world.project_a) == {"chief_a", "admin", "system"}, action
        assert _allowed(people, action, ANY) == {"chief_a", "chief_b", "admin", "system"}, action
    from crm.compliance.models import DevelopedArea
    from crm.land.models import ProjectParcel

    link = ProjectParcel(zone_id=world.zone_a.id, project_id=world.project_a.id, parcel_id=0)
    link.project = world.project_a
    developed = DevelopedArea(zone_id=world.zone_a.id, project_id=world.project_a.id, area=1)
    developed.project = world.project_a
    assert _allowed(people, "land.link", link) == {"owner", "chief_a", "admin", "system"}
    assert _allowed(people, "compliance.record", developed) == {"owner", "chief_a", "admin", "system"}


def test_who_may_write_in_a_zone_import_and_read_reports(world, people):
    assert _allowed(people, "zone.write", world.zone_a.id) == {"owner", "colleague", "chief_a", "admin", "system"}
    assert _allowed(people, "import.run", world.zone_a) == {"owner", "colleague", "chief_a", "admin", "system"}
    assert _allowed(people, "reports.read", world.zone_a.id) == {"chief_a", "viewer_a", "admin", "system"}
    assert _allowed(people, "reports.set_targets", world.zone_a.id) == {"chief_a", "admin", "system"}
    assert _allowed(people, "zone.set_leading_chains", world.zone_a) == {"chief_a", "admin", "system"}
    for city_only in ("city.all_zones", "enterprise.merge", "import.revert", "ruling.decide", "ruling.reopen",
                      "trash.restore", "jobs.see_all", "admin.manage", "api.platform_tokens"):
        assert _allowed(people, city_only, ANY) == {"admin", "system"}, city_only


def test_who_may_enter_figures_and_run_the_efficiency_evaluation(world, people):
    with acting_as(db.session, world.admin):
        local_b = f.make_enterprise(world.admin, name="乙园亩均企业有限公司", zone_id=world.zone_b.id)
    assert _allowed(people, "efficiency.enter", local_b) == {"officer_b", "chief_b", "admin", "system"}
    assert _allowed(people, "efficiency.enter", world.enterprise) == {"admin", "system"}  # a target: no figures
    assert _allowed(people, "efficiency.evaluate", world.zone_a.id) == {"chief_a", "admin", "system"}
    assert _allowed(people, "efficiency.evaluate", world.zone_b.id) == {"chief_b", "admin", "system"}


def test_who_may_serve_firms_and_handle_their_requests(world, people):
    # 包保: the zone's chiefs name the service officer; every writer of the zone handles its requests.
    assert _allowed(people, "service.assign", world.zone_a.id) == {"chief_a", "admin", "system"}
    assert _allowed(people, "service.assign", ANY) == {"chief_a", "chief_b", "admin", "system"}
    assert _allowed(people, "request.change", world.zone_a.id) == {"owner", "colleague", "chief_a", "admin", "system"}
    assert _allowed(people, "service.settings", world.zone_a.id) == {"chief_a", "admin", "system"}


def test_the_shared_library_rules(world, people):
    target = world.enterprise  # no zone: a target every zone may edit and map
    assert _allowed(people, "enterprise.edit", target) == set(ACTORS) - {"viewer_a"}
    with acting_as(db.session, world.admin):
        local_b = f.make_enterprise(world.admin, name="乙园在园企业有限公司", zone_id=world.zone_b.id)
    assert _allowed(people, "enterprise.edit", local_b) == {"officer_b", "chief_b", "admin", "system"}
    assert _allowed(people, "enterprise.map", local_b) == {"officer_b", "chief_b", "admin", "system"}
    assert _allowed(people, "enterprise.rehome", target, to_zone_id=world.zone_a.id) == \
        {"owner", "colleague", "chief_a", "admin", "system"}
    assert _allowed(people, "enterprise.rehome", local_b, to_zone_id=world.zone_a.id) == {"admin", "system"}
    assert _allowed(people, "enterprise.rehome", local_b, to_zone_id=None) == {"admin", "system"}
    assert _allowed(people, "enterprise.delete", target, working_zone_ids=[]) == {"chief_a", "chief_b", "admin", "system"}
    assert _allowed(people, "enterprise.delete", target, working_zone_ids=[world.zone_b.id]) == \
        {"chief_b", "admin", "system"}


def test_contacts_and_notes_belong_to_their_zone(world, people):
    from crm.library.service import add_contact

    contact = add_contact(world.officer_b, world.enterprise, {"name": "乙园联系人"})
    assert _allowed(people, "contact.change", contact) == {"officer_b", "chief_b", "admin", "system"}


def test_a_refusal_is_a_chinese_reason_and_an_anonymous_actor_may_nothing(world):
    reason = refusal(world.officer_b, "project.change", world.project_a)
    assert reason.message == "只能处理本人所属园区的数据"
    assert refusal(None, "zone.write", world.zone_a.id).message == "请先登录"
    with pytest.raises(ValueError):
        refusal(world.admin, "project.fly", world.project_a)


def test_the_services_ask_the_policy(world, people):
    colleague = people["colleague"]
    with pytest.raises(NotAllowed, match="只有项目负责人、本园区负责人或市投促中心可以修改该项目"):
        update_project(colleague, world.project_a, {"name": "同事改名"})
    with pytest.raises(NotAllowed):
        change_stage(colleague, world.project_a, "接洽")
    with pytest.raises(NotAllowed):
        soft_delete(colleague, world.project_a)
    with pytest.raises(NotAllowed):
        update_visit(colleague, world.visit_a, {"summary": "同事改写"})
    with pytest.raises(NotAllowed):
        complete_next_step(world.viewer_a, world.visit_a)
    db.session.rollback()
    with acting_as(db.session, world.officer_a):
        change_stage(world.officer_a, world.project_a, "签约", contract_investment=1000,
                     on_date=date.today().replace(day=1))
    with pytest.raises(NotAllowed):
        add_funds(colleague, world.project_a, date.today().replace(day=1), Decimal("10"))
    # The chief changes every project of the zone, and may hand it to the colleague.
    with acting_as(db.session, world.chief_a):
        update_project(world.chief_a, world.project_a, {"owner_id": colleague.id})
    assert world.project_a.owner_id == colleague.id
    assert can(colleague, "project.change", world.project_a)
    assert not can(world.officer_a, "project.change", world.project_a)


def test_an_officer_cannot_hand_their_project_to_someone_else(world, people):
    with acting_as(db.session, world.officer_a), pytest.raises(NotAllowed, match="指定项目负责人"):
        update_project(world.officer_a, world.project_a, {"owner_id": people["colleague"].id})


def test_the_pages_ask_the_policy(world, people, login_as):
    client = login_as(people["colleague"])
    project = world.project_a
    detail = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "宏达铝材甲园项目" in detail  # read in full
    assert f"/projects/{project.id}/edit" not in detail and "阶段变更" not in detail
    assert "记录走访" in detail  # a colleague logs visits on it

    response = client.get(f"/projects/{project.id}/edit")
    assert response.status_code == 302 and response.location.endswith(f"/projects/{project.id}")
    assert "只有项目负责人" in client.get(response.location).get_data(as_text=True)
    client.post(f"/projects/{project.id}/stage", data={"stage": "接洽", "version": project.version})
    client.post(f"/projects/{project.id}/delete")
    db.session.expire_all()
    kept = db.session.get(Project, project.id)
    assert kept.stage == "线索" and kept.deleted_at is None
    board = client.get("/projects/board").get_data(as_text=True)
    assert f'action="/projects/{project.id}/stage"' not in board
    client.post(f"/visits/{world.visit_a.id}/delete")
    db.session.expire_all()
    assert db.session.get(Visit, world.visit_a.id).deleted_at is None

    owner = login_as(world.officer_a)
    assert f"/projects/{project.id}/edit" in owner.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f'action="/projects/{project.id}/stage"' in owner.get("/projects/board").get_data(as_text=True)


def test_the_navigation_follows_the_policy(world, login_as):
    viewer = login_as(world.viewer_a).get("/").get_data(as_text=True)
    assert "报表" in viewer and "导入" not in viewer and "我的工作" not in viewer and "系统管理" not in viewer
    officer = login_as(world.officer_a).get("/").get_data(as_text=True)
    assert "导入" in officer and "我的工作" in officer and "报表" not in officer and "系统管理" not in officer


def test_the_import_refuses_a_colleagues_project_at_its_row(world, people):
    from tests.imports.conftest import plan_for  # the import's own test helper

    rows = [["项目名称", "企业名称", "项目阶段"], ["宏达铝材甲园项目", "江苏宏达铝业有限公司", "接洽"]]
    plan = plan_for(people["colleague"], "projects", rows, world.zone_a)
    assert [(p.row, p.message) for p in plan.problems] == \
        [(2, "只有项目负责人、本园区负责人或市投促中心可以修改该项目")]
    assert not plan_for(world.officer_a, "projects", rows, world.zone_a).problems


# Roles are read in the policy alone. The accounts feature manages roles (the user form, who must use
# two-factor sign-in) and the demo assigns them; everything else asks the policy.
ROLE_READERS = {"crm/permissions.py", "crm/accounts/service.py", "crm/accounts/users.py", "crm/accounts/forms.py",
                "crm/accounts/models.py", "crm/demo.py"}


def test_no_code_outside_the_policy_looks_at_a_role():
    root = Path(__file__).resolve().parents[2]
    found = []
    for path in sorted((root / "crm").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in ROLE_READERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "role" and not isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id in {"User", "form"}:
                    continue  # a query's column (User.role.in_(…)) or the user form's field, not a check
                found.append(f"{name}:{node.lineno}")
    for path in sorted((root / "crm").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        if "current_user.role" in text or "can_write" in text:
            found.append(path.relative_to(root).as_posix())
    assert not found, f"role checks outside crm/permissions.py: {found}"
