"""A form with mistakes comes back with Chinese messages beside the fields, and saves nothing."""
from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from crm.audit.log import acting_as, snapshot
from crm.extensions import db
from crm.audit.models import AuditEntry
from crm.library.models import Enterprise
from crm.pipeline.models import Project, StageEvent
from crm.errors import ServiceError
from crm.pipeline.service import change_stage, update_project
from tests import factories as f

CJK = re.compile(r"[\u4e00-\u9fff]")
BAD_USCC = "91341200MA2XXXXXX0"


class _FieldErrors(HTMLParser):
    """Each ``invalid-feedback`` message, filed under the form control just before it."""

    def __init__(self):
        super().__init__()
        self.errors: dict[str, list[str]] = {}
        self.invalid: set[str] = set()
        self._field = None
        self._in_feedback = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"input", "select", "textarea"} and attrs.get("name") and attrs.get("type") != "hidden":
            self._field = attrs["name"]
            if "is-invalid" in (attrs.get("class") or "").split():
                self.invalid.add(self._field)
        elif tag == "div" and "invalid-feedback" in (attrs.get("class") or "").split():
            self._in_feedback = True

    def handle_endtag(self, tag):
        if tag == "div":
            self._in_feedback = False

    def handle_data(self, data):
        if self._in_feedback and data.strip() and self._field:
            self.errors.setdefault(self._field, []).append(data.strip())


def field_errors(html: str) -> _FieldErrors:
    parser = _FieldErrors()
    parser.feed(html)
    return parser


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Enterprise)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)))


def enterprise_form(**changes):
    data = {"name": "合肥新锐铝业有限公司", "uscc": "", "zone_id": "0", "registered_capital": "1000"}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"name": ""}, "name", ["请填写企业名称"]),
        ({"name": "   "}, "name", ["请填写企业名称"]),
        ({"uscc": BAD_USCC}, "uscc", ["统一社会信用代码", "无效"]),
        ({"uscc": "12345"}, "uscc", ["统一社会信用代码", "无效"]),
        ({"registered_capital": "-1"}, "registered_capital", ["不能为负数"]),
        ({"annual_revenue": "-0.01"}, "annual_revenue", ["不能为负数"]),
        ({"registered_capital": "一千"}, "registered_capital", []),
        ({"employees": "-3"}, "employees", []),
    ],
    ids=["empty-name", "blank-name", "bad-check-digit", "short-code", "negative-capital",
         "negative-revenue", "not-a-number", "negative-employees"],
)
def test_enterprise_form_errors_are_chinese_beside_the_field_and_nothing_is_saved(
    world, login_as, changes, field, expected
):
    client = login_as(world.officer_a)
    before = counts()
    response = client.post("/enterprises/new", data=enterprise_form(**changes))
    assert response.status_code == 200
    parsed = field_errors(response.get_data(as_text=True))
    messages = parsed.errors.get(field, [])
    assert messages, f"no error shown beside {field}: {parsed.errors}"
    assert field in parsed.invalid
    for text in expected:
        assert any(text in message for message in messages), messages
    assert all(CJK.search(message) for message in messages), messages  # no English left over
    assert set(parsed.errors) == {field}, parsed.errors  # the other fields were fine
    db.session.expire_all()
    assert counts() == before


def test_a_rejected_form_keeps_what_the_user_typed(world, login_as):
    client = login_as(world.officer_a)
    page = client.post("/enterprises/new", data=enterprise_form(uscc=BAD_USCC, address="临江区创业路 8 号"))
    html = page.get_data(as_text=True)
    assert 'value="合肥新锐铝业有限公司"' in html
    assert "临江区创业路 8 号" in html


def test_a_valid_enterprise_form_saves_one_row(world, login_as):
    client = login_as(world.officer_a)
    before = counts()
    response = client.post("/enterprises/new", data=enterprise_form(uscc=f.valid_uscc(2024)))
    assert response.status_code == 302
    db.session.expire_all()
    assert counts()[0] == before[0] + 1


def test_a_duplicate_credit_code_is_refused_beside_the_field(world, login_as):
    client = login_as(world.officer_a)
    before = counts()
    response = client.post(
        "/enterprises/new",
        data=enterprise_form(name="另一家公司有限公司", uscc=world.enterprise.uscc, confirm_duplicates="y"),
    )
    assert response.status_code == 200
    messages = field_errors(response.get_data(as_text=True)).errors.get("uscc", [])
    assert any("统一社会信用代码" in m for m in messages), messages
    db.session.expire_all()
    assert counts() == before


# --- stale edits ----------------------------------------------------------------------------------


def test_a_stale_project_edit_is_refused_and_keeps_the_other_persons_change(world, login_as):
    project = world.project_a
    opened_version = project.version
    # The chief saves while the officer still has the form open.
    with acting_as(db.session, world.chief_a):
        update_project(world.chief_a, project, {"name": "负责人刚改的名字"}, version=opened_version)
    db.session.commit()
    client = login_as(world.officer_a)
    response = client.post(
        f"/projects/{project.id}/edit",
        data={"name": "专员的旧表单", "source": "其他", "priority": "中", "version": opened_version},
    )
    assert response.status_code == 200
    assert "已被他人修改" in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Project, project.id)
    assert saved.name == "负责人刚改的名字"
    assert saved.version == opened_version + 1


def test_a_stale_enterprise_edit_is_refused(world, login_as):
    enterprise = world.enterprise
    opened_version = enterprise.version
    from crm.library.service import update_enterprise

    update_enterprise(world.admin, enterprise, {"address": "别人刚填的地址"}, version=opened_version)
    db.session.commit()
    client = login_as(world.officer_a)
    response = client.post(
        f"/enterprises/{enterprise.id}/edit",
        data=enterprise_form(name=enterprise.name, uscc=enterprise.uscc, address="旧表单地址",
                             version=opened_version),
    )
    assert response.status_code == 200
    assert "已被他人修改" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enterprise, enterprise.id).address == "别人刚填的地址"


def test_an_edit_with_the_current_version_is_saved(world, login_as):
    project = world.project_a
    client = login_as(world.officer_a)
    response = client.post(
        f"/projects/{project.id}/edit",
        data={"name": "新名字", "source": "其他", "priority": "中", "version": project.version},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).name == "新名字"


# --- stage rules ----------------------------------------------------------------------------------


def _events(project) -> int:
    return db.session.scalar(select(func.count()).select_from(StageEvent).where(StageEvent.project_id == project.id))


def _refused(actor, project, to_stage, **kwargs) -> str:
    before, events = snapshot(project), _events(project)
    with pytest.raises(ServiceError) as error:
        change_stage(actor, project, to_stage, **kwargs)
    db.session.flush()
    assert snapshot(project) == before
    assert _events(project) == events
    assert CJK.search(error.value.message), error.value.message
    return error.value.message


@pytest.fixture
def negotiating(world):
    """Project A at 洽谈, its history recorded step by step."""
    project = world.project_a
    for stage in ("接洽", "考察", "洽谈"):
        change_stage(world.officer_a, project, stage)
    db.session.commit()
    return project


def test_moving_back_needs_a_note(world, negotiating):
    message = _refused(world.officer_a, negotiating, "接洽")
    assert "退回" in message and "原因" in message
    change_stage(world.officer_a, negotiating, "接洽", note="企业要求重新评估选址")
    assert negotiating.stage == "接洽"


def test_signing_needs_the_contract_investment(world, negotiating):
    assert "协议投资额" in _refused(world.officer_a, negotiating, "签约")
    assert "协议投资额" in _refused(world.officer_a, negotiating, "签约", contract_investment=Decimal("0"))
    change_stage(world.officer_a, negotiating, "签约", contract_investment=Decimal("20000"))
    assert negotiating.stage == "签约" and negotiating.signed_date is not None


def test_construction_before_signing_is_refused(world, negotiating):
    assert "签约" in _refused(world.officer_a, negotiating, "开工")
    assert "签约" in _refused(world.officer_a, negotiating, "注册")


def test_an_unknown_stage_is_refused(world, negotiating):
    assert "未知阶段" in _refused(world.officer_a, negotiating, "完工")
    assert "未知阶段" in _refused(world.officer_a, negotiating, "")


@pytest.mark.parametrize("side_stage", ["终止", "搁置"])
def test_dropping_or_holding_needs_a_reason(world, negotiating, side_stage):
    assert "原因" in _refused(world.officer_a, negotiating, side_stage)
    assert "原因" in _refused(world.officer_a, negotiating, side_stage, note="   ")
    change_stage(world.officer_a, negotiating, side_stage, note="企业已在外省落地")
    assert negotiating.stage == side_stage and negotiating.stage_reason == "企业已在外省落地"


def test_restarting_a_dropped_project_needs_a_reason(world, negotiating):
    change_stage(world.officer_a, negotiating, "终止", note="企业放弃")
    assert "原因" in _refused(world.officer_a, negotiating, "洽谈")


def test_a_stage_change_against_a_stale_version_is_refused(world, negotiating):
    assert "已被他人修改" in _refused(world.officer_a, negotiating, "签约", contract_investment=Decimal("1"),
                                   version=negotiating.version - 1)


def test_a_refused_stage_change_through_the_site_is_shown_in_chinese(world, login_as, negotiating):
    client = login_as(world.officer_a)
    response = client.post(f"/projects/{negotiating.id}/stage",
                           data={"stage": "开工", "version": negotiating.version}, follow_redirects=True)
    assert response.status_code == 200  # the page again, with the message beside the form
    assert "尚未签约" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Project, negotiating.id).stage == "洽谈"
