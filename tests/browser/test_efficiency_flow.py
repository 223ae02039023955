"""In Chromium: a zone chief runs the year's 亩均效益 evaluation and opens a firm's points."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.no_db, pytest.mark.browser]

YEAR = 2024


def _figures_for_chief1s_zone(live_server) -> tuple[int, str]:
    """Three local firms of chief1's zone with YEAR figures (entered by chief1); (zone id, the best firm's name)."""
    from crm.accounts.models import User
    from crm.audit.log import acting_as
    from crm.efficiency.service import save_figures
    from crm.extensions import db
    from crm.library.models import Enterprise

    with live_server.app.app_context():
        try:
            chief = db.session.scalars(select(User).where(User.username == "chief1")).one()
            zone_id = chief.zone_ids[0]
            firms = db.session.scalars(select(Enterprise).where(Enterprise.zone_id == zone_id,
                                                                Enterprise.deleted_at.is_(None))
                                       .order_by(Enterprise.id).limit(3)).all()
            if len(firms) < 3:
                pytest.skip("the demo zone has fewer than three local firms")
            with acting_as(db.session, chief):
                for n, firm in enumerate(firms, 1):
                    save_figures(chief, firm, YEAR, {"land_mu": Decimal(10), "tax": Decimal(50 * n),
                                                     "revenue": Decimal(1000 * n), "value_added": Decimal(300 * n),
                                                     "energy_tce": Decimal(100), "employees": 20})
            db.session.commit()
            return zone_id, firms[-1].name
        finally:
            db.session.remove()


def test_run_the_years_evaluation_and_open_a_firms_points(page, live_server):
    zone_id, best = _figures_for_chief1s_zone(live_server)
    sign_in(page, "chief1")
    page.get_by_role("link", name="亩均评价").click()
    page.goto(f"/efficiency/?zone_id={zone_id}&year={YEAR}")
    page.locator("#run-evaluation").click()
    page.wait_for_selector("#ranking")
    assert "年度评价完成：3 家企业" in page.content()
    first = page.locator("#ranking tbody tr").first
    assert best in first.inner_text() and "A" in first.inner_text()
    first.get_by_role("link", name=best).click()
    points = page.locator(f"#points-{YEAR}")
    points.wait_for()
    text = points.inner_text()
    # 150 万元 ÷ 10 亩 = 15, the benchmark: 40; 300 万元/亩: 10; 9 万元/吨标煤: 60; 45 万元/人: 30; no
    # emissions or water figures: 0 each, named below the table.
    assert "亩均税收" in text and "40.00" in text and "60.00" in text and "140.00" in text
    assert "缺少数据（该项计 0 分）：主要污染物排放量、用水量" in page.content()
