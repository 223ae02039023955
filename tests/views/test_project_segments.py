"""A project's chain segments: the enterprise's primary one by default, chosen on the form, shown on its page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.catalog.models import EnterpriseSegment, Segment
from crm.errors import ServiceError, StaleEdit
from crm.extensions import db
from crm.pipeline.models import Project
from crm.pipeline.service import create_project, update_project
from tests import factories as f


def segment(code: str) -> Segment:
    return db.session.scalars(select(Segment).where(Segment.code == code)).one()


def _map(enterprise, code: str, primary: bool) -> None:
    db.session.add(EnterpriseSegment(enterprise_id=enterprise.id, segment_id=segment(code).id, is_primary=primary))
    db.session.flush()


def _codes(project) -> list[str]:
    db.session.expire_all()
    return [s.code for s in db.session.get(Project, project.id).segments]


@pytest.fixture
def foil_firm(world):
    """A target firm whose primary business is 电池铝箔, with 铝板带 as a secondary segment."""
    firm = f.make_enterprise(world.admin, name="江州鼎胜电池铝箔有限公司")
    _map(firm, "AL-SHEET", primary=False)
    _map(firm, "AL-FOIL-BATTERY", primary=True)
    db.session.commit()
    return firm


# --- the service -------------------------------------------------------------------------


def test_a_new_project_serves_its_enterprises_primary_segment(world, foil_firm):
    project = create_project(world.officer_a, foil_firm, {"name": "鼎胜电池铝箔项目"})
    assert [s.code for s in project.segments] == ["AL-FOIL-BATTERY"]
    unmapped = create_project(world.officer_a, f.make_enterprise(world.admin), {"name": "未关联环节的项目"})
    assert unmapped.segments == []


def test_segments_given_at_creation_win_over_the_primary(world, foil_firm):
    project = create_project(world.officer_a, foil_firm, {"name": "鼎胜板带项目", "segments": [segment("AL-SHEET")]})
    assert [s.code for s in project.segments] == ["AL-SHEET"]
    by_id = create_project(world.officer_a, foil_firm, {"name": "两环节项目", "segment_ids": [
        segment("LB-CATHODE").id, segment("AL-SHEET").id]})
    assert sorted(s.code for s in by_id.segments) == ["AL-SHEET", "LB-CATHODE"]


@pytest.mark.parametrize("ids", [[987654], [0], [-3], ["abc"], [2**40], [None]])
def test_unknown_segment_ids_are_refused_with_a_chinese_message(world, ids):
    with pytest.raises(ServiceError) as refused:
        update_project(world.officer_a, world.project_a, {"segment_ids": ids})
    assert refused.value.field == "segment_ids" and "产业链环节不存在" in refused.value.message


def test_changing_only_the_segments_moves_the_version_and_is_audited(world):
    project = world.project_a
    version = project.version
    update_project(world.officer_a, project, {"segments": [segment("AL-SHEET")]})
    db.session.commit()
    assert project.version == version + 1  # a form opened before the change is now stale
    with pytest.raises(StaleEdit):
        update_project(world.officer_a, project, {"segments": []}, version=version)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "Project",
                                                        AuditEntry.entity_id == str(project.id))
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.after == {"segments": [str(segment("AL-SHEET").id)]}
    update_project(world.officer_a, project, {"segments": [segment("AL-SHEET")]})  # the same: no change
    db.session.commit()
    assert project.version == version + 1


# --- the pages ---------------------------------------------------------------------------


def test_the_new_project_form_offers_segments_by_chain_with_the_primary_selected(world, login_as, foil_firm):
    page = login_as(world.officer_a).get(f"/projects/new?enterprise_id={foil_firm.id}").get_data(as_text=True)
    assert '<optgroup label="铝基新材料">' in page and '<optgroup label="锂电池与储能">' in page
    selected = re.findall(r'<option selected value="(\d+)">|<option value="(\d+)" selected>', page)
    assert [a or b for a, b in selected] == [str(segment("AL-FOIL-BATTERY").id)]


def test_a_project_created_on_the_form_without_segments_takes_the_primary(world, login_as, foil_firm):
    client = login_as(world.officer_a)
    response = client.post(f"/projects/new?enterprise_id={foil_firm.id}",
                           data={"name": "鼎胜电池铝箔项目", "source": "以商招商", "priority": "高"})
    assert response.status_code == 302
    project = db.session.scalars(select(Project).where(Project.name == "鼎胜电池铝箔项目")).one()
    assert _codes(project) == ["AL-FOIL-BATTERY"]


def test_the_officer_chooses_several_segments_on_create_and_changes_them_on_edit(world, login_as, foil_firm):
    client = login_as(world.officer_a)
    response = client.post(f"/projects/new?enterprise_id={foil_firm.id}", data={
        "name": "鼎胜综合项目", "source": "其他", "priority": "中",
        "segment_ids": [segment("AL-SHEET").id, segment("LB-CATHODE").id]})
    assert response.status_code == 302
    project = db.session.scalars(select(Project).where(Project.name == "鼎胜综合项目")).one()
    assert _codes(project) == ["AL-SHEET", "LB-CATHODE"]

    edit = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    for code in ("AL-SHEET", "LB-CATHODE"):
        assert re.search(rf'<option (selected value="{segment(code).id}"|value="{segment(code).id}" selected)', edit)
    response = client.post(f"/projects/{project.id}/edit", data={
        "name": "鼎胜综合项目", "source": "其他", "priority": "中", "version": project.version,
        "segment_ids": [segment("AL-FOIL-BATTERY").id]})
    assert response.status_code == 302
    assert _codes(project) == ["AL-FOIL-BATTERY"]
    cleared = client.post(f"/projects/{project.id}/edit", data={
        "name": "鼎胜综合项目", "source": "其他", "priority": "中", "version": _version(project)})
    assert cleared.status_code == 302 and _codes(project) == []  # nothing selected: the project serves none


def _version(project) -> int:
    db.session.expire_all()
    return db.session.get(Project, project.id).version


@pytest.mark.parametrize("value", ["987654", "abc", "99999999999999999999", "-1"])
def test_the_form_refuses_unknown_segments_beside_the_field(world, login_as, value):
    client = login_as(world.officer_a)
    page = client.post(f"/projects/{world.project_a.id}/edit", data={
        "name": "改名", "source": "其他", "priority": "中", "version": world.project_a.version,
        "segment_ids": [str(segment("AL-SHEET").id), value]})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'is-invalid"[^>]*>.*?<div class="invalid-feedback">所选产业链环节不存在', text, re.S)
    db.session.expire_all()
    assert db.session.get(Project, world.project_a.id).name == "宏达铝材甲园项目"  # nothing saved


def test_the_project_page_links_each_segment_to_its_chain_map(world, login_as):
    update_project(world.officer_a, world.project_a, {"segments": [segment("AL-FOIL-BATTERY"), segment("LB-CATHODE")]})
    db.session.commit()
    page = login_as(world.officer_a).get(f"/projects/{world.project_a.id}").get_data(as_text=True)
    shown = re.search(r'data-testid="project-segments">(.*?)</dd>', page, re.S).group(1)
    zone = world.zone_a.id
    assert f'href="/chains/aluminium?zone_id={zone}"' in shown and "铝基新材料 · 电池铝箔" in shown
    assert f'href="/chains/lithium?zone_id={zone}"' in shown and "锂电池与储能 · " in shown
    assert login_as(world.officer_a).get(f"/chains/aluminium?zone_id={zone}").status_code == 200


def test_the_project_page_runs_the_same_queries_for_one_segment_or_four(world, login_as, count_queries):
    client = login_as(world.officer_a)
    update_project(world.officer_a, world.project_a, {"segments": [segment("AL-FOIL-BATTERY")]})
    db.session.commit()
    with count_queries() as one:
        assert client.get(f"/projects/{world.project_a.id}").status_code == 200
    update_project(world.officer_a, world.project_a, {"segments": [
        segment("AL-FOIL-BATTERY"), segment("LB-CATHODE"), segment("PV-MODULE"), segment("FD-OIL")]})
    db.session.commit()
    with count_queries() as four:
        assert client.get(f"/projects/{world.project_a.id}").status_code == 200
    assert len(four) == len(one), (len(one), len(four))


def test_the_project_form_loads_every_segment_and_chain_in_one_query(world, login_as, count_queries):
    client = login_as(world.officer_a)
    client.get(f"/projects/{world.project_a.id}/edit")  # warm up: the session and user queries
    with count_queries() as statements:
        assert client.get(f"/projects/{world.project_a.id}/edit").status_code == 200
    chain_reads = [s for s in statements if "FROM chains" in s or "JOIN chains" in s]
    assert len(chain_reads) == 1 and "FROM segments JOIN chains" in " ".join(chain_reads[0].split()), chain_reads
