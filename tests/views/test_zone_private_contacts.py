"""Contacts and notes are the zone's own; the enterprise's history names only the reader's own zone.

A contact and a note record the zone that wrote them and are shown to that zone and the admin only;
another zone's are 404 to read, edit or delete. The shared enterprise's history shows another zone's
changes as "其他园区", without names, and none of its contacts or notes.
"""
import pytest

from crm.audit.log import acting_as
from crm.extensions import db
from crm.library.models import Contact, EnterpriseNote
from crm.library.service import add_contact, add_note, update_enterprise
from tests import factories as f


@pytest.fixture
def shared(world):
    """A target firm both zones work on; each zone has a contact and a note on it; officer_b edited its
    facts (a target's facts are any zone's to edit; a firm local to another zone's are not)."""
    enterprise = f.make_enterprise(world.admin, name="共享目标企业有限公司")
    with acting_as(db.session, world.officer_a):
        contact_a = add_contact(world.officer_a, enterprise, {"name": "甲联系人", "title": "总经理", "phone": "13800000001"})
        note_a = add_note(world.officer_a, enterprise, "甲园区的备注：月底回访")
    with acting_as(db.session, world.officer_b):
        contact_b = add_contact(world.officer_b, enterprise, {"name": "乙联系人", "title": "董事长", "phone": "13900000002"})
        note_b = add_note(world.officer_b, enterprise, "乙园区的备注：对方报价偏高")
        update_enterprise(world.officer_b, enterprise, {"website": "www.example.cn"})
    db.session.commit()
    return enterprise, contact_a, note_a, contact_b, note_b


def _page(client, enterprise) -> str:
    response = client.get(f"/enterprises/{enterprise.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_contacts_and_notes_record_the_writers_zone(world, shared):
    _enterprise, contact_a, note_a, contact_b, note_b = shared
    assert (contact_a.zone_id, note_a.zone_id) == (world.zone_a.id, world.zone_a.id)
    assert (contact_b.zone_id, note_b.zone_id) == (world.zone_b.id, world.zone_b.id)
    assert note_a.author_id == world.officer_a.id


@pytest.mark.parametrize("role", ["officer_a", "chief_a", "viewer_a"])
def test_a_zone_sees_its_own_contacts_and_notes_only(world, shared, login_as, role):
    enterprise = shared[0]
    page = _page(login_as(getattr(world, role)), enterprise)
    assert "甲联系人" in page and "13800000001" in page and "月底回访" in page
    for secret in ("乙联系人", "董事长", "13900000002", "对方报价偏高"):
        assert secret not in page


def test_the_admin_sees_every_zones_contacts_and_notes(world, shared, login_as):
    page = _page(login_as(world.admin), shared[0])
    for text in ("甲联系人", "乙联系人", "月底回访", "对方报价偏高"):
        assert text in page


def test_another_zones_contact_and_note_are_404_to_edit_and_delete(world, shared, login_as):
    enterprise, _contact_a, _note_a, contact_b, note_b = shared
    client = login_as(world.officer_a)
    base = f"/enterprises/{enterprise.id}"
    assert client.get(f"{base}/contacts/{contact_b.id}/edit").status_code == 404
    assert client.post(f"{base}/contacts/{contact_b.id}/edit", data={"name": "改名"}).status_code == 404
    assert client.post(f"{base}/contacts/{contact_b.id}/delete").status_code == 404
    assert client.get(f"{base}/notes/{note_b.id}/edit").status_code == 404
    assert client.post(f"{base}/notes/{note_b.id}/edit", data={"text": "改写"}).status_code == 404
    assert client.post(f"{base}/notes/{note_b.id}/delete").status_code == 404
    db.session.expire_all()
    contact, note = db.session.get(Contact, contact_b.id), db.session.get(EnterpriseNote, note_b.id)
    assert (contact.name, contact.deleted_at, note.text, note.deleted_at) == ("乙联系人", None, "乙园区的备注：对方报价偏高", None)


def test_a_zone_edits_and_deletes_its_own_contact_and_note(world, shared, login_as):
    enterprise, contact_a, note_a, _contact_b, _note_b = shared
    client = login_as(world.officer_a)
    base = f"/enterprises/{enterprise.id}"
    assert client.get(f"{base}/contacts/{contact_a.id}/edit").status_code == 200
    assert client.post(f"{base}/contacts/{contact_a.id}/edit",
                       data={"name": "甲联系人新", "title": "副总", "phone": "", "email": ""}).status_code == 302
    assert client.post(f"{base}/notes/{note_a.id}/edit", data={"text": "改为下月回访"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, contact_a.id).name == "甲联系人新"
    assert db.session.get(EnterpriseNote, note_a.id).text == "改为下月回访"
    assert client.post(f"{base}/contacts/{contact_a.id}/delete").status_code == 302
    assert client.post(f"{base}/notes/{note_a.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, contact_a.id).deleted_at is not None
    assert db.session.get(EnterpriseNote, note_a.id).deleted_at is not None
    page = _page(client, enterprise)
    assert "甲联系人新" not in page and "改为下月回访" not in page


def test_adding_through_the_page_writes_the_officers_zone(world, shared, login_as):
    enterprise = shared[0]
    client = login_as(world.officer_b)
    assert client.post(f"/enterprises/{enterprise.id}/contacts", data={"name": "乙新联系人"}).status_code == 302
    assert client.post(f"/enterprises/{enterprise.id}/notes", data={"text": "乙新备注"}).status_code == 302
    contact = db.session.scalars(db.select(Contact).where(Contact.name == "乙新联系人")).one()
    note = db.session.scalars(db.select(EnterpriseNote).where(EnterpriseNote.text == "乙新备注")).one()
    assert contact.zone_id == note.zone_id == world.zone_b.id
    assert "乙新联系人" not in _page(login_as(world.officer_a), enterprise)


def test_a_forged_zone_is_refused(world, shared, login_as):
    enterprise = shared[0]
    client = login_as(world.officer_a)
    client.post(f"/enterprises/{enterprise.id}/contacts", data={"name": "伪造联系人", "zone_id": world.zone_b.id})
    client.post(f"/enterprises/{enterprise.id}/notes", data={"text": "伪造备注", "zone_id": world.zone_b.id})
    assert db.session.scalars(db.select(Contact).where(Contact.name == "伪造联系人")).first() is None
    assert db.session.scalars(db.select(EnterpriseNote).where(EnterpriseNote.text == "伪造备注")).first() is None


def test_history_masks_another_zones_officer_and_hides_its_private_entries(world, shared, login_as):
    enterprise = shared[0]
    page = _page(login_as(world.officer_a), enterprise)
    history = page[page.index("变更记录"):]
    assert "其他园区 <strong>修改</strong>" in history and "网站：" in history
    assert world.officer_b.display_name not in page
    assert "新建联系人" in history and "新建备注" in history  # zone A's own, once each
    assert history.count("新建联系人") == 1 and history.count("新建备注") == 1
    assert world.officer_a.display_name in history


def test_history_names_everyone_for_the_admin_and_zone_b_sees_zone_a_masked(world, shared, login_as):
    enterprise = shared[0]
    admin_history = _page(login_as(world.admin), enterprise).split("变更记录", 1)[1]
    assert world.officer_b.display_name in admin_history and world.officer_a.display_name in admin_history
    assert admin_history.count("新建联系人") == 2
    b_history = _page(login_as(world.officer_b), enterprise).split("变更记录", 1)[1]
    assert world.officer_a.display_name not in b_history
    assert b_history.count("新建联系人") == 1 and world.officer_b.display_name in b_history


def test_the_admin_adds_a_contact_for_no_zone_seen_by_the_admin_only(world, shared, login_as):
    enterprise = shared[0]
    client = login_as(world.admin)
    assert client.post(f"/enterprises/{enterprise.id}/contacts", data={"name": "市级联系人", "zone_id": 0}).status_code == 302
    contact = db.session.scalars(db.select(Contact).where(Contact.name == "市级联系人")).one()
    assert contact.zone_id is None
    assert "市级联系人" not in _page(login_as(world.officer_a), enterprise)
    assert login_as(world.admin).get(f"/enterprises/{enterprise.id}/contacts/{contact.id}/edit").status_code == 200


def test_a_merge_moves_the_duplicates_notes_and_undo_puts_them_back(world, shared):
    from crm.admin.merges import merge_enterprises, undo_merge

    survivor = shared[0]
    duplicate = f.make_enterprise(world.admin, name="共享在园企业股份有限公司")
    note = add_note(world.officer_a, duplicate, "重复企业上的备注")
    record = merge_enterprises(world.admin, survivor, duplicate)
    assert note.enterprise_id == survivor.id
    undo_merge(world.admin, record)
    assert note.enterprise_id == duplicate.id
