from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.library.models import Enterprise
from crm.pipeline.models import Project, StageEvent
from tests import factories as f

ROLES = ["officer_a", "chief_a", "admin", "viewer_a"]


@pytest.mark.parametrize("role", ROLES)
def test_every_read_page_opens_for_every_role(world, login_as, role):
    client = login_as(getattr(world, role))
    for url in ("/", "/enterprises/", f"/enterprises/{world.enterprise.id}", "/projects/", "/projects/board",
                "/visits/", f"/projects/{world.project_a.id}", f"/visits/{world.visit_a.id}",
                "/enterprises/?q=hongda&local=target&tag=上市&sort=-revenue", "/projects/?stage=线索&sort=name"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role, expected", [("officer_a", 200), ("chief_a", 200), ("admin", 200), ("viewer_a", 403)])
def test_write_pages_by_role(world, login_as, role, expected):
    client = login_as(getattr(world, role))
    for url in ("/visits/my-work", "/enterprises/new", f"/projects/new?enterprise_id={world.enterprise.id}",
                f"/visits/new?enterprise_id={world.enterprise.id}", f"/projects/{world.project_a.id}/edit"):
        assert client.get(url).status_code == expected, url


def _fill(world, n):
    for i in range(n):
        enterprise = f.make_enterprise(world.admin, name=f"批量企业{i}有限公司")
        project = f.make_project(world.officer_a, enterprise, name=f"批量项目{i}")
        f.make_visit(world.officer_a, project=project, next_step="跟进",
                     next_step_due=date.today() + timedelta(days=i % 20))
    db.session.commit()


@pytest.mark.parametrize("url", ["/enterprises/", "/projects/", "/projects/board", "/visits/", "/visits/my-work", "/",
                                 "/enterprises/?q=pl", "/projects/?q=批量"])
def test_lists_run_a_bounded_number_of_queries(world, login_as, count_queries, url):
    client = login_as(world.officer_a)
    _fill(world, 3)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    _fill(world, 30)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= (20 if url == "/" else 12)  # the dashboard runs one query per figure


def test_create_enterprise_warns_about_duplicate_before_saving(world, login_as):
    client = login_as(world.officer_a)
    before = db.session.scalar(select(func.count()).select_from(Enterprise))
    page = client.post("/enterprises/new", data={"name": "宏达铝业（中国）有限公司", "zone_id": 0})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "疑似重复" in text and "江苏宏达铝业有限公司" in text
    assert db.session.scalar(select(func.count()).select_from(Enterprise)) == before
    saved = client.post("/enterprises/new", data={"name": "宏达铝业（中国）有限公司", "zone_id": 0,
                                                  "confirm_duplicates": "y"})
    assert saved.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Enterprise)) == before + 1


def test_same_credit_code_is_refused_with_the_existing_firm_shown(world, login_as):
    client = login_as(world.officer_a)
    page = client.post("/enterprises/new", data={"name": "另一个名字公司", "uscc": world.enterprise.uscc,
                                                 "zone_id": 0, "confirm_duplicates": "y"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "已登记在另一家企业名下" in text


def test_project_created_from_enterprise_and_advanced_to_signing(world, login_as):
    client = login_as(world.officer_a)
    target = f.make_enterprise(world.admin, name="宁波瑞丰新能源科技有限公司")
    db.session.commit()
    response = client.post(f"/projects/new?enterprise_id={target.id}",
                           data={"name": "瑞丰电池PACK项目", "planned_investment": "50000", "source": "以商招商",
                                 "priority": "高", "zone_id": world.zone_b.id, "owner_id": world.officer_b.id})
    assert response.status_code == 302
    project = db.session.scalars(select(Project).where(Project.name == "瑞丰电池PACK项目")).one()
    # zone and owner come from the signed-in officer, never from the form
    assert project.zone_id == world.zone_a.id and project.owner_id == world.officer_a.id
    for stage in ("接洽", "考察", "洽谈"):
        client.post(f"/projects/{project.id}/stage", data={"stage": stage, "version": _version(project)})
    refused = client.post(f"/projects/{project.id}/stage", data={"stage": "签约", "version": _version(project)},
                          follow_redirects=True)
    assert "协议投资额" in refused.get_data(as_text=True)
    client.post(f"/projects/{project.id}/stage", data={"stage": "签约", "version": _version(project),
                                                       "contract_investment": "48000",
                                                       "on_date": date.today().isoformat()})
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.stage == "签约" and project.signed_date == date.today()
    events = db.session.scalars(select(StageEvent).where(StageEvent.project_id == project.id)
                                .order_by(StageEvent.id)).all()
    assert [e.to_stage for e in events] == ["线索", "接洽", "考察", "洽谈", "签约"]
    timeline = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "洽谈 → <strong>签约</strong>" in timeline


def test_stale_stage_change_is_refused(world, login_as):
    client = login_as(world.officer_a)
    page = client.post(f"/projects/{world.project_a.id}/stage", data={"stage": "接洽", "version": 99},
                       follow_redirects=True)
    assert "已被他人修改" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Project, world.project_a.id).stage == "线索"


def _version(project):
    db.session.expire_all()
    return db.session.get(Project, project.id).version


@pytest.mark.parametrize("kind", ["project", "visit", "enterprise"])
def test_double_submitted_create_form_makes_one_record(world, login_as, kind):
    from crm.visits.models import Visit

    client = login_as(world.officer_a)
    url, data, model = {
        "project": (f"/projects/new?enterprise_id={world.enterprise.id}",
                    {"name": "双击项目", "source": "其他", "priority": "中"}, Project),
        "visit": (f"/visits/new?enterprise_id={world.enterprise.id}",
                  {"project_id": 0, "kind": "电话", "visit_date": date.today().isoformat(), "summary": "双击走访"}, Visit),
        "enterprise": ("/enterprises/new", {"name": "双击新材料有限公司", "zone_id": 0}, Enterprise),
    }[kind]
    token = __import__("re").search(r'name="submission_token" type="hidden" value="([^"]+)"',
                                    client.get(url).get_data(as_text=True)).group(1)
    before = db.session.scalar(select(func.count()).select_from(model))
    first = client.post(url, data={**data, "submission_token": token})
    second = client.post(url, data={**data, "submission_token": token})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(model)) == before + 1


def test_a_save_that_loses_a_race_at_the_database_gets_the_stale_message(world, login_as, monkeypatch):
    from sqlalchemy.orm.exc import StaleDataError

    from crm.pipeline import service as project_service

    def lost_race(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'projects' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(project_service, "update_project", lost_race)
    client = login_as(world.officer_a)
    response = client.post(f"/projects/{world.project_a.id}/edit", data={
        "version": 1, "name": "改名", "source": "其他", "priority": "中"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/projects/{world.project_a.id}/edit")
    assert "已被他人修改" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_edit_posted_without_its_version_is_refused_as_stale(world, login_as):
    """Leaving ``version`` out of the POST used to skip the stale-edit check."""
    client = login_as(world.officer_a)
    page = client.post(f"/projects/{world.project_a.id}/edit", follow_redirects=True,
                       data={"name": "改名而不带版本", "source": "其他", "priority": "中",
                             "owner_id": world.officer_a.id, "zone_id": world.zone_a.id})
    assert "已被他人修改" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Project, world.project_a.id).name != "改名而不带版本"

