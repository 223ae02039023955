"""An officer of zone A never sees zone B's projects or visits: 404 on their URLs, absent from lists."""
import pytest

PROJECT_URLS = ("/projects/{id}", "/projects/{id}/edit")
PROJECT_POSTS = ("/projects/{id}/stage", "/projects/{id}/delete")
VISIT_URLS = ("/visits/{id}", "/visits/{id}/edit")
VISIT_POSTS = ("/visits/{id}/done", "/visits/{id}/delete")


@pytest.mark.parametrize("role", ["officer_a", "chief_a"])
def test_zone_a_gets_404_for_every_zone_b_project_and_visit_url(world, login_as, role):
    client = login_as(getattr(world, role))
    for template in PROJECT_URLS:
        assert client.get(template.format(id=world.project_b.id)).status_code == 404, template
    for template in VISIT_URLS:
        assert client.get(template.format(id=world.visit_b.id)).status_code == 404, template
    for template in PROJECT_POSTS:
        assert client.post(template.format(id=world.project_b.id), data={"stage": "接洽"}).status_code == 404
    for template in VISIT_POSTS:
        assert client.post(template.format(id=world.visit_b.id)).status_code == 404


def test_viewer_gets_404_for_other_zone_and_403_for_every_write(world, login_as):
    client = login_as(world.viewer_a)
    assert client.get(f"/projects/{world.project_b.id}").status_code == 404
    assert client.get(f"/visits/{world.visit_b.id}").status_code == 404
    assert client.get(f"/projects/{world.project_a.id}").status_code == 200
    # Refused before any lookup, so the answer is the same for both zones and reveals nothing.
    for project in (world.project_a, world.project_b):
        assert client.get(f"/projects/{project.id}/edit").status_code == 403
        assert client.post(f"/projects/{project.id}/delete").status_code == 403
    for visit in (world.visit_a, world.visit_b):
        assert client.get(f"/visits/{visit.id}/edit").status_code == 403


def test_zone_a_opens_its_own_project_and_visit(world, login_as):
    client = login_as(world.officer_a)
    assert client.get(f"/projects/{world.project_a.id}").status_code == 200
    assert client.get(f"/visits/{world.visit_a.id}").status_code == 200


def test_denied_posts_change_nothing(world, login_as):
    from crm.extensions import db
    from crm.pipeline.models import Project

    client = login_as(world.officer_a)
    client.post(f"/projects/{world.project_b.id}/delete")
    client.post(f"/projects/{world.project_b.id}/stage", data={"stage": "接洽", "version": 1})
    db.session.expire_all()
    project = db.session.get(Project, world.project_b.id)
    assert project.deleted_at is None and project.stage == "线索"


@pytest.mark.parametrize(
    "url",
    ["/projects/", "/projects/?q=宏达", "/projects/?q=hongda", "/projects/?q=hd", "/projects/board",
     "/visits/", "/visits/?q=宏达", "/", f"/projects/?zone_id=999"],
)
def test_lists_and_searches_never_include_zone_b(world, login_as, url):
    page = login_as(world.officer_a).get(url).get_data(as_text=True)
    assert "乙园机密" not in page
    assert f"/projects/{world.project_b.id}\"" not in page


def test_lists_show_zone_a_rows(world, login_as):
    client = login_as(world.officer_a)
    assert "宏达铝材甲园项目" in client.get("/projects/?q=hongda").get_data(as_text=True)
    assert "甲园走访" not in client.get("/visits/?q=乙园").get_data(as_text=True)


def test_enterprise_page_shows_only_own_zone_projects(world, login_as):
    page = login_as(world.officer_a).get(f"/enterprises/{world.enterprise.id}").get_data(as_text=True)
    assert "宏达铝材甲园项目" in page
    assert "乙园机密" not in page


def test_admin_sees_both_zones(world, login_as):
    page = login_as(world.admin).get("/projects/").get_data(as_text=True)
    assert "宏达铝材甲园项目" in page and "宏达铝材乙园机密项目" in page
