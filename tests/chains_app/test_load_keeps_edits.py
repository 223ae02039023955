"""`flask chains load` keeps what an admin edited in the UI and reports where the files differ."""
from __future__ import annotations

from chains.definitions import load_all
from crm.catalog.service import sync_chains
from crm.extensions import db
from tests.chains_app.conftest import segment


def _edit(client, code, **changes):
    seg = segment(code)
    data = {"name": seg.name, "name_en": seg.name_en, "tier": seg.tier, "value_add": str(seg.value_add),
            "products": "、".join(seg.products), "keywords": "、".join(seg.keywords)}
    data.update(changes)
    response = client.post(f"/chains/segments/{seg.id}/edit", data=data)
    assert response.status_code == 302


def _load(app):
    result = app.test_cli_runner().invoke(args=["chains", "load"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def test_an_admin_edit_marks_the_segment_and_survives_a_load(world, login_as, app):
    file_name = segment("AL-SHEET").name
    _edit(login_as(world.admin), "AL-SHEET", name="铝板带箔", value_add="5")
    seg = segment("AL-SHEET")
    assert seg.edited_at is not None and seg.edited_by_id == world.admin.id

    output = _load(app)
    seg = segment("AL-SHEET")
    assert (seg.name, seg.value_add) == ("铝板带箔", 5)
    assert f"保留管理员修改: AL-SHEET 环节名称 {file_name} → 铝板带箔" in output
    assert "保留管理员修改: AL-SHEET 价值层级" in output
    # Only the fields that differ are reported, and only for the edited segment.
    assert output.count("保留管理员修改") == 2


def test_a_segment_nobody_edited_still_follows_the_file(world, app):
    seg = segment("AL-ALUMINA")
    file_name = seg.name
    seg.name = "手工改过但不是通过界面"
    db.session.commit()
    output = _load(app)
    assert segment("AL-ALUMINA").name == file_name
    assert "保留管理员修改" not in output


def test_a_save_without_changes_does_not_mark_the_segment(world, login_as):
    _edit(login_as(world.admin), "AL-SHEET")
    assert segment("AL-SHEET").edited_at is None


def test_the_kept_list_names_file_and_database_values(world, login_as, app):
    _edit(login_as(world.admin), "AL-SHEET", keywords="铝板带、彩涂铝卷")
    stats = sync_chains(load_all())
    [(code, field, from_file, in_db)] = stats["kept"]
    assert (code, field, in_db) == ("AL-SHEET", "keywords", ["铝板带", "彩涂铝卷"])
    assert from_file != in_db
    # Repeating the load changes nothing and keeps reporting the difference.
    assert sync_chains(load_all())["segments"] == 0
