"""Issue 15, point 9: small readability and validation fixes, each pinned by a test."""
from __future__ import annotations

from crm.extensions import db
from crm.library.models import Contact


def test_the_first_report_warning_shows_a_date_not_a_timestamp(world, login_as):
    client = login_as(world.officer_a)
    page = client.get(f"/projects/new?enterprise_id={world.enterprise.id}").get_data(as_text=True)
    assert 'data-testid="first-report-warning"' in page
    warning = page[page.index('data-testid="first-report-warning"'):][:300]
    assert "T" not in warning.split("自", 1)[1].split("起", 1)[0]
    assert ":" not in warning.split("自", 1)[1].split("起", 1)[0]


def test_a_phone_number_must_look_like_one(world, login_as):
    client = login_as(world.officer_a)
    base = f"/enterprises/{world.enterprise.id}/contacts"
    page = client.post(base, data={"name": "乱填电话", "phone": "abc"}, follow_redirects=True).get_data(as_text=True)
    assert "电话应为数字" in page
    assert db.session.scalars(db.select(Contact).where(Contact.name == "乱填电话")).first() is None
    client.post(base, data={"name": "正常电话", "phone": "0519-8888 6666转123"})
    assert db.session.scalars(db.select(Contact).where(Contact.name == "正常电话")).first() is not None


def test_a_taken_credit_code_is_not_offered_a_save_anyway(world, login_as):
    client = login_as(world.officer_a)
    page = client.post("/enterprises/new", data={"name": "另一家完全不同的公司", "uscc": world.enterprise.uscc, "zone_id": 0,
                                                  "submission_token": "a" * 32}) \
        .get_data(as_text=True)
    # Refused beside the code, naming the firm that holds it; no "仍要保存" to tick.
    assert "不能重复登记" in page and world.enterprise.name in page
    assert "仍要保存" not in page
