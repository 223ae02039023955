"""The stage form on the project page: the next stage proposed, refusals beside their fields with what
was typed kept, and a message that says 推进 or 退回."""
import re
from datetime import date, timedelta

from crm.extensions import db
from crm.pipeline.models import Project
from tests.ledger.conftest import sign


def _selected_stage(html: str) -> str:
    form = html[html.index('data-testid="stage-form"'):]
    return re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', form).group(0)


def test_the_form_proposes_the_next_stage(world, login_as):
    page = login_as(world.officer_a).get(f"/projects/{world.project_a.id}").get_data(as_text=True)
    assert "接洽" in _selected_stage(page)


def test_a_refused_change_keeps_what_was_typed_beside_its_field(world, login_as):
    client = login_as(world.officer_a)
    response = client.post(f"/projects/{world.project_a.id}/stage",
                           data={"stage": "签约", "note": "对方董事会已通过", "on_date": date.today().isoformat(),
                                 "version": world.project_a.version})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "对方董事会已通过" in html  # the note typed is still there
    assert re.search(r'is-invalid[^>]*name="contract_investment"|name="contract_investment"[^>]*is-invalid', html)
    assert "签约须填写协议投资额" in html
    db.session.expire_all()
    assert db.session.get(Project, world.project_a.id).stage == "线索"


def test_the_message_says_forward_or_back(world, login_as):
    project = sign(world.officer_a, world.project_a, days_ago=10)
    db.session.commit()
    client = login_as(world.officer_a)
    forward = client.post(f"/projects/{project.id}/stage", follow_redirects=True,
                          data={"stage": "注册", "on_date": (date.today() - timedelta(days=1)).isoformat(),
                                "version": project.version}).get_data(as_text=True)
    assert "项目已推进到“注册”" in forward
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    back = client.post(f"/projects/{project.id}/stage", follow_redirects=True,
                       data={"stage": "签约", "note": "执照重办", "version": project.version}).get_data(as_text=True)
    assert "项目已退回到“签约”" in back
    db.session.expire_all()
    assert db.session.get(Project, project.id).registered_date is None
