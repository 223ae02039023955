"""The chain map in a real browser: ECharts draws it, 现状图 toggles, a click opens the segment panel."""
from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.no_db, pytest.mark.browser]

# page.evaluate runs through the DevTools protocol, so it works under the app's strict CSP
# (page.wait_for_function would need 'unsafe-eval'); poll with it instead.
_CHART_NODES = """() => {
  const el = document.getElementById("chain-map");
  const chart = el && window.echarts && echarts.getInstanceByDom(el);
  const option = chart && chart.getOption();
  return option && option.series && option.series.length ? option.series[0].data.length : 0;
}"""
_NODE_PIXEL = """(code) => {
  const chart = echarts.getInstanceByDom(document.getElementById("chain-map"));
  const node = chart.getOption().series[0].data.find((d) => d.name === code);
  return chart.convertToPixel({seriesIndex: 0}, [node.x, node.y]);
}"""


def _wait_for_chart(page) -> int:
    for _ in range(100):
        count = page.evaluate(_CHART_NODES)
        if count:
            return count
        page.wait_for_timeout(100)
    raise AssertionError("the chain map never drew its nodes")


def test_chain_map_draws_and_a_click_opens_the_panel(page):
    sign_in(page, "chief1")
    page.goto("/chains/aluminium")
    canvas = page.locator("#chain-map canvas").first
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    assert _wait_for_chart(page) >= 32  # the aluminium chain's 32 segments, plus linked ones

    page.get_by_role("button", name="现状图").click()
    assert page.get_by_role("button", name="现状图").get_attribute("aria-pressed") == "true"
    assert page.locator("[data-legend=status]").is_visible()

    x, y = page.evaluate(_NODE_PIXEL, "AL-PRIMARY")
    chart_box = page.locator("#chain-map").bounding_box()
    page.mouse.click(chart_box["x"] + x, chart_box["y"] + y)
    title = page.get_by_test_id("panel-title")
    title.wait_for()
    assert "电解铝" in title.inner_text()
    assert any(label in title.inner_text() for label in ("强", "弱", "缺"))
    gap = page.get_by_test_id("panel-gap")
    assert "现状：" in gap.inner_text() and "优先级" in gap.inner_text()
    panel = page.get_by_test_id("segment-panel").inner_text()
    assert "本地企业" in panel and "招商目标" in panel and "在办项目" in panel
    screenshot(page, "chain-map-status-panel")

    with page.expect_download() as download:
        page.get_by_role("button", name="导出PNG").click()
    assert download.value.suggested_filename == "aluminium-现状图.png"


def test_gap_report_opens_from_the_map_and_prints(page):
    sign_in(page, "chief1")
    page.goto("/chains/aluminium")
    page.get_by_role("link", name="缺口报告").click()
    page.wait_for_url("**/chains/aluminium/gaps*")
    assert page.get_by_role("heading", name="铝基新材料产业链缺口报告").is_visible()
    assert page.get_by_test_id("report-scope").inner_text() == "江州经济技术开发区"
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.get_by_role("button", name="打印").is_visible()
    page.emulate_media(media="screen")
    screenshot(page, "chain-gap-report")


def test_admin_switches_the_map_to_the_whole_city(page):
    sign_in(page, "admin")
    page.goto("/chains/aluminium")
    assert "全市" in page.get_by_test_id("map-scope").inner_text()
    page.get_by_label("分析范围").select_option(label="江州经济技术开发区")
    page.wait_for_url("**zone_id=*")
    assert "江州经济技术开发区" in page.get_by_test_id("map-scope").inner_text()
    assert _wait_for_chart(page) >= 32


_FOCUS_STATE = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById("chain-map"));
  const data = chart.getOption().series[0].data.filter((d) => !d.isHeader);
  const opacity = {};
  data.forEach((d) => { opacity[d.name] = d.itemStyle.opacity; });
  return {focus: document.getElementById("chain-map").dataset.focus, opacity: opacity};
}"""
_LABELS_APART = """() => {
  // Every pair of segments in one column is at least one row (a label's height) apart on screen.
  const chart = echarts.getInstanceByDom(document.getElementById("chain-map"));
  const points = chart.getOption().series[0].data.filter((d) => !d.isHeader)
    .map((d) => chart.convertToPixel({seriesIndex: 0}, [d.x, d.y]));
  let closest = Infinity;
  points.forEach((a, i) => points.slice(i + 1).forEach((b) => {
    if (Math.abs(a[0] - b[0]) < 1) closest = Math.min(closest, Math.abs(a[1] - b[1]));
  }));
  return closest;
}"""


def test_choosing_a_segment_focuses_its_suppliers_and_buyers(page):
    sign_in(page, "chief1")
    page.goto("/chains/aluminium")
    _wait_for_chart(page)
    assert page.evaluate(_LABELS_APART) >= 50  # rows are one label height (54 px) apart

    page.get_by_label("聚焦环节").select_option("AL-ALUMINA")
    summary = page.get_by_test_id("focus-summary")
    summary.wait_for()
    assert "氧化铝" in summary.inner_text()
    suppliers = page.get_by_test_id("focus-suppliers").inner_text()
    buyers = page.get_by_test_id("focus-buyers").inner_text()
    assert "铝土矿" in suppliers and "烧碱" in suppliers
    assert "电解铝" in buyers and "氟化铝/冰晶石" in buyers
    state = page.evaluate(_FOCUS_STATE)
    assert state["focus"] == "AL-ALUMINA"
    # The segment, its suppliers and its buyers stay bright; a segment two steps away fades.
    assert state["opacity"]["AL-ALUMINA"] == state["opacity"]["AL-BAUXITE"] == state["opacity"]["AL-PRIMARY"] == 1
    assert state["opacity"]["AL-BILLET"] < 0.5
    page.get_by_test_id("panel-title").wait_for()
    assert "氧化铝" in page.get_by_test_id("panel-title").inner_text()  # its panel opens too
    screenshot(page, "chain-map-focus")

    page.get_by_role("button", name="取消聚焦").click()
    state = page.evaluate(_FOCUS_STATE)
    assert state["focus"] == "" and state["opacity"]["AL-BILLET"] == 1


def test_a_link_can_open_the_map_focused(page):
    sign_in(page, "chief1")
    page.goto("/chains/carbon?focus=CB-NEEDLE-COKE")
    _wait_for_chart(page)
    for _ in range(50):
        if page.evaluate(_FOCUS_STATE)["focus"] == "CB-NEEDLE-COKE":
            break
        page.wait_for_timeout(100)
    assert "负极材料" in page.get_by_test_id("focus-buyers").inner_text()  # 针状焦 → 人造石墨负极
    assert "煤沥青" in page.get_by_test_id("focus-suppliers").inner_text()
