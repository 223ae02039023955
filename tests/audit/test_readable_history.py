"""The history people read: Chinese labels, local times, formatted values, on the record pages and the
admin's audit log, with filters in Chinese."""
from __future__ import annotations

from decimal import Decimal

from crm.audit import readable
from crm.audit.log import acting_as
from crm.extensions import db
from crm.pipeline.service import update_project


def test_an_update_reads_with_labels_and_formatted_values():
    found = readable.changes("Project", "update", {"planned_investment": "1500.00", "stage": "线索",
                                                   "signed_date": None},
                             {"planned_investment": "32000.50", "stage": "签约", "signed_date": "2026-12-01"})
    assert [(c.label, c.before, c.after) for c in found] == [
        ("计划投资额", "1,500 万元", "32,000.5 万元"), ("阶段", "线索", "签约"), ("签约日期", "（空）", "2026-12-01")]


def test_times_read_in_the_zones_local_time_and_kinds_in_chinese():
    assert readable.local_time("2026-12-01T13:30:10.488377+00:00") == "2026-12-01 21:30"
    assert readable.format_value("Project", "deleted_at", "2026-12-01T13:30:10+00:00") == "2026-12-01 21:30"
    assert readable.kind_label("FundsInPlace") == "到资" and readable.kind_label("Project") == "项目"
    assert readable.format_value("Project", "confidential", True) == "是"


def _change_project(world):
    with acting_as(db.session, world.officer_a):
        update_project(world.officer_a, world.project_a, {"planned_investment": Decimal("32000")})
    db.session.commit()


def test_the_project_page_shows_its_history_in_chinese(world, login_as):
    _change_project(world)
    page = login_as(world.officer_a).get(f"/projects/{world.project_a.id}").get_data(as_text=True)
    history = page[page.index("变更记录"):]
    assert "计划投资额" in history and "32,000 万元" in history
    assert world.officer_a.display_name in history and "planned_investment" not in history


def test_a_confidential_projects_history_is_not_shown_to_a_masked_reader(world, login_as):
    world.project_a.confidential = True
    db.session.commit()
    _change_project(world)
    response = login_as(world.viewer_a).get(f"/projects/{world.project_a.id}")
    assert response.status_code == 404 or "32,000 万元" not in response.get_data(as_text=True)


def test_the_admin_audit_page_reads_in_chinese_and_filters_by_kind_user_zone_and_period(world, login_as):
    _change_project(world)
    client = login_as(world.admin)
    page = client.get("/admin/audit?kind=Project").get_data(as_text=True)
    assert "全部类型" in page and ">项目<" in page and "计划投资额" in page and "32,000 万元" in page
    assert "planned_investment" not in page and "\\u" not in page
    by_user = client.get(f"/admin/audit?kind=Project&actor_id={world.officer_b.id}&action=update").get_data(as_text=True)
    assert "32,000 万元" not in by_user
    by_zone = client.get(f"/admin/audit?zone_id={world.zone_a.id}&action=update").get_data(as_text=True)
    assert "32,000 万元" in by_zone
    assert "32,000 万元" not in client.get("/admin/audit?action=update&until=2000-01-01").get_data(as_text=True)
    assert client.get("/admin/audit?since=nonsense&zone_id=x").status_code == 200


def test_every_audited_kind_has_a_chinese_name():
    """A new audited model must be named in the history, never shown by its class name."""
    audited = {mapper.class_.__name__ for mapper in db.Model.registry.mappers
               if getattr(mapper.class_, "__audited__", False)}
    assert audited and not audited - set(readable.KINDS), sorted(audited - set(readable.KINDS))
