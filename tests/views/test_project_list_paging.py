"""The project list chooses its page by id first, then loads the page's rows with their joins.

Its pages, read one after the other, hold the list in the order of ``project_list_query`` (sorted by any
column, the masked name too), each project once; and a page runs the same queries for 3 projects as for 60.
"""
from __future__ import annotations

import re

import pytest

from crm.extensions import db
from crm.pipeline.service import project_list_query
from tests import factories as f


def _ids_shown(html: str) -> list[int]:
    return [int(i) for i in dict.fromkeys(re.findall(r'href="/projects/(\d+)"', html))]


def _make(officer, n: int, start: int) -> None:
    for i in range(start, start + n):
        firm = f.make_enterprise(officer, name=f"分页企业{i}有限公司")
        f.make_project(officer, firm, name=f"分页项目{i:03d}", planned_investment=(i * 37) % 11,
                       confidential=i % 5 == 0)


@pytest.mark.parametrize("sort", ["-updated", "name", "-name", "investment", "-investment"])
def test_the_pages_hold_the_list_in_order_each_project_once(app, world, login_as, sort):
    _make(world.officer_a, 12, 0)
    db.session.commit()
    app.config["PAGE_SIZE"] = 5
    try:
        viewer = world.viewer_a  # sees the confidential ones masked: sorted as masked, and never linked
        client = login_as(viewer)
        shown = []
        for page in (1, 2, 3, 4):
            response = client.get(f"/projects/?sort={sort}&page={page}")
            assert response.status_code == 200
            shown.append(response.get_data(as_text=True))
        expected = list(db.session.scalars(project_list_query(viewer, {}, sort).with_only_columns(
            db.metadata.tables["projects"].c.id)))
        assert len(expected) == 13  # world.project_a and the twelve
        linked = [i for html in shown for i in _ids_shown(html)]
        assert linked == [i for i in expected if i in set(linked)]  # in the list's order, each once
        assert _ids_shown(shown[3]) == []  # 13 rows over pages of 5: page 4 is empty
    finally:
        app.config["PAGE_SIZE"] = 50


def test_a_page_runs_the_same_queries_for_three_projects_or_sixty(world, login_as, count_queries):
    client = login_as(world.chief_a)
    _make(world.officer_a, 2, 100)
    db.session.commit()
    client.get("/projects/")  # warm up: the session and user queries
    with count_queries() as few:
        assert client.get("/projects/").status_code == 200
    _make(world.officer_a, 57, 200)
    db.session.commit()
    with count_queries() as many:
        assert client.get("/projects/").status_code == 200
    assert len(many) == len(few), (len(few), len(many))
