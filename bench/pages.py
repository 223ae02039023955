"""Each main page through the WSGI app, against its raw SQL floor on the same connection.

The floor of a page is the SQL it needs, hand-written with the same shape as the app's queries
(same filters, joins, grouping, ordering and limits) and run with ``text()`` on the connection the
page used (the pool holds one), every row fetched. page/floor is then what the framework costs
on top of the database: ORM, permissions, Jinja, Flask. city/zone growth shows what the database
does with ten times the data. Each page also reports its query count and, from the same timed
requests, the time spent in SQL and in rendering templates, which is the profile of a miss.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import before_render_template, template_rendered
from sqlalchemy import bindparam, event, select, text

PIPELINE = ("线索", "接洽", "考察", "洽谈", "签约", "注册", "开工", "投产", "达产")
LEADS = PIPELINE[:4]
PARTIAL = ("签约", "注册", "开工")
SIGNED = PIPELINE[4:]
QUALITY_TAGS = ("500强", "上市", "单项冠军", "小巨人", "专精特新", "高新技术企业")


def run(conn, sql: str, params: dict | None = None, expanding: tuple[str, ...] = ()):
    statement = text(sql)
    if expanding:
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
    return conn.execute(statement, params or {}).fetchall()


def _zone_clause(ctx, column: str) -> str:
    return "" if ctx["zones"] is None else f" AND {column} IN :zones"


def _zp(ctx, **params) -> dict:
    if ctx["zones"] is not None:
        params["zones"] = ctx["zones"]
    return params


def _exp(ctx, *names) -> tuple[str, ...]:
    return tuple(names) + (("zones",) if ctx["zones"] is not None else ())


# --- floors -----------------------------------------------------------------------------------

ENTERPRISE_PAGE = """SELECT e.*, z.name AS zone_name FROM enterprises e LEFT JOIN zones z ON z.id = e.zone_id
WHERE e.deleted_at IS NULL AND {cond} ORDER BY e.name, e.id LIMIT 50"""


def _enterprise_floor(conn, cond: str, params: dict) -> None:
    run(conn, f"SELECT count(*) FROM enterprises e WHERE e.deleted_at IS NULL AND {cond}", params)
    run(conn, ENTERPRISE_PAGE.format(cond=cond), params)


def floor_enterprise_filter(conn, ctx) -> None:
    _enterprise_floor(conn, "e.zone_id = :z", {"z": ctx["zone"]})


def floor_enterprise_name(conn, ctx) -> None:
    # The two-character term's candidates from the bigram index, then the LIKE (as the page does).
    _enterprise_floor(conn, "e.id IN (SELECT g.enterprise_id FROM enterprise_search_grams g WHERE g.gram = :g) "
                            "AND (e.name LIKE :p ESCAPE '/' OR e.aliases LIKE :p ESCAPE '/')",
                      {"p": f"%{ctx['name_q']}%", "g": ctx["name_q"]})


def floor_enterprise_pinyin(conn, ctx) -> None:
    _enterprise_floor(
        conn,
        "(e.name LIKE :p ESCAPE '/' OR e.aliases LIKE :p ESCAPE '/' OR e.search_pinyin LIKE :p ESCAPE '/' "
        "OR e.uscc = :u)",
        {"p": f"%{ctx['pinyin_q']}%", "u": ctx["pinyin_q"].upper()},
    )


def floor_board(conn, ctx) -> None:
    from crm.pipeline.service import BOARD_LIMIT

    where = "deleted_at IS NULL AND stage IN :stages" + _zone_clause(ctx, "zone_id")
    params = _zp(ctx, stages=list(PIPELINE))
    run(conn, f"SELECT stage, count(*) FROM projects WHERE {where} GROUP BY stage", params, _exp(ctx, "stages"))
    # What a card shows and its button needs (crm.pipeline.service.BOARD_CARD_COLUMNS), BOARD_LIMIT per stage.
    run(conn, f"""SELECT p.id, p.name, p.stage, p.zone_id, p.owner_id, p.confidential, p.version,
              p.stage_changed_at, u.display_name, z.name AS zone
        FROM (SELECT id, row_number() OVER (PARTITION BY stage ORDER BY stage_changed_at DESC, id DESC) AS rn
              FROM projects WHERE {where}) r
        JOIN projects p ON p.id = r.id
        JOIN users u ON u.id = p.owner_id JOIN zones z ON z.id = p.zone_id
        WHERE r.rn <= :limit ORDER BY p.stage_changed_at DESC, p.id DESC""",
        {**params, "limit": BOARD_LIMIT}, _exp(ctx, "stages"))


def floor_my_work(conn, ctx) -> None:
    today = ctx["today"]
    # The columns the page loads (crm.dashboard.my_work.STEP_COLUMNS, crm.pipeline.service.named_only).
    link = "p.id, p.name, p.stage, p.zone_id, p.owner_id, p.confidential, p.version"
    steps = ("SELECT v.id, v.zone_id, v.enterprise_id, v.project_id, v.officer_id, v.next_step, v.next_step_due, "
             f"v.next_step_done_at, v.version, e.name AS enterprise, {link} FROM visits v "
             "JOIN enterprises e ON e.id = v.enterprise_id LEFT JOIN projects p ON p.id = v.project_id "
             "WHERE v.deleted_at IS NULL AND v.officer_id = :u AND v.next_step != '' AND v.next_step_done_at IS NULL "
             "AND v.next_step_due IS NOT NULL" + _zone_clause(ctx, "v.zone_id"))
    run(conn, steps + " AND v.next_step_due < :t ORDER BY v.next_step_due, v.id LIMIT 100",
        _zp(ctx, u=ctx["user_id"], t=today), _exp(ctx))
    run(conn, steps + " AND v.next_step_due >= :t AND v.next_step_due <= :t2 ORDER BY v.next_step_due, v.id LIMIT 100",
        _zp(ctx, u=ctx["user_id"], t=today, t2=today + timedelta(days=14)), _exp(ctx))
    run(conn, f"""SELECT {link}, p.created_at, p.last_visit_at AS last_visit, z.stale_lead_days
        FROM projects p JOIN zones z ON z.id = p.zone_id
        WHERE p.deleted_at IS NULL AND p.owner_id = :u AND p.stage IN :leads{_zone_clause(ctx, 'p.zone_id')}
        ORDER BY last_visit ASC NULLS FIRST, p.id""",
        _zp(ctx, u=ctx["user_id"], leads=list(LEADS)), _exp(ctx, "leads"))
    run(conn, f"SELECT stage, count(*) FROM projects WHERE deleted_at IS NULL AND owner_id = :u"
              f"{_zone_clause(ctx, 'zone_id')} GROUP BY stage", _zp(ctx, u=ctx["user_id"]), _exp(ctx))


def floor_dashboard(conn, ctx) -> None:
    today, zones = ctx["today"], _zone_clause(ctx, "p.zone_id")
    y0, y1 = date(today.year, 1, 1), date(today.year, 12, 31)
    base = f"FROM projects p WHERE p.deleted_at IS NULL{zones}"
    e = _exp(ctx)
    run(conn, f"SELECT p.stage, count(*) {base} GROUP BY p.stage", _zp(ctx), e)
    run(conn, f"SELECT p.signed_date, p.contract_investment {base} AND p.signed_date BETWEEN :a AND :b",
        _zp(ctx, a=y0, b=y1), e)
    run(conn, "SELECT c.signed_date, c.amount FROM capital_increases c WHERE c.deleted_at IS NULL"
              f"{_zone_clause(ctx, 'c.zone_id')} AND c.signed_date BETWEEN :a AND :b", _zp(ctx, a=y0, b=y1), e)
    signed = f"SELECT p.id {base} AND p.signed_date BETWEEN :a AND :b AND p.stage != '终止'"
    run(conn, f"SELECT count(*), count(p.registered_date), count(p.started_date), count(p.production_date), "
              f"coalesce(sum(p.contract_investment), 0) {base} AND p.signed_date BETWEEN :a AND :b "
              f"AND p.stage != '终止'", _zp(ctx, a=y0, b=y1), e)
    run(conn, f"SELECT coalesce(sum(f.amount), 0) FROM funds_in_place f WHERE f.project_id IN ({signed}) "
              "AND f.deleted_at IS NULL", _zp(ctx, a=y0, b=y1), e)
    run(conn, f"SELECT coalesce(sum(c.amount), 0) FROM capital_increases c WHERE c.project_id IN ({signed}) "
              "AND c.deleted_at IS NULL", _zp(ctx, a=y0, b=y1), e)
    overdue = (f"{base} AND p.signed_date IS NOT NULL AND p.stage != '终止' AND ("
               "(p.registered_date IS NULL AND p.due_registered < :t) OR (p.started_date IS NULL AND p.due_started < :t)"
               " OR (p.production_date IS NULL AND p.due_production < :t) OR "
               "(p.full_production_date IS NULL AND p.due_full_production < :t))")
    run(conn, f"SELECT p.*, e.name AS enterprise, u.display_name {overdue.replace('FROM projects p', 'FROM projects p JOIN enterprises e ON e.id = p.enterprise_id JOIN users u ON u.id = p.owner_id', 1)} "
              "ORDER BY p.signed_date LIMIT 20", _zp(ctx, t=today), e)
    run(conn, f"SELECT count(*) {overdue}", _zp(ctx, t=today), e)
    active = "CASE WHEN x.stage IN ('线索', '接洽', '考察', '洽谈') THEN 1 ELSE 0 END"
    signed_amount = ("CASE WHEN x.stage IN ('签约', '注册', '开工', '投产', '达产') "
                     "THEN coalesce(x.contract_investment, 0) ELSE 0 END")
    run(conn, f"""SELECT x.code, x.name, count(*), sum({active}), sum({signed_amount}) FROM (
        SELECT DISTINCT c.code, c.name, p.id, p.stage, p.contract_investment FROM projects p
        JOIN project_segments ps ON ps.project_id = p.id JOIN segments s ON s.id = ps.segment_id
        JOIN chains c ON c.id = s.chain_id WHERE p.deleted_at IS NULL{zones}) x
        GROUP BY x.code, x.name ORDER BY count(*) DESC, x.code""", _zp(ctx), e)
    run(conn, f"SELECT u.id, u.display_name, count(*), sum({active}), sum({signed_amount}) FROM projects x "
              f"JOIN users u ON u.id = x.owner_id WHERE x.deleted_at IS NULL{_zone_clause(ctx, 'x.zone_id')} "
              "GROUP BY u.id, u.display_name ORDER BY count(*) DESC, u.id", _zp(ctx), e)
    if ctx["zones"] is None:
        run(conn, f"SELECT z.id, z.name, count(*), sum({active}), sum({signed_amount}) FROM projects x "
                  "JOIN zones z ON z.id = x.zone_id WHERE x.deleted_at IS NULL GROUP BY z.id, z.name ORDER BY z.id")
    # Stale leads: a count over the last-visit summary, one branch per zone threshold (as the page).
    for days, in run(conn, "SELECT DISTINCT stale_lead_days FROM zones"):
        cutoff = today - timedelta(days=days)
        run(conn, f"""SELECT count(*) FROM projects p JOIN zones z ON z.id = p.zone_id
            WHERE p.deleted_at IS NULL AND p.stage IN :leads{zones} AND z.stale_lead_days = :d
            AND (p.last_visit_at <= :c OR (p.last_visit_at IS NULL AND p.created_at < :r))""",
            _zp(ctx, leads=list(LEADS), d=days, c=cutoff, r=cutoff + timedelta(days=1)), _exp(ctx, "leads"))
    run(conn, "SELECT count(*) FROM visits v WHERE v.deleted_at IS NULL AND v.next_step_due < :t "
              f"AND v.next_step_done_at IS NULL AND v.next_step != ''{_zone_clause(ctx, 'v.zone_id')}",
        _zp(ctx, t=today), e)


def _chain_floor(conn, ctx) -> list[str]:
    chain_id = run(conn, "SELECT id, code, name, name_en, version FROM chains WHERE code = :c", {"c": ctx["chain"]})[0][0]
    links = run(conn, """SELECT s1.code, s2.code FROM segment_links l JOIN segments s1 ON s1.id = l.from_segment_id
        JOIN segments s2 ON s2.id = l.to_segment_id WHERE s1.chain_id = :c OR s2.chain_id = :c""", {"c": chain_id})
    linked = sorted({code for link in links for code in link}) or [""]
    segments = run(conn, """SELECT s.*, c.code AS chain_code, c.name AS chain_name FROM segments s
        JOIN chains c ON c.id = s.chain_id WHERE s.chain_id = :c OR s.code IN :linked""",
        {"c": chain_id, "linked": linked}, ("linked",))
    codes = [row.code for row in segments]
    own = [row.code for row in segments if row.chain_id == chain_id]
    local = "e.zone_id IS NOT NULL" if ctx["zones"] is None else "e.zone_id IN :zones"
    run(conn, f"""SELECT s.code, count(e.id), sum(e.annual_revenue), max(CASE WHEN es.is_leader THEN 1 ELSE 0 END),
        sum(CASE WHEN e.above_scale THEN 1 ELSE 0 END) FROM enterprise_segments es
        JOIN enterprises e ON e.id = es.enterprise_id JOIN segments s ON s.id = es.segment_id
        WHERE s.code IN :codes AND e.deleted_at IS NULL AND {local} GROUP BY s.code""",
        _zp(ctx, codes=codes), _exp(ctx, "codes"))
    project_join = ("FROM project_segments ps JOIN projects p ON p.id = ps.project_id "
                    "JOIN segments s ON s.id = ps.segment_id WHERE s.code IN :codes AND p.deleted_at IS NULL"
                    + _zone_clause(ctx, "p.zone_id"))
    run(conn, f"SELECT s.code, count(DISTINCT p.id) {project_join} AND p.stage IN :stages GROUP BY s.code",
        _zp(ctx, codes=codes, stages=list(PARTIAL)), _exp(ctx, "codes", "stages"))
    run(conn, f"SELECT s.code, p.stage, count(DISTINCT p.id) {project_join} AND p.stage IN :stages "
              "GROUP BY s.code, p.stage", _zp(ctx, codes=own, stages=list(LEADS)), _exp(ctx, "codes", "stages"))
    run(conn, "SELECT max(es.updated_at) FROM enterprise_segments es JOIN segments s ON s.id = es.segment_id "
              "WHERE s.chain_id = :c", {"c": chain_id})
    if ctx["zones"] is None:
        run(conn, """SELECT s.code, z.id, z.name, count(e.id) FROM enterprise_segments es
            JOIN enterprises e ON e.id = es.enterprise_id JOIN segments s ON s.id = es.segment_id
            JOIN zones z ON z.id = e.zone_id WHERE s.code IN :codes AND e.deleted_at IS NULL
            GROUP BY s.code, z.id, z.name ORDER BY s.code, z.id""", {"codes": own}, ("codes",))
    return own


def floor_chain_map(conn, ctx) -> None:
    _chain_floor(conn, ctx)


def floor_chain_gaps(conn, ctx) -> None:
    _chain_floor(conn, ctx)
    gaps = ctx["gap_codes"] or [""]
    not_local = "e.zone_id IS NULL" if ctx["zones"] is None else "(e.zone_id IS NULL OR e.zone_id NOT IN :zones)"
    tags = " + ".join(f"CASE WHEN e.tags LIKE '%{t}%' THEN 1 ELSE 0 END" for t in QUALITY_TAGS)
    order = (f"CASE WHEN es.is_leader OR e.tags LIKE '%链主%' THEN 1 ELSE 0 END DESC, "
             f"CASE WHEN e.above_scale THEN 1 ELSE 0 END DESC, ({tags}) DESC, "
             "CASE WHEN e.annual_revenue IS NULL THEN 1 ELSE 0 END, e.annual_revenue DESC, "
             "CASE WHEN es.is_primary THEN 1 ELSE 0 END DESC, e.name, e.id")
    rows = run(conn, f"""SELECT e.*, r.code AS code, r.rn, r.is_leader AS leader FROM (
        SELECT es.enterprise_id, s.code AS code, es.is_leader, row_number() OVER (PARTITION BY s.code ORDER BY {order}) AS rn
        FROM enterprise_segments es JOIN enterprises e ON e.id = es.enterprise_id JOIN segments s ON s.id = es.segment_id
        WHERE s.code IN :gaps AND e.deleted_at IS NULL AND {not_local}) r
        JOIN enterprises e ON e.id = r.enterprise_id WHERE r.rn <= 5 ORDER BY r.code, r.rn""",
        _zp(ctx, gaps=gaps), _exp(ctx, "gaps"))
    ids = sorted({row.id for row in rows}) or [0]
    run(conn, f"SELECT p.enterprise_id, count(p.id) FROM projects p WHERE p.deleted_at IS NULL"
              f"{_zone_clause(ctx, 'p.zone_id')} AND p.enterprise_id IN :ids GROUP BY p.enterprise_id",
        _zp(ctx, ids=ids), _exp(ctx, "ids"))
    run(conn, f"SELECT v.enterprise_id, count(v.id), max(v.visit_date) FROM visits v WHERE v.deleted_at IS NULL"
              f"{_zone_clause(ctx, 'v.zone_id')} AND v.enterprise_id IN :ids GROUP BY v.enterprise_id",
        _zp(ctx, ids=ids), _exp(ctx, "ids"))


# --- pages ------------------------------------------------------------------------------------


@dataclass
class Page:
    key: str
    label: str
    path: str
    role: str  # chief / admin / officer
    floor: Callable
    # city/zone: a page that shows one page of rows should barely grow with the data (issue 12).
    growth_target: float = 2.0


PAGES = (
    Page("ent_filter", "企业库 · 筛选（本园区在园企业）", "/enterprises/?zone_id={zone}", "chief",
         floor_enterprise_filter, 1.5),
    Page("ent_name", "企业库 · 名称搜索", "/enterprises/?q={name_q}", "chief", floor_enterprise_name, 1.5),
    Page("ent_pinyin", "企业库 · 拼音搜索", "/enterprises/?q={pinyin_q}", "chief", floor_enterprise_pinyin, 1.5),
    Page("board", "项目看板", "/projects/board", "chief", floor_board, 1.5),
    Page("my_work", "我的工作", "/visits/my-work", "chief", floor_my_work, 1.5),
    Page("dashboard", "首页驾驶舱（园区）", "/", "chief", floor_dashboard),
    Page("dashboard_city", "首页驾驶舱（全市）", "/", "admin", floor_dashboard),
    Page("chain_map", "产业链图数据 graph.json", "/chains/{chain}/graph.json", "chief", floor_chain_map),
    Page("chain_gaps", "缺口报告", "/chains/{chain}/gaps", "chief", floor_chain_gaps),
    Page("chain_gaps_city", "缺口报告（全市）", "/chains/{chain}/gaps", "admin", floor_chain_gaps),
)


@dataclass
class Measured:
    """One page at one scale: page and floor timed in alternation (page, floor, page, floor, …)."""
    page: Page
    page_samples: list[float] = field(default_factory=list)
    floor_samples: list[float] = field(default_factory=list)
    queries: int = 0
    sql_ms: float = 0.0
    render_ms: float = 0.0
    bytes: int = 0
    error: str = ""

    @property
    def runs(self) -> int:
        return len(self.page_samples)

    @property
    def page_ms(self) -> float:
        return statistics.median(self.page_samples) if self.page_samples else float("nan")

    @property
    def floor_ms(self) -> float:
        return statistics.median(self.floor_samples) if self.floor_samples else float("nan")

    @property
    def ratio(self) -> float:
        """Median page over median floor."""
        return self.page_ms / self.floor_ms if self.floor_ms else float("nan")

    @property
    def pair_ratios(self) -> list[float]:
        """Each page run over the floor run right after it: what the machine's drift cannot skew."""
        return [p / f for p, f in zip(self.page_samples, self.floor_samples) if f]


def spread(samples: list[float]) -> dict[str, float]:
    """min, quartiles and max of ``samples`` (the quartiles of one sample are that sample)."""
    if not samples:
        return {"min": float("nan"), "q1": float("nan"), "median": float("nan"), "q3": float("nan"),
                "max": float("nan")}
    ordered = sorted(samples)
    q1, median, q3 = (statistics.quantiles(ordered, n=4, method="inclusive") if len(ordered) > 1
                      else (ordered[0],) * 3)
    return {"min": ordered[0], "q1": q1, "median": median, "q3": q3, "max": ordered[-1]}


class Probe:
    """Counts statements and SQL time on an engine, and template render time, while active."""

    def __init__(self, app, engine):
        self.app, self.engine = app, engine
        self.queries = 0
        self.sql = 0.0
        self.render = 0.0
        self._start: list[float] = []
        self._render_start: list[float] = []

    def _before(self, *args):
        self._start.append(time.perf_counter())

    def _after(self, conn, cursor, statement, *args):
        self.sql += time.perf_counter() - self._start.pop()
        if not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT")):
            self.queries += 1

    def _before_render(self, sender, **kwargs):
        self._render_start.append(time.perf_counter())

    def _rendered(self, sender, **kwargs):
        if self._render_start:
            self.render += time.perf_counter() - self._render_start.pop()

    @contextmanager
    def active(self):
        self.queries, self.sql, self.render = 0, 0.0, 0.0
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        before_render_template.connect(self._before_render, self.app)
        template_rendered.connect(self._rendered, self.app)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._before)
            event.remove(self.engine, "after_cursor_execute", self._after)
            before_render_template.disconnect(self._before_render, self.app)
            template_rendered.disconnect(self._rendered, self.app)


def _median_ms(fn, runs: int, budget_s: float, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < runs and (len(samples) < 3 or time.perf_counter() < deadline):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def interleaved_ms(page_fn, floor_fn, runs: int, budget_s: float, warmup: int = 2) -> tuple[list[float], list[float]]:
    """Time ``page_fn`` and ``floor_fn`` alternately, ``runs`` pairs after ``warmup`` pairs (at least 3 pairs
    unless fewer runs are asked for; no new pair once ``budget_s`` has passed). Alternation exposes both to
    the same moment of a shared machine, so their ratio does not drift with its load."""
    for _ in range(warmup):
        page_fn()
        floor_fn()
    pages, floors = [], []
    deadline = time.perf_counter() + budget_s
    while len(pages) < runs and (len(pages) < min(3, runs) or time.perf_counter() < deadline):
        started = time.perf_counter()
        page_fn()
        middle = time.perf_counter()
        floor_fn()
        ended = time.perf_counter()
        pages.append((middle - started) * 1000)
        floors.append((ended - middle) * 1000)
    return pages, floors


def bench_app(url: str):
    from crm import create_app

    # One pooled connection: the page and its floor run on the same one.
    return create_app("development", {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0, "pool_pre_ping": False},
        "WTF_CSRF_ENABLED": False,
    })


def signed_in_client(app, username: str):
    """A test client signed in through the real sign-in form (the session rules apply as for a person)."""
    from bench.generate import BENCH_PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise RuntimeError(f"sign-in of {username} failed: HTTP {response.status_code}")
    return client


def context(app, today: date) -> dict:
    """Who signs in and what they look at: the first zone's chief, the admin, its leading chain; ``today``:
    the data set's (``bench.generate.dataset_today``), which the floors use as the app's clock reads it."""
    from crm.extensions import db
    from crm.accounts.models import User
    from crm.accounts.zones import Zone

    with app.app_context():
        zone = db.session.scalar(select(Zone).order_by(Zone.id))
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(["admin", f"chief{zone.id}", f"officer{zone.id}_1"])))}
        chain = (zone.leading_chains or ["aluminium"])[0]
        return {
            "zone": zone.id, "chain": chain, "name_q": "铝箔", "pinyin_q": "lvbo", "today": today,
            "users": {"chief": users[f"chief{zone.id}"], "admin": users["admin"],
                      "officer": users[f"officer{zone.id}_1"]},
            "ids": {"chief": users[f"chief{zone.id}"].get_id(), "admin": users["admin"].get_id(),
                    "officer": users[f"officer{zone.id}_1"].get_id()},
            "user_pk": {role: u.id for role, u in (("chief", users[f"chief{zone.id}"]), ("admin", users["admin"]),
                                                    ("officer", users[f"officer{zone.id}_1"]))},
            "zone_of": {"chief": [zone.id], "officer": [zone.id], "admin": None},
        }


def _get(client, path: str, role: str):
    response = client.get(path)
    status = response.status_code
    redirected = response.request.path.startswith("/login")
    response.close()
    if status != 200 or redirected:
        raise RuntimeError(f"{path} as {role}: HTTP {status}{' (sent to sign in)' if redirected else ''}")
    return response


def measure_pages(url: str, today: date, runs: int = 10, budget_s: float = 12.0, only: set[str] | None = None,
                  log=print) -> list[Measured]:
    """Every page in PAGES against its floor, as of ``today`` (the clock pinned there for the whole run).
    A page or floor that fails is reported in its ``error`` and the others still run."""
    from bench.generate import pinned_clock

    with pinned_clock(today):
        return _measure_pages(url, today, runs, budget_s, only, log)


def _measure_pages(url, today, runs, budget_s, only, log) -> list[Measured]:
    from crm.extensions import db
    from crm.chains.gaps import analyse_chain

    app = bench_app(url)
    ctx = context(app, today)
    results = []
    clients = {role: signed_in_client(app, ctx["users"][role].username) for role in ("chief", "admin", "officer")}
    with app.app_context():
        engine = db.engine
        gap_codes = {}
        for role in ("chief", "admin"):
            user = db.session.get(type(ctx["users"][role]), ctx["user_pk"][role])
            report = analyse_chain(user, ctx["chain"], None)
            gap_codes[role] = [r.code for r in report.gaps]
        db.session.remove()
    probe = Probe(app, engine)
    for page in PAGES:
        if only and page.key not in only:
            continue
        path = page.path.format(**ctx)
        client = clients[page.role]
        floor_ctx = {**ctx, "zones": ctx["zone_of"][page.role], "user_id": ctx["user_pk"][page.role],
                     "gap_codes": gap_codes.get(page.role, [])}

        def floor(page=page, floor_ctx=floor_ctx):
            # Its own checkout, as each request's: the pool holds one connection, which the page needs back.
            with engine.connect() as conn:
                page.floor(conn, floor_ctx)
                conn.rollback()

        result = Measured(page)
        try:
            response = client.get(path)
            if response.status_code != 200 or response.request.path.startswith("/login"):
                raise RuntimeError(f"{path} as {page.role}: HTTP {response.status_code}")
            result.bytes = len(response.data)
            with probe.active():
                client.get(path).close()
                result.queries, result.sql_ms, result.render_ms = probe.queries, probe.sql * 1000, probe.render * 1000
            result.page_samples, result.floor_samples = interleaved_ms(
                lambda: _get(client, path, page.role), floor, runs, budget_s)
        except Exception as error:  # noqa: BLE001 - reported, and the run fails at its end
            result.error = f"{type(error).__name__}: {error}".splitlines()[0][:300]
            log(f"    {page.key:16} FAILED  {result.error}")
            results.append(result)
            continue
        pairs = spread(result.pair_ratios)
        log(f"    {page.key:16} page {result.page_ms:8.1f} ms  floor {result.floor_ms:8.1f} ms  "
            f"×{result.ratio:5.1f} (pairs {pairs['min']:.1f}–{pairs['max']:.1f}, {result.runs} runs)  "
            f"({result.queries} queries, SQL {result.sql_ms:.0f} ms, render {result.render_ms:.0f} ms, "
            f"{result.bytes / 1024:.0f} KB)")
        results.append(result)
    engine.dispose()
    return results
