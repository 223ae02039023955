"""The bench's own machinery (no timings here: the speed targets live in bench/): its floors are SQL
this database accepts, page and floor alternate, and the pinned clock reaches the app's pages."""
from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.export import floor_export
from bench.generate import pinned_clock
from bench.pages import PAGES, interleaved_ms, spread
from crm.extensions import db
from tests import factories as f


def _floor_context(world, today: date) -> dict:
    return {"zone": world.zone_a.id, "chain": "aluminium", "name_q": "宏达", "pinyin_q": "hongda", "today": today,
            "zones": [world.zone_a.id], "user_id": world.officer_a.id, "gap_codes": ["AL-BAUXITE", "AL-ALUMINA"]}


@pytest.mark.parametrize("page", PAGES, ids=[p.key for p in PAGES])
def test_every_floor_runs_on_this_database(world, page):
    """On SQLite and on PostgreSQL alike (PostgreSQL once refused 我的工作's `ORDER BY last_visit IS NOT NULL`)."""
    f.make_visit(world.officer_a, project=world.project_a, visit_date=date.today() - timedelta(days=3),
                 next_step="寄送园区政策", next_step_due=date.today() - timedelta(days=1))
    db.session.commit()
    ctx = _floor_context(world, date.today())
    connection = db.session.connection()
    page.floor(connection, ctx)
    page.floor(connection, {**ctx, "zones": None, "user_id": world.admin.id})  # the city admin's floor


def test_ledger_floor_writes_every_sheet_on_this_database(world):
    """XlsxWriter refuses time-zone-aware cells, which PostgreSQL's timestamptz columns return."""
    from openpyxl import load_workbook

    month = date.today().strftime("%Y-%m")
    out = io.BytesIO()
    rows = floor_export(db.session.connection(), [world.zone_a.id], month, out, date.today())
    assert rows >= 1  # project_a, in talks since today: the 在谈项目 sheet
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    assert "在谈项目" in book.sheetnames and len(book.sheetnames) == 6


@pytest.mark.no_db
def test_page_and_floor_alternate_and_every_pair_is_kept():
    calls = []
    pages, floors = interleaved_ms(lambda: calls.append("page"), lambda: calls.append("floor"), runs=4,
                                   budget_s=60, warmup=1)
    assert calls == ["page", "floor"] * 5
    assert len(pages) == len(floors) == 4


@pytest.mark.no_db
def test_spread_gives_min_quartiles_and_max():
    assert spread([4.0, 1.0, 3.0, 2.0, 5.0]) == {"min": 1.0, "q1": 2.0, "median": 3.0, "q3": 4.0, "max": 5.0}
    assert spread([7.0])["q1"] == spread([7.0])["q3"] == 7.0


@pytest.mark.no_db
def test_pinned_clock_sets_the_date_but_not_the_timer():
    day = date(2026, 11, 23)
    with pinned_clock(day):
        assert date.today() == day
        assert datetime.now(UTC).date() == day
        started_wall, started = time.time(), time.perf_counter()
        time.sleep(0.05)
        assert time.perf_counter() - started >= 0.05  # timings stay real
        assert time.time() - started_wall >= 0.05  # and the pinned clock ticks on
    assert date.today() != day or datetime.now(UTC).hour != 12


def test_pinned_clock_reaches_my_work(world, login_as):
    """我的工作 reads date.today() in its service; under the pinned clock it shows that day's work."""
    day = date.today() - timedelta(days=30)
    f.make_visit(world.officer_a, project=world.project_a, visit_date=day - timedelta(days=1),
                 next_step="送达投资协议草案", next_step_due=day + timedelta(days=3))
    db.session.commit()
    with pinned_clock(day):
        page = login_as(world.officer_a).get("/visits/my-work").get_data(as_text=True)
    upcoming = page.split('data-testid="upcoming"', 1)[1].split('data-testid="stale"', 1)[0]
    overdue = page.split('data-testid="overdue"', 1)[1].split('data-testid="upcoming"', 1)[0]
    assert day.isoformat() in page.split('data-testid="overdue"', 1)[0]  # the heading's date
    assert "送达投资协议草案" in upcoming and "送达投资协议草案" not in overdue
    # At the real date the same step is long overdue: the clock, not the data, made the difference.
    client = login_as(world.officer_a)
    with client.session_transaction() as session:  # signed in a month ago: that session has expired
        session.clear()
    page = login_as(world.officer_a).get("/visits/my-work").get_data(as_text=True)
    assert "送达投资协议草案" in page.split('data-testid="overdue"', 1)[1].split('data-testid="upcoming"', 1)[0]
