"""No mass assignment: every create/edit form, sent its normal data plus fields it must not take from
this user (``zone_id`` of 乙园区, ``owner_id``/``officer_id`` of officer_b, ``role=admin``,
``stage=达产``, ``version``, ``deleted_at``, ``id``, ...), stores only what the form may set.

And the choices the pages offer: every zone select (dashboard, board, project list, reports, the chain
zone selector) lists only the caller's zones, and the owner and project selects only their people
and projects. The enterprise form's 所在园区 select lists every zone on purpose: the library is
city-wide and any writer records where a firm is local (crm/enterprises/views.py ``_prepare``).
"""
from __future__ import annotations

import uuid
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.ledger.models import CapitalIncrease, FundsInPlace, ZoneTarget
from crm.library.models import Enterprise
from crm.catalog.models import EnterpriseSegment
from crm.pipeline.models import Project, StageEvent
from crm.accounts.models import User
from crm.visits.models import Visit
from crm.accounts.zones import Zone
from tests import factories as f
from tests.security import figures
from tests.security.routes import CHAIN, NEW_PASSWORD, PASSWORD

TODAY = date.today()


def forged(w, **normal) -> dict:
    """The page's normal data, plus every field a forged request might add; the normal data wins."""
    extras = {
        "zone_id": w.zone_b.id, "zone_ids": [w.zone_b.id], "owner_id": w.officer_b.id,
        "officer_id": w.officer_b.id, "created_by_id": w.officer_b.id, "actor_id": w.officer_b.id,
        "enterprise_id": w.enterprise.id, "project_id": w.project_b.id, "role": "admin", "stage": "达产",
        "version": "7", "deleted_at": "2020-01-01T00:00:00", "id": w.project_b.id, "username": "hijacked",
        "password_hash": "x", "active": "y", "session_version": "99", "totp_secret": "JBSWY3DPEHPK3PXP",
        "signed_date": "2000-01-01", "contract_investment": "99999", "name_normalized": "伪造",
        "search_pinyin": "weizao", "require_2fa_privileged": "y", "level": "国家级",
    }
    return {**extras, **normal}


def post(client, path, data):
    return client.post(path, data=data, content_type="multipart/form-data")


def fields(record, *names) -> dict:
    db.session.refresh(record)
    return {name: getattr(record, name) for name in names}


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


PROJECT_GUARDED = ("id", "zone_id", "owner_id", "enterprise_id", "stage", "deleted_at", "signed_date",
                   "contract_investment")


@pytest.fixture(autouse=True)
def _count(pytestconfig):
    yield
    figures.add(pytestconfig, "mass assignment", "forms and select pages checked")


# --- projects ---------------------------------------------------------------------------------
def test_an_officers_new_project_is_in_their_zone_owned_by_them_whatever_is_sent(world, login_as):
    w = world
    other_before = fields(w.project_b, *PROJECT_GUARDED, "name")
    client = login_as(w.officer_a)
    response = post(client, f"/projects/new?enterprise_id={w.enterprise.id}", forged(
        w, name="越权新建项目", source="其他", priority="中", submission_token=uuid.uuid4().hex))
    assert response.status_code == 302
    project = db.session.scalars(select(Project).where(Project.name == "越权新建项目")).one()
    assert (project.zone_id, project.owner_id, project.stage, project.version, project.deleted_at) == (
        w.zone_a.id, w.officer_a.id, "线索", 1, None)
    assert project.id != w.project_b.id and project.enterprise_id == w.enterprise.id
    assert project.signed_date is None and project.contract_investment is None
    assert [e.to_stage for e in db.session.scalars(select(StageEvent).where(StageEvent.project_id == project.id))] \
        == ["线索"]
    assert fields(w.project_b, *PROJECT_GUARDED, "name") == other_before
    assert fields(w.officer_a, "role", "username")["role"] == "officer"


def test_a_chief_cannot_give_a_new_project_to_another_zones_officer(world, login_as):
    w = world
    client = login_as(w.chief_a)
    refused = post(client, f"/projects/new?enterprise_id={w.enterprise.id}", forged(
        w, name="越权负责人项目", source="其他", priority="中", submission_token=uuid.uuid4().hex))
    assert refused.status_code == 200  # the form again, with the owner refused
    assert count(Project, Project.name == "越权负责人项目") == 0
    accepted = post(client, f"/projects/new?enterprise_id={w.enterprise.id}", forged(
        w, name="负责人合规项目", source="其他", priority="中", owner_id=w.officer_a.id,
        submission_token=uuid.uuid4().hex))
    assert accepted.status_code == 302
    project = db.session.scalars(select(Project).where(Project.name == "负责人合规项目")).one()
    assert (project.zone_id, project.owner_id, project.stage) == (w.zone_a.id, w.officer_a.id, "线索")


def test_editing_a_project_keeps_its_zone_owner_stage_and_dates(world, login_as):
    w = world
    project = w.project_a
    version = project.version
    client = login_as(w.officer_a)
    response = post(client, f"/projects/{project.id}/edit", forged(
        w, name="改名后的甲园项目", source="其他", priority="高", version=version))
    assert response.status_code == 302
    after = fields(project, *PROJECT_GUARDED, "name", "priority", "version")
    assert after == {"id": project.id, "zone_id": w.zone_a.id, "owner_id": w.officer_a.id,
                     "enterprise_id": w.enterprise.id, "stage": "线索", "deleted_at": None, "signed_date": None,
                     "contract_investment": None, "name": "改名后的甲园项目", "priority": "高",
                     "version": version + 1}


def test_a_chief_cannot_hand_a_project_to_another_zone(world, login_as):
    w = world
    before = fields(w.project_a, *PROJECT_GUARDED, "name", "version")
    client = login_as(w.chief_a)
    response = post(client, f"/projects/{w.project_a.id}/edit", forged(
        w, name="改名", source="其他", priority="中", version=w.project_a.version))
    assert response.status_code == 200
    assert fields(w.project_a, *PROJECT_GUARDED, "name", "version") == before


def test_the_stage_form_changes_the_stage_and_nothing_else(world, login_as):
    w = world
    project = w.project_a
    client = login_as(w.officer_a)
    response = post(client, f"/projects/{project.id}/stage", forged(
        w, stage="接洽", note="电话接洽", version=project.version, name="改名", planned_investment="1"))
    assert response.status_code == 302
    after = fields(project, *PROJECT_GUARDED, "name", "planned_investment")
    assert after["stage"] == "接洽"
    assert (after["zone_id"], after["owner_id"], after["name"], after["deleted_at"], after["signed_date"]) == (
        w.zone_a.id, w.officer_a.id, "宏达铝材甲园项目", None, None)
    assert after["planned_investment"] is None


def _signed(world, project=None):
    from crm.pipeline.service import change_stage

    project = project or world.project_a
    change_stage(world.officer_a, project, "签约", contract_investment=1000, on_date=TODAY.replace(day=1))
    db.session.commit()
    return project


def test_the_contract_form_changes_the_commitments_only(world, login_as):
    w = world
    project = _signed(w)
    signed_on = project.signed_date
    client = login_as(w.officer_a)
    response = post(client, f"/projects/{project.id}/contract", forged(
        w, contract_investment="2000", jobs="10", version=project.version, name="改名"))
    assert response.status_code == 302
    after = fields(project, *PROJECT_GUARDED, "name", "jobs")
    assert (after["contract_investment"], after["jobs"]) == (2000, 10)
    assert (after["stage"], after["signed_date"], after["zone_id"], after["owner_id"], after["name"]) == (
        "签约", signed_on, w.zone_a.id, w.officer_a.id, "宏达铝材甲园项目")


def test_funds_and_increases_belong_to_the_urls_project_and_its_zone(world, login_as):
    w = world
    project = _signed(w)
    client = login_as(w.officer_a)
    month = TODAY.strftime("%Y-%m")
    assert post(client, f"/projects/{project.id}/funds", forged(w, month=month, amount="10")).status_code == 302
    assert post(client, f"/projects/{project.id}/increase",
                forged(w, signed_date=TODAY.isoformat(), amount="20")).status_code == 302
    entry = db.session.scalars(select(FundsInPlace)).one()
    assert (entry.project_id, entry.zone_id, entry.deleted_at, entry.amount) == (project.id, w.zone_a.id, None, 10)
    increase = db.session.scalars(select(CapitalIncrease)).one()
    assert (increase.project_id, increase.zone_id, increase.deleted_at) == (project.id, w.zone_a.id, None)


# --- visits -----------------------------------------------------------------------------------
VISIT_GUARDED = ("id", "zone_id", "officer_id", "enterprise_id", "project_id", "deleted_at")


def test_a_new_visit_is_the_officers_in_their_zone_whatever_is_sent(world, login_as):
    w = world
    other = f.make_enterprise(w.admin, name="另一家企业有限公司")
    db.session.commit()
    client = login_as(w.officer_a)
    data = forged(w, project_id=w.project_a.id, kind="上门拜访", visit_date=TODAY.isoformat(), summary="越权走访",
                  enterprise_id=other.id, submission_token=uuid.uuid4().hex)
    assert post(client, f"/visits/new?enterprise_id={w.enterprise.id}", data).status_code == 302
    visit = db.session.scalars(select(Visit).where(Visit.summary == "越权走访")).one()
    assert fields(visit, *VISIT_GUARDED) == {"id": visit.id, "zone_id": w.zone_a.id, "officer_id": w.officer_a.id,
                                             "enterprise_id": w.enterprise.id, "project_id": w.project_a.id,
                                             "deleted_at": None}
    assert count(Visit, Visit.zone_id == w.zone_b.id) == 1  # only visit_b


def test_a_visit_cannot_be_logged_against_another_zones_project(world, login_as):
    w = world
    client = login_as(w.officer_a)
    data = forged(w, project_id=w.project_b.id, kind="上门拜访", visit_date=TODAY.isoformat(), summary="挂靠乙园项目",
                  submission_token=uuid.uuid4().hex)
    response = post(client, f"/visits/new?enterprise_id={w.enterprise.id}", data)
    assert response.status_code == 200  # 关联项目 refused: not one of the choices offered
    assert count(Visit, Visit.summary == "挂靠乙园项目") == 0


def test_editing_a_visit_keeps_its_zone_officer_and_project(world, login_as):
    w = world
    visit = w.visit_a
    before = fields(visit, *VISIT_GUARDED)
    client = login_as(w.officer_a)
    response = post(client, f"/visits/{visit.id}/edit", forged(
        w, kind="电话", visit_date=TODAY.isoformat(), summary="改过的内容", version=visit.version))
    assert response.status_code == 302
    assert fields(visit, *VISIT_GUARDED) == before
    assert (visit.kind, visit.summary) == ("电话", "改过的内容")


# --- enterprises --------------------------------------------------------------------------------
def test_a_new_enterprise_records_its_creator_and_its_own_search_keys(world, login_as):
    w = world
    before = fields(w.enterprise, "name", "deleted_at", "created_by_id", "version")
    client = login_as(w.officer_a)
    response = post(client, "/enterprises/new", forged(
        w, name="越权新建企业有限公司", zone_id=0, submission_token=uuid.uuid4().hex))
    assert response.status_code == 302
    enterprise = db.session.scalars(select(Enterprise).where(Enterprise.name == "越权新建企业有限公司")).one()
    assert (enterprise.created_by_id, enterprise.version, enterprise.deleted_at, enterprise.zone_id) == (
        w.officer_a.id, 1, None, None)
    assert enterprise.name_normalized != "伪造" and "weizao" not in (enterprise.search_pinyin or "")
    assert fields(w.enterprise, "name", "deleted_at", "created_by_id", "version") == before


def test_editing_an_enterprise_keeps_its_id_creator_and_deletion_state(world, login_as):
    w = world
    enterprise = w.enterprise
    before = fields(enterprise, "id", "created_by_id", "deleted_at", "uscc")
    client = login_as(w.officer_a)
    response = post(client, f"/enterprises/{enterprise.id}/edit", forged(
        w, name=enterprise.name, uscc=enterprise.uscc, zone_id=0, website="www.example.cn", version=enterprise.version))
    assert response.status_code == 302
    assert fields(enterprise, "id", "created_by_id", "deleted_at", "uscc") == before
    assert enterprise.website == "www.example.cn" and enterprise.name_normalized != "伪造"


# --- zone settings, users, chain mapping ----------------------------------------------------------
def test_zone_settings_change_the_urls_zone_only(world, login_as):
    w = world
    zone_b_before = fields(w.zone_b, "name", "require_2fa_privileged", "level", "min_investment_per_mu")
    client = login_as(w.chief_a)
    response = post(client, f"/reports/zones/{w.zone_a.id}/settings", forged(
        w, year=TODAY.year, signed_count="8", signed_amount="5000", register_rate="90", start_rate="60",
        production_rate="30", funds_rate="20", min_investment_per_mu="300", name="改名园区", id=w.zone_b.id))
    assert response.status_code == 302
    targets = db.session.scalars(select(ZoneTarget)).all()
    assert [(t.zone_id, t.signed_count) for t in targets] == [(w.zone_a.id, 8)]
    zone_a = fields(w.zone_a, "name", "require_2fa_privileged", "level", "min_investment_per_mu")
    assert (zone_a["name"], zone_a["require_2fa_privileged"], zone_a["level"]) == ("甲园区", False, "省级")
    assert zone_a["min_investment_per_mu"] == 300
    assert fields(w.zone_b, "name", "require_2fa_privileged", "level", "min_investment_per_mu") == zone_b_before


USER_GUARDED = ("id", "username", "password_hash", "session_version", "totp_secret")


def test_the_admins_user_form_sets_role_zones_and_status_only(world, login_as):
    w = world
    user = w.officer_a
    before = fields(user, *USER_GUARDED)
    admin_before = fields(w.admin, *USER_GUARDED, "role")
    client = login_as(w.admin)
    response = post(client, f"/admin/users/{user.id}", forged(
        w, display_name="新名字", role="officer", zone_ids=[w.zone_a.id], active="y", id=w.admin.id))
    assert response.status_code == 302
    assert fields(user, *USER_GUARDED) == before
    assert (user.display_name, user.role, user.zone_ids) == ("新名字", "officer", [w.zone_a.id])
    assert fields(w.admin, *USER_GUARDED, "role") == admin_before


def test_changing_ones_own_password_changes_nothing_else(world, login_as):
    w = world
    client = login_as(w.officer_a)
    response = post(client, "/account/password", forged(
        w, current_password=PASSWORD, new_password=NEW_PASSWORD, confirm=NEW_PASSWORD))
    assert response.status_code == 302
    user = fields(w.officer_a, "username", "role", "active", "totp_secret")
    assert user == {"username": "officer_a", "role": "officer", "active": True, "totp_secret": None}
    assert w.officer_a.zone_ids == [w.zone_a.id]


def _segments():
    from crm.catalog.models import Chain, Segment

    return list(db.session.scalars(select(Segment).join(Chain, Segment.chain_id == Chain.id)
                                   .where(Chain.code == CHAIN).order_by(Segment.sort_order)))


def test_chain_mapping_changes_the_urls_enterprise_only(world, login_as):
    w = world
    local_b = f.make_enterprise(w.admin, name="乙园区链主候选有限公司", zone_id=w.zone_b.id)
    db.session.commit()
    segment = _segments()[0]
    client = login_as(w.officer_a)
    response = post(client, f"/chains/mapping/{w.enterprise.id}", forged(
        w, segment_ids=[segment.id], primary=[segment.id], enterprise_id=local_b.id))
    assert response.status_code == 302
    rows = db.session.scalars(select(EnterpriseSegment)).all()
    assert [(r.enterprise_id, r.segment_id, r.is_primary, r.is_leader) for r in rows] == [
        (w.enterprise.id, segment.id, True, False)]
    # 链主 is for the staff of the firm's own zone: an officer of 甲园区 cannot mark 乙园区's firm.
    refused = post(client, f"/chains/mapping/{local_b.id}",
                   {"segment_ids": [segment.id], "primary": [segment.id], "leaders": [segment.id]})
    assert refused.status_code == 200
    assert count(EnterpriseSegment, EnterpriseSegment.enterprise_id == local_b.id) == 0


# --- the choices the pages offer ------------------------------------------------------------------
class _Selects(HTMLParser):
    """Every <select name=...>'s option values, in page order."""

    def __init__(self):
        super().__init__()
        self.selects: dict[str, list[str]] = {}
        self._current: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._current = attrs.get("name") or attrs.get("id") or ""
            self.selects.setdefault(self._current, [])
        elif tag == "option" and self._current is not None:
            self.selects[self._current].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._current = None


def selects(client, path) -> dict[str, list[str]]:
    response = client.get(path)
    assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
    parser = _Selects()
    parser.feed(response.get_data(as_text=True))
    return parser.selects


ZONE_PAGES = ("/", "/projects/", "/projects/board", "/reports/", "/chains/", f"/chains/{CHAIN}",
              f"/chains/{CHAIN}/gaps")


@pytest.fixture
def viewer_ac(world):
    """A leader of two zones, 甲园区 and 丙园区: the selects offer both, and never 乙园区."""
    zone_c = f.make_zone("丙园区")
    viewer = f.make_user("viewer", [world.zone_a, zone_c], username="viewer_ac")
    db.session.commit()
    return viewer, zone_c


@pytest.mark.parametrize("path", ZONE_PAGES)
def test_zone_selects_offer_only_the_callers_zones(path, world, viewer_ac, login_as):
    viewer, zone_c = viewer_ac
    offered = selects(login_as(viewer), path).get("zone_id")
    assert offered is not None, f"{path}: a user of two zones gets a zone select"
    assert set(offered) - {""} == {str(world.zone_a.id), str(zone_c.id)}, f"{path}: {offered}"


@pytest.mark.parametrize("path", ZONE_PAGES)
def test_a_single_zone_user_gets_no_zone_to_choose(path, world, login_as):
    who = world.chief_a
    offered = selects(login_as(who), path).get("zone_id", [])
    assert set(offered) - {""} <= {str(world.zone_a.id)}, f"{path}: {offered}"


def test_the_admin_chooses_among_every_zone(world, login_as):
    """The parsing above sees a select when there is one: the admin's lists every zone."""
    every = {str(z) for z in db.session.scalars(select(Zone.id))}
    for path in ZONE_PAGES:
        assert set(selects(login_as(world.admin), path)["zone_id"]) - {""} == every, path


def _staff_of(zone_ids) -> set[str]:
    users = db.session.scalars(select(User).where(User.role.in_(["officer", "chief"]))).all()
    return {str(u.id) for u in users if set(u.zone_ids) & set(zone_ids)}


def test_owner_selects_offer_only_the_zones_staff(world, login_as):
    client = login_as(world.chief_a)
    zone_a_staff = _staff_of([world.zone_a.id])
    for path in ("/projects/board", f"/projects/new?enterprise_id={world.enterprise.id}",
                 f"/projects/{world.project_a.id}/edit"):
        offered = set(selects(client, path)["owner_id"]) - {""}
        assert offered and offered <= zone_a_staff, f"{path}: {offered}"
        assert str(world.officer_b.id) not in offered and str(world.chief_b.id) not in offered


def test_project_and_visit_forms_offer_no_zone_and_only_own_projects(world, login_as):
    client = login_as(world.officer_a)
    for path in (f"/projects/new?enterprise_id={world.enterprise.id}", f"/projects/{world.project_a.id}/edit",
                 f"/visits/new?enterprise_id={world.enterprise.id}", "/imports/"):
        offered = selects(client, path)
        assert "zone_id" not in offered, f"{path} offers a zone to an officer"
        assert "owner_id" not in offered, f"{path} offers an owner to an officer"
    projects = selects(client, f"/visits/new?enterprise_id={world.enterprise.id}")["project_id"]
    assert set(projects) == {"0", str(world.project_a.id)}  # the firm's 乙园区 project is not offered


def test_the_reports_page_links_only_the_callers_zone_settings(world, viewer_ac, login_as):
    html = login_as(world.chief_a).get("/reports/").get_data(as_text=True)
    assert f"/reports/zones/{world.zone_a.id}/settings" in html
    assert f"/reports/zones/{world.zone_b.id}/settings" not in html
