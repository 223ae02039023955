"""Imports stay inside the zones a user may write; batch lists and pages show only their zones'."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.imports.models import ImportBatch
from crm.pipeline.models import Project
from crm.imports import service as import_service
from crm.imports.service import ImportRefused
from tests.imports.builders import xlsx
from tests.imports.conftest import commit, plan_for

ROWS = [["项目名称", "企业名称"], ["园区范围项目", "园区范围企业有限公司"]]


def test_an_officer_cannot_import_into_another_zone(world):
    with pytest.raises(ImportRefused, match="无权向“乙园区”导入数据"):
        plan_for(world.officer_a, "projects", ROWS, world.zone_b)
    with pytest.raises(ImportRefused, match="无权"):
        import_service.commit_import(world.chief_a, "enterprises", import_service.read_table(
            xlsx([["企业名称"], ["甲"]]), "a.xlsx", max_bytes=10**6, max_rows=10), None, world.zone_b, "a.xlsx")
    with pytest.raises(ImportRefused, match="只有招商专员"):
        plan_for(world.viewer_a, "projects", ROWS, world.zone_a)


def test_the_upload_form_ignores_a_zone_an_officer_sends(world, login_as, uploads):
    client = login_as(world.officer_a)
    response = client.post("/imports/", data={"file": (io.BytesIO(xlsx(ROWS)), "a.xlsx"), "kind": "projects",
                                              "zone_id": world.zone_b.id}, content_type="multipart/form-data")
    token = response.headers["Location"].rsplit("/", 1)[1]
    client.post(f"/imports/{token}/commit")
    project = db.session.scalars(select(Project).where(Project.name == "园区范围项目")).one()
    assert project.zone_id == world.zone_a.id


def test_batch_lists_and_pages_are_zone_scoped(world, login_as):
    batch_a = commit(world.officer_a, "projects", ROWS, world.zone_a)
    batch_b = commit(world.officer_b, "projects", [ROWS[0], ["乙园导入项目", "乙园导入企业有限公司"]], world.zone_b)
    assert [b.id for b in db.session.scalars(import_service.batch_list_query(world.officer_a))] == [batch_a.id]
    assert {b.id for b in db.session.scalars(import_service.batch_list_query(world.admin))} == {batch_a.id, batch_b.id}

    officer = login_as(world.officer_a)
    listing = officer.get("/imports/").get_data(as_text=True)
    assert f"/imports/batches/{batch_a.id}" in listing and f"/imports/batches/{batch_b.id}" not in listing
    assert "乙园导入" not in officer.get(f"/imports/batches/{batch_a.id}").get_data(as_text=True)
    assert officer.get(f"/imports/batches/{batch_b.id}").status_code == 404
    admin = login_as(world.admin)
    assert f"/imports/batches/{batch_b.id}" in admin.get("/imports/").get_data(as_text=True)
    assert "乙园导入项目" in admin.get(f"/imports/batches/{batch_b.id}").get_data(as_text=True)
    assert db.session.get(ImportBatch, batch_b.id).zone_id == world.zone_b.id
