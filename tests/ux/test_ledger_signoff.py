"""The ledger's sign-off block: set per zone on its settings page, printed at the foot of every page of every sheet."""
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from crm.permissions import NotAllowed
from crm.extensions import db
from crm.formatting import LOCAL_TZ
from crm.ledger import service as ledger
from crm.ledger.export import export_ledger


def _foot(user, **kwargs):
    out = io.BytesIO()
    export_ledger(user, "2026-12", out, printed_at=datetime(2026, 12, 1, 9, 0, tzinfo=LOCAL_TZ), **kwargs)
    out.seek(0)
    book = load_workbook(out)
    return {ws.title: ws.oddFooter.left.text.split("\n") for ws in book}


def test_every_sheet_ends_with_the_zones_signoff_and_the_export_day(world, login_as):
    client = login_as(world.chief_a)
    page = client.get(f"/reports/zones/{world.zone_a.id}/settings")
    assert "台账填报人" in page.get_data(as_text=True)
    saved = client.post(f"/reports/zones/{world.zone_a.id}/settings",
                        data={"year": 2026, "signoff_unit": "", "signoff_preparer": "王填报", "signoff_reviewer": "李审核"})
    assert saved.status_code == 302
    db.session.expire_all()
    feet = _foot(world.chief_a, zone_id=world.zone_a.id)
    assert len(feet) == 6
    for sheet, lines in feet.items():
        assert lines == [f"填报单位：{world.zone_a.name}　　填报人：王填报　　审核人：李审核　　填报日期：2026-12-01"], sheet


def test_only_the_zones_chief_or_the_admin_sets_the_signoff(world):
    with pytest.raises(NotAllowed):
        ledger.set_signoff(world.officer_a, world.zone_a, {"preparer": "某人"})
    with pytest.raises(NotAllowed):
        ledger.set_signoff(world.chief_b, world.zone_a, {"preparer": "某人"})
    assert ledger.set_signoff(world.admin, world.zone_a, {"unit": "甲园区招商局"}).unit == "甲园区招商局"
