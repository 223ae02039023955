from datetime import date, timedelta

from crm.extensions import db
from crm.dashboard.my_work import my_work
from crm.visits.service import complete_next_step
from tests import factories as f


def _visit(world, days_ago, due_in, step="寄送政策汇编", **kw):
    today = date.today()
    return f.make_visit(world.officer_a, project=kw.pop("project", world.project_a),
                        visit_date=today - timedelta(days=days_ago), next_step=step,
                        next_step_due=today + timedelta(days=due_in), **kw)


def test_overdue_and_upcoming_next_steps_are_mine_only(world):
    overdue = _visit(world, 20, -3)
    upcoming = _visit(world, 2, 5)
    far = _visit(world, 1, 40)
    f.make_visit(world.officer_b, project=world.project_b, next_step="乙园事项",
                 visit_date=date.today() - timedelta(days=5), next_step_due=date.today() - timedelta(days=1))
    work = my_work(world.officer_a)
    assert work["overdue"] == [overdue]
    assert work["upcoming"] == [upcoming]
    assert far not in work["upcoming"]
    complete_next_step(world.officer_a, overdue)
    assert my_work(world.officer_a)["overdue"] == []


def test_stale_leads_use_the_zone_setting(world):
    # project_a's only visit is today (world fixture), so it is not stale...
    assert my_work(world.officer_a)["stale"] == []
    world.visit_a.visit_date = date.today() - timedelta(days=31)
    db.session.flush()
    stale = my_work(world.officer_a)["stale"]
    assert [row["project"] for row in stale] == [world.project_a] and stale[0]["idle_days"] == 31
    world.zone_a.stale_lead_days = 60
    db.session.flush()
    assert my_work(world.officer_a)["stale"] == []


def test_my_pipeline_counts_by_stage(world):
    f.make_project(world.officer_a, name="另一个线索")
    counts = {row["stage"]: row["count"] for row in my_work(world.officer_a)["pipeline"]}
    assert counts["线索"] == 2 and counts["签约"] == 0


def test_my_work_page_lists_a_logged_visit(world, login_as):
    client = login_as(world.officer_a)
    response = client.post(f"/visits/new?enterprise_id={world.enterprise.id}", data={
        "project_id": world.project_a.id, "kind": "电话", "visit_date": date.today().isoformat(),
        "summary": "电话沟通用地", "next_step": "发送用地红线图", "next_step_due": (date.today() + timedelta(days=3)).isoformat(),
    })
    assert response.status_code == 302
    page = client.get("/visits/my-work").get_data(as_text=True)
    assert "发送用地红线图" in page
