"""The chain pages for each role, and zone scoping through the map, the panel and the report."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import BASE_DIR
from crm.extensions import db
from tests.chains_app.conftest import mapped_enterprise
from tests.exports import export

ROLES = ["officer_a", "chief_a", "admin", "viewer_a"]
READ_URLS = (
    "/chains/", "/chains/aluminium", "/chains/aluminium/graph.json",
    "/chains/aluminium/segments/AL-PRIMARY/panel.json", "/chains/aluminium/segments/LB-CATHODE/panel.json",
    "/chains/aluminium/gaps", "/chains/pharma", "/chains/food/gaps",
)
EXPORT = "/chains/aluminium/gaps.xlsx"  # a job: POSTed, then downloaded (tests/exports.py)


@pytest.mark.parametrize("role", ROLES)
def test_every_chain_page_opens_for_every_role(map_world, login_as, role):
    client = login_as(getattr(map_world, role))
    for url in READ_URLS:
        response = client.get(url)
        assert response.status_code == 200, url
    assert export(client, EXPORT).mimetype.endswith("spreadsheetml.sheet")
    zone_a = map_world.zone_a.id
    for url in ("/chains/aluminium", "/chains/aluminium/graph.json", "/chains/aluminium/gaps",
                "/chains/aluminium/segments/AL-PRIMARY/panel.json"):
        assert client.get(f"{url}?zone_id={zone_a}").status_code == 200, url


def test_chain_pages_need_sign_in(client, world):
    for url in READ_URLS:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert "/login" in client.post(EXPORT).headers["Location"]


def test_nav_links_to_the_chains(world, login_as):
    page = login_as(world.viewer_a).get("/").get_data(as_text=True)
    assert 'href="/chains/"' in page and "产业链" in page


@pytest.mark.parametrize("role", ["officer_a", "chief_a", "viewer_a"])
def test_zone_a_gets_404_for_zone_b_everywhere(map_world, login_as, role):
    client = login_as(getattr(map_world, role))
    zone_b = map_world.zone_b.id
    for url in ("/chains/", "/chains/aluminium", "/chains/aluminium/graph.json", "/chains/aluminium/gaps",
                "/chains/aluminium/segments/AL-PRIMARY/panel.json"):
        assert client.get(f"{url}?zone_id={zone_b}").status_code == 404, url
        assert client.get(f"{url}?zone_id=abc").status_code == 404, url
    assert export(client, f"{EXPORT}?zone_id={zone_b}").status_code == 404
    assert export(client, f"{EXPORT}?zone_id=abc").status_code == 404


def test_unknown_chain_or_segment_is_404(world, login_as):
    client = login_as(world.admin)
    assert client.get("/chains/nope").status_code == 404
    assert client.get("/chains/nope/graph.json").status_code == 404
    assert client.get("/chains/aluminium/segments/PH-API/panel.json").status_code == 404
    assert client.get("/chains/aluminium?zone_id=999999").status_code == 404


def test_panel_of_zone_a_never_shows_zone_b_projects(map_world, login_as):
    client = login_as(map_world.officer_a)
    response = client.get("/chains/aluminium/segments/AL-PRIMARY/panel.json")
    text = response.get_data(as_text=True)
    panel = response.get_json()
    assert [p["name"] for p in panel["projects"]] == ["宏达铝材甲园项目"]
    assert "宏达铝材乙园机密项目" not in text and "乙园机密" not in text
    assert f"/projects/{map_world.project_b.id}\"" not in text
    assert panel["zones"] is None and panel["edit_url"] is None
    assert panel["gap"]["status"] == "strong" and panel["gap"]["reasons"]
    assert [e["name"] for e in panel["local"]] == ["甲园电解铝有限公司"]
    held = {t["name"]: (t["projects"], t["visits"]) for t in panel["targets"]}
    assert held["江苏宏达铝业有限公司"] == (1, 1)  # zone A's own project and visit only
    for url in ("/chains/aluminium/gaps", "/chains/aluminium/graph.json"):
        assert "乙园机密" not in client.get(url).get_data(as_text=True)


def test_admin_city_panel_shows_which_zones_hold_the_segment(map_world, login_as):
    panel = login_as(map_world.admin).get("/chains/aluminium/segments/AL-PRIMARY/panel.json").get_json()
    assert [(z["zone"], z["count"]) for z in panel["zones"]] == [("甲园区", 1), ("乙园区", 1)]
    assert {p["name"] for p in panel["projects"]} == {"宏达铝材甲园项目", "宏达铝材乙园机密项目"}
    assert panel["edit_url"].startswith("/chains/segments/")
    zone_b = login_as(map_world.admin).get(
        f"/chains/aluminium/segments/AL-PRIMARY/panel.json?zone_id={map_world.zone_b.id}").get_json()
    assert [p["name"] for p in zone_b["projects"]] == ["宏达铝材乙园机密项目"] and zone_b["zones"] is None


def test_graph_json_has_the_layout_status_and_sizes(map_world, login_as):
    data = login_as(map_world.chief_a).get("/chains/aluminium/graph.json").get_json()
    nodes = {n["code"]: n for n in data["nodes"]}
    assert data["scope"] == "甲园区" and data["chain"]["code"] == "aluminium"
    assert nodes["AL-PRIMARY"]["status"] == "strong" and nodes["AL-PRIMARY"]["count"] == 1
    assert nodes["AL-BAUXITE"]["status"] == "missing" and nodes["AL-BAUXITE"]["size"] < nodes["AL-PRIMARY"]["size"]
    assert nodes["LB-CATHODE"]["external"] is True
    # Left to right by tier: every 上游 segment left of every 下游 one.
    up = max(n["x"] for n in nodes.values() if n["tier"] == "上游" and not n["external"])
    down = min(n["x"] for n in nodes.values() if n["tier"] == "下游" and not n["external"])
    assert up < down
    assert all(0 <= n["x"] <= 1000 and 0 <= n["y"] <= data["height"] for n in nodes.values())
    # Labels never overlap: within a column, segments sit at least one label height apart.
    columns = {}
    for n in nodes.values():
        columns.setdefault(n["x"], []).append(n["y"])
    for ys in columns.values():
        ys.sort()
        assert all(b - a >= data["row_px"] - 0.01 for a, b in zip(ys, ys[1:]))
    assert data["height"] == data["rows"] * data["row_px"]
    # Focus: each node lists its suppliers and buyers.
    assert "AL-BAUXITE" in nodes["AL-ALUMINA"]["suppliers"] and "AL-PRIMARY" in nodes["AL-ALUMINA"]["buyers"]
    assert {"source": "AL-BAUXITE", "target": "AL-ALUMINA", "external": False} in data["edges"]
    city = login_as(map_world.admin).get("/chains/aluminium/graph.json").get_json()
    assert city["city"] is True and city["scope"] == "全市"
    assert [z["zone"] for z in {n["code"]: n for n in city["nodes"]}["AL-PRIMARY"]["zones"]] == ["甲园区", "乙园区"]


def test_map_page_has_the_controls_and_the_data_urls(map_world, login_as):
    page = login_as(map_world.chief_a).get("/chains/aluminium").get_data(as_text=True)
    for text in ("全景图", "现状图", "导出PNG", "缺口报告", "echarts.min.js", "js/chain_map.js",
                 f'data-graph-url="/chains/aluminium/graph.json?zone_id={map_world.zone_a.id}"'):
        assert text in page, text
    assert 'data-testid="zone-selector"' not in page  # one zone: nothing to choose
    admin = login_as(map_world.admin).get("/chains/aluminium").get_data(as_text=True)
    assert 'data-testid="zone-selector"' in admin and "全市" in admin and "乙园区" in admin


def test_gap_report_shows_kpis_gaps_choke_points_targets_and_the_data_date(map_world, login_as):
    mapped_enterprise(map_world.admin, "AL-BAUXITE", revenue=5000, above_scale=True, name="外地铝土矿集团有限公司")
    db.session.commit()
    page = login_as(map_world.chief_a).get("/chains/aluminium/gaps").get_data(as_text=True)
    for text in ("铝基新材料产业链缺口报告", "甲园区", "环节覆盖率", "缺口排序", "卡脖子环节", "招商目标",
                 "分环节在谈线索", "数据日期", "外地铝土矿集团有限公司", "延链", "相邻配套", "打印", "导出Excel",
                 "css/chains.css"):
        assert text in page, text


def test_index_lists_chains_with_coverage(map_world, login_as):
    page = login_as(map_world.officer_a).get("/chains/").get_data(as_text=True)
    assert "铝基新材料" in page and "医药健康" in page and "甲园区" in page
    assert "/chains/aluminium/gaps" in page


TEMPLATES = sorted((BASE_DIR / "crm" / "chains" / "templates" / "chains").glob("*.html"))


@pytest.mark.no_db
@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: Path(p).name)
def test_templates_carry_no_inline_script_style_or_handlers(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\sstyle\s*=", text), "style= attribute"
    assert not re.search(r"\son[a-z]+\s*=", text), "on...= handler"
    assert "<style" not in text
    if 'method="post"' in text:
        assert "hidden_tag()" in text or "csrf_token()" in text


def test_templates_exist():
    assert {p.name for p in TEMPLATES} >= {"index.html", "map.html", "gaps.html", "mapping.html",
                                            "segment_form.html", "chain_edit.html"}


def test_gap_report_speaks_plainly_and_shows_targets_and_projects_beside_each_gap(map_world, login_as):
    from chains.explain import ACTION_PLAIN, TERM_PLAIN
    from crm.chains.gaps import TERM_LABELS
    from tests.chains_app.conftest import project_on

    assert {k: t.label for k, t in TERM_PLAIN.items()} == TERM_LABELS  # one set of names
    # 煅后石油焦 (supplier) and 电解铝 (buyer) are local to 甲园区, 预焙阳极 between them is not: 补链.
    mapped_enterprise(map_world.admin, "AL-PETCOKE", zone=map_world.zone_a, revenue=3000, above_scale=True)
    mapped_enterprise(map_world.admin, "AL-ANODE", revenue=9000, above_scale=True, name="外地预焙阳极集团有限公司")
    project_on(map_world.chief_a, "AL-ANODE", stage="洽谈", name="预焙阳极洽谈项目")
    db.session.commit()
    page = login_as(map_world.chief_a).get("/chains/aluminium/gaps").get_data(as_text=True)
    group = re.search(r'<tbody class="gap-group" data-testid="gap-AL-ANODE">(.*?)</tbody>', page, re.S).group(1)
    assert ACTION_PLAIN["补链"] in group and "上下游都有本地企业，中间缺这一环" in group
    assert "本地还没有这一环的企业" in group
    assert "外地预焙阳极集团有限公司" in group  # its candidate target, beside the gap
    assert "预焙阳极洽谈项目" in group and "洽谈 1" in group  # and its pipeline
    # Every term keeps its points; what each means is said in words, in one table.
    assert all(label in page for label in TERM_LABELS.values())
    assert 'data-testid="term-table"' in page and TERM_PLAIN["adj"].plain in page
    # The method and its citations sit behind a fold; the plain text never says 割点.
    fold = re.search(r'<details class="method-fold small" data-testid="method-fold">(.*?)</details>', page, re.S).group(1)
    assert "Hidalgo" in fold and "割点" in fold and "immediate_dominators" in fold
    assert "割点" not in page.replace(fold, "")
