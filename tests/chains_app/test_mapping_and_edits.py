"""Mapping an enterprise onto segments, and the admin's edits of segments and links: validated, audited."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.audit.models import AuditEntry
from crm.catalog.models import EnterpriseSegment, Segment, SegmentLink
from tests import factories as f
from tests.chains_app.conftest import segment


def _mappings(enterprise):
    db.session.expire_all()
    return {
        m.segment.code: (m.is_primary, m.is_leader)
        for m in db.session.scalars(select(EnterpriseSegment).where(EnterpriseSegment.enterprise_id == enterprise.id))
    }


@pytest.fixture
def local_firm(world):
    firm = f.make_enterprise(world.admin, name="甲园铝箔科技有限公司", zone_id=world.zone_a.id,
                             main_products="电池铝箔、双零箔", industry_name="铝压延加工")
    db.session.commit()
    return firm


# --- mapping ---------------------------------------------------------------------------


def test_mapping_page_suggests_segments_with_reasons(world, login_as, local_firm):
    page = login_as(world.officer_a).get(f"/chains/mapping/{local_firm.id}").get_data(as_text=True)
    assert "电池铝箔" in page and "主营产品含“电池铝箔”" in page and "推荐" in page
    assert 'name="csrf_token"' in page or "hidden_tag" not in page


def test_enterprise_page_links_to_the_mapping(world, login_as):
    page = login_as(world.officer_a).get(f"/enterprises/{world.enterprise.id}").get_data(as_text=True)
    assert f"/chains/mapping/{world.enterprise.id}" in page
    viewer = login_as(world.viewer_a).get(f"/enterprises/{world.enterprise.id}").get_data(as_text=True)
    assert f"/chains/mapping/{world.enterprise.id}" not in viewer


def test_two_segments_with_one_primary_and_a_leader_are_saved_and_audited(world, login_as, local_firm):
    battery, packaging = segment("AL-FOIL-BATTERY"), segment("AL-FOIL-PACKAGING")
    response = login_as(world.officer_a).post(f"/chains/mapping/{local_firm.id}", data={
        "segment_ids": [battery.id, packaging.id], "primary": [battery.id], "leaders": [battery.id]})
    assert response.status_code == 302
    assert _mappings(local_firm) == {"AL-FOIL-BATTERY": (True, True), "AL-FOIL-PACKAGING": (False, False)}
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "EnterpriseSegment")).all()
    assert {(e.action, e.entity_id, e.actor_id) for e in entries} == {
        ("create", f"{local_firm.id}-{battery.id}", world.officer_a.id),
        ("create", f"{local_firm.id}-{packaging.id}", world.officer_a.id),
    }
    # Change the primary, drop one segment: an update and a delete in the log.
    login_as(world.officer_a).post(f"/chains/mapping/{local_firm.id}", data={
        "segment_ids": [packaging.id], "primary": [packaging.id]})
    assert _mappings(local_firm) == {"AL-FOIL-PACKAGING": (True, False)}
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "EnterpriseSegment").order_by(AuditEntry.id)).all()
    assert actions[-2:] in (["delete", "update"], ["update", "delete"])


@pytest.mark.parametrize("primary, message", [([], "请为企业选择一个主环节"), ("both", "主环节只能选择一个")])
def test_no_primary_or_two_primaries_is_refused_in_chinese(world, login_as, local_firm, primary, message):
    battery, packaging = segment("AL-FOIL-BATTERY"), segment("AL-FOIL-PACKAGING")
    ids = [battery.id, packaging.id]
    response = login_as(world.officer_a).post(f"/chains/mapping/{local_firm.id}", data={
        "segment_ids": ids, "primary": ids if primary == "both" else primary})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _mappings(local_firm) == {}


def test_a_leader_for_a_firm_that_is_not_local_is_refused(world, login_as):
    battery = segment("AL-FOIL-BATTERY")
    response = login_as(world.officer_a).post(f"/chains/mapping/{world.enterprise.id}", data={
        "segment_ids": [battery.id], "primary": [battery.id], "leaders": [battery.id]})
    assert response.status_code == 200 and "只有在园企业才能标记为链主" in response.get_data(as_text=True)
    assert _mappings(world.enterprise) == {}


def test_a_leader_of_another_zone_is_for_that_zone_to_mark(world, login_as):
    firm_b = f.make_enterprise(world.admin, name="乙园铝箔有限公司", zone_id=world.zone_b.id)
    db.session.commit()
    battery = segment("AL-FOIL-BATTERY")
    data = {"segment_ids": [battery.id], "primary": [battery.id], "leaders": [battery.id]}
    refused = login_as(world.officer_a).post(f"/chains/mapping/{firm_b.id}", data=data)
    assert "其他园区的在园企业，其产业链环节和链主标记只能由所在园区或市投促中心修改" in refused.get_data(as_text=True)
    assert _mappings(firm_b) == {}
    assert login_as(world.officer_b).post(f"/chains/mapping/{firm_b.id}", data=data).status_code == 302
    assert _mappings(firm_b) == {"AL-FOIL-BATTERY": (True, True)}


def test_bad_input_never_500s_and_writes_nothing(world, login_as, local_firm):
    client = login_as(world.officer_a)
    for data in ({"segment_ids": ["x"]}, {"segment_ids": [999999], "primary": [999999]},
                 {"segment_ids": [segment("AL-SHEET").id], "primary": [segment("AL-SLAB").id]}):
        response = client.post(f"/chains/mapping/{local_firm.id}", data=data)
        assert response.status_code == 200, data
        assert "invalid-feedback" in response.get_data(as_text=True) or "text-danger" in response.get_data(as_text=True)
    assert _mappings(local_firm) == {}
    assert client.get("/chains/mapping/999999").status_code == 404


def test_unticking_everything_removes_every_mapping(world, login_as, local_firm):
    sheet = segment("AL-SHEET")
    client = login_as(world.chief_a)
    client.post(f"/chains/mapping/{local_firm.id}", data={"segment_ids": [sheet.id], "primary": [sheet.id]})
    assert _mappings(local_firm) == {"AL-SHEET": (True, False)}
    # The radio button keeps its value when its row is unticked.
    assert client.post(f"/chains/mapping/{local_firm.id}", data={"primary": [sheet.id]}).status_code == 302
    assert _mappings(local_firm) == {}


def test_viewer_may_not_open_the_mapping(world, login_as, local_firm):
    client = login_as(world.viewer_a)
    assert client.get(f"/chains/mapping/{local_firm.id}").status_code == 403
    sheet = segment("AL-SHEET")
    assert client.post(f"/chains/mapping/{local_firm.id}", data={
        "segment_ids": [sheet.id], "primary": [sheet.id]}).status_code == 403
    assert _mappings(local_firm) == {}


def test_added_segment_appears_as_a_row(world, login_as, local_firm):
    pharma = segment("PH-API")
    page = login_as(world.officer_a).get(f"/chains/mapping/{local_firm.id}?add={pharma.id}").get_data(as_text=True)
    assert f'value="{pharma.id}"' in page and pharma.name in page


# --- segment edits (admin) --------------------------------------------------------------


def _segment_form(seg, **changes):
    data = {"name": seg.name, "name_en": seg.name_en, "tier": seg.tier, "value_add": seg.value_add,
            "products": "、".join(seg.products), "keywords": "、".join(seg.keywords)}
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ["officer_a", "chief_a", "viewer_a"])
def test_only_the_admin_edits_segments_and_links(world, login_as, role):
    client = login_as(getattr(world, role))
    seg = segment("AL-SHEET")
    assert client.get(f"/chains/segments/{seg.id}/edit").status_code == 403
    assert client.post(f"/chains/segments/{seg.id}/edit", data=_segment_form(seg, name="改名")).status_code == 403
    assert client.get("/chains/aluminium/segments").status_code == 403
    assert client.post("/chains/aluminium/segments", data={"from_code": "AL-SHEET", "to_code": "AL-CABLE"}).status_code == 403
    link = db.session.scalars(select(SegmentLink)).first()
    assert client.post(f"/chains/links/{link.id}/delete").status_code == 403
    db.session.expire_all()
    assert db.session.get(Segment, seg.id).name != "改名"
    assert db.session.get(SegmentLink, link.id) is not None


@pytest.mark.parametrize("changes, message", [
    ({"value_add": "7"}, "价值层级必须是 1–5 的整数"),
    ({"value_add": "abc"}, "价值层级"),
    ({"name": ""}, "请填写环节名称"),
    ({"name": "长" * 51}, "最多 50 个字"),
    ({"tier": "顶游"}, "层级必须是"),
    ({"keywords": "铝、铝箔"}, "关键词“铝”太短"),
    ({"keywords": "铝箔、铝箔"}, "关键词中有重复项：铝箔"),
])
def test_invalid_segment_edits_show_chinese_errors_and_save_nothing(world, login_as, changes, message):
    seg = segment("AL-SHEET")
    before = (seg.name, seg.value_add, seg.tier, list(seg.keywords))
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = login_as(world.admin).post(f"/chains/segments/{seg.id}/edit", data=_segment_form(seg, **changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    seg = db.session.get(Segment, seg.id)
    assert (seg.name, seg.value_add, seg.tier, list(seg.keywords)) == before
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_a_valid_segment_edit_is_saved_and_audited(world, login_as):
    seg = segment("AL-SHEET")
    response = login_as(world.admin).post(f"/chains/segments/{seg.id}/edit", data=_segment_form(
        seg, name="铝板带箔", value_add="4", keywords="铝板带, 铝板, 铝卷\n彩涂铝卷"))
    assert response.status_code == 302
    db.session.expire_all()
    seg = db.session.get(Segment, seg.id)
    assert (seg.name, seg.value_add, seg.keywords) == ("铝板带箔", 4, ["铝板带", "铝板", "铝卷", "彩涂铝卷"])
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "Segment", AuditEntry.entity_id == str(seg.id), AuditEntry.action == "update")).one()
    assert entry.actor_id == world.admin.id
    assert entry.after["name"] == "铝板带箔" and entry.after["value_add"] == 4
    # The analysis reads the edit at once.
    graph = login_as(world.admin).get("/chains/aluminium/graph.json").get_json()
    assert {n["code"]: n["name"] for n in graph["nodes"]}["AL-SHEET"] == "铝板带箔"


def test_admin_adds_and_deletes_a_link(world, login_as):
    client = login_as(world.admin)
    response = client.post("/chains/aluminium/segments", data={"from_code": "al-sheet", "to_code": "AL-CABLE"})
    assert response.status_code == 302
    sheet, cable = segment("AL-SHEET"), segment("AL-CABLE")
    link = db.session.scalars(select(SegmentLink).where(
        SegmentLink.from_segment_id == sheet.id, SegmentLink.to_segment_id == cable.id)).one()
    created = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "SegmentLink", AuditEntry.entity_id == str(link.id))).one()
    assert created.action == "create" and created.actor_id == world.admin.id
    assert {"source": "AL-SHEET", "target": "AL-CABLE", "external": False} in \
        client.get("/chains/aluminium/graph.json").get_json()["edges"]

    duplicate = client.post("/chains/aluminium/segments", data={"from_code": "AL-SHEET", "to_code": "AL-CABLE"})
    assert "已存在" in duplicate.get_data(as_text=True)

    link_id = link.id
    assert client.post(f"/chains/links/{link_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(SegmentLink, link_id) is None
    deleted = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "SegmentLink", AuditEntry.entity_id == str(link_id), AuditEntry.action == "delete")).one()
    assert deleted.before["from_segment_id"] == sheet.id


@pytest.mark.parametrize("data, message", [
    ({"from_code": "AL-NOPE", "to_code": "AL-CABLE"}, "未知环节代码 AL-NOPE"),
    ({"from_code": "AL-SHEET", "to_code": "AL-SHEET"}, "环节不能链接到自身"),
    ({"from_code": "", "to_code": "AL-CABLE"}, "请填写供应方环节代码"),
])
def test_bad_links_are_refused(world, login_as, data, message):
    count = db.session.scalar(select(func.count()).select_from(SegmentLink))
    response = login_as(world.admin).post("/chains/aluminium/segments", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SegmentLink)) == count


def test_delete_goes_back_only_to_chain_pages(world, login_as):
    link = db.session.scalars(select(SegmentLink)).first()
    response = login_as(world.admin).post(f"/chains/links/{link.id}/delete", data={"next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
