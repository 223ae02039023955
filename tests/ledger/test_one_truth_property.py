"""Every place that shows a figure shows the same one, in any world Hypothesis builds.

A world is a zone's projects driven through the service functions: forward and back across stages,
搁置 and 重启, re-signings, 终止, funds over many months, capital increases, visits, confidential
projects. Each operation a service refuses is simply refused (the world goes on without it).

Then every figure is read from every place that shows it and compared with the one computed afresh by
``crm.ledger.figures`` from the raw facts (each project's dates, each funds entry, each increase):
- the monthly ledger workbook, for every month of the world: the 汇总 sheet (本月 and 本年累计), and
  the 汇总 against its own sheets (本月到资 total, 签约项目 rows signed in the month, their 协议投资额,
  each row's 到资率);
- the dashboard's year figures and its months;
- the project page's 到资率;
- the chain-gap report's pipeline and partial presence per segment, in the CLI's JSON and the map's
  panel, against the projects that serve each segment;
- an export → import round trip: the month's workbook imported into another zone gives the same
  projects (stage, signing date, 协议投资额) and the same year's signings and rates.
Examples it found are kept as plain regression tests in test_one_truth.py.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from crm.catalog.models import Chain, Segment
from crm.chains.gaps import ACTIVE_PROJECT_STAGES, PARTIAL_STAGES
from crm.dashboard.service import overview
from crm.imports import service as import_service
from crm.errors import ServiceError
from crm.extensions import db
from crm.ledger import figures
from crm.ledger import service as ledger
from crm.ledger.export import SUMMARY_ROWS, export_ledger
from crm.ledger.models import CapitalIncrease, FundsInPlace
from crm.pipeline.lifecycle import ACTIVE_LEAD_STAGES, MILESTONE_COLUMNS, PIPELINE_STAGES
from crm.pipeline.models import Project
from crm.pipeline.service import change_stage
from crm.visits.service import create_visit
from tests import factories as f

EXAMPLES = 25
CHAIN = "aluminium"
TODAY = date.today()
START = TODAY - timedelta(days=240)

stage_moves = st.sampled_from(PIPELINE_STAGES[1:])
operation = st.one_of(
    st.tuples(st.just("stage"), stage_moves, st.integers(0, 45), st.integers(1, 9)),
    st.tuples(st.just("aside"), st.sampled_from(["搁置", "终止"]), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("funds"), st.just(""), st.integers(0, 70), st.integers(1, 40)),
    st.tuples(st.just("increase"), st.just(""), st.integers(0, 60), st.integers(1, 20)),
    st.tuples(st.just("visit"), st.just(""), st.integers(0, 30), st.just(0)),
)
project_spec = st.tuples(st.booleans(), st.lists(operation, min_size=2, max_size=12), st.integers(0, 2))
world_spec = st.lists(project_spec, min_size=1, max_size=4)


@dataclass
class Built:
    chief: object
    zone: object
    project_ids: list[int]
    names: list[str]
    segments: dict[int, str]  # project id → the segment code it serves
    officer: object


def _segments():
    return list(db.session.scalars(select(Segment).join(Chain, Segment.chain_id == Chain.id)
                                   .where(Chain.code == CHAIN).order_by(Segment.sort_order).limit(3)))


def build(spec, n: int) -> Built:
    zone = f.make_zone(f"真一园区{n}")
    officer = f.make_user("officer", [zone], username=f"truth_officer{n}")
    chief = f.make_user("chief", [zone], username=f"truth_chief{n}")
    ids, names, on_segment = [], [], {}
    segments = _segments()
    for i, (confidential, operations, segment) in enumerate(spec):
        firm = f.make_enterprise(officer, name=f"真一测试企业{n}x{i}有限公司", uscc=f.valid_uscc(7000 + 10 * n + i))
        project = f.make_project(officer, firm, name=f"真一项目{n}x{i}", confidential=confidential,
                                 segments=[segments[segment]])
        on_segment[project.id] = segments[segment].code
        day = START
        for kind, stage, step, amount in operations:
            day = min(TODAY, day + timedelta(days=step))
            try:
                with db.session.begin_nested():
                    _apply(officer, project, kind, stage, day, Decimal(amount) * 100)
            except ServiceError:
                pass  # refused by the rules: the world goes on without it
        ids.append(project.id)
        names.append(project.name)
    db.session.flush()
    return Built(chief, zone, ids, names, on_segment, officer)


def _apply(officer, project, kind, stage, day, amount):
    if kind == "stage":
        change_stage(officer, project, stage, note="调整", on_date=day, contract_investment=amount * 10)
    elif kind == "aside":
        change_stage(officer, project, stage, note="原因")
    elif kind == "funds":
        ledger.add_funds(officer, project, day, amount)
    elif kind == "increase":
        ledger.add_capital_increase(officer, project, day, amount)
    else:
        create_visit(officer, project.enterprise, {"kind": "上门拜访", "visit_date": day, "summary": "走访"}, project)


def facts_of(project_ids) -> list[figures.ProjectFacts]:
    """The raw facts in the order of ``project_ids``, read row by row (not through the ledger's query)."""
    result = []
    for project in (db.session.get(Project, i) for i in project_ids):
        funds = db.session.scalars(select(FundsInPlace).where(FundsInPlace.project_id == project.id,
                                                              FundsInPlace.deleted_at.is_(None))).all()
        increases = db.session.scalars(select(CapitalIncrease).where(CapitalIncrease.project_id == project.id,
                                                                     CapitalIncrease.deleted_at.is_(None))).all()
        result.append(figures.ProjectFacts(
            stage=project.stage, contract_investment=project.contract_investment,
            dates={stage: getattr(project, column) for stage, column in MILESTONE_COLUMNS.items()},
            funds=tuple((e.month, e.amount) for e in funds),
            increases=tuple((e.signed_date, e.amount) for e in increases)))
    return result


def expected(facts, start, end) -> dict:
    return figures.period_figures([p.period(start, end) for p in facts], start, end).as_dict()


def months_of_world():
    months, day = [], START.replace(day=1)
    while day <= TODAY:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-6


def check_workbook(built: Built, facts, month: date) -> None:
    start, end = month, (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    out = io.BytesIO()
    export_ledger(built.chief, month.strftime("%Y-%m"), out, zone_id=built.zone.id)
    workbook = load_workbook(io.BytesIO(out.getvalue()))
    summary = {row[0].value: row for row in workbook["汇总"].iter_rows(min_row=4) if row[0].value}
    want_month = expected(facts, start, end)
    want_year = expected(facts, date(start.year, 1, 1), end)
    for label, key, _, _ in SUMMARY_ROWS:
        assert close(summary[label][1].value, want_month[key]), (month, label, "本月", summary[label][1].value, want_month[key])
        assert close(summary[label][2].value, want_year[key]), (month, label, "本年累计", summary[label][2].value, want_year[key])
    # The summary is the sum of its own sheets.
    funds_sheet = _table(workbook["本月到资"])
    assert close(sum((r["本月到资（万元）"] or 0 for r in funds_sheet), 0), summary["到资（万元）"][1].value)
    signed = [r for r in _table(workbook["签约项目"]) if start <= r["签约日期"].date() <= end]
    assert len(signed) == summary["新签约项目（个）"][1].value
    assert close(sum((r["协议投资额（万元）"] or 0 for r in signed), 0), summary["新签协议投资额（万元）"][1].value)
    facts_by_name = dict(zip(built.names, facts_of(built.project_ids)))
    for row in _table(workbook["签约项目"]):
        period = facts_by_name[row["项目名称"]].period(start, end)
        want = figures.funds_rate(period.funds_to_end, period.contract_investment, period.increases_to_end)
        assert close(row["到资率"], want), (month, row["项目名称"], row["到资率"], want)


def _table(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    headers = rows[0]
    return [dict(zip(headers, r)) for r in rows[1:] if r[0] and not str(r[0]).startswith("合计")]


def check_dashboard(built: Built, facts) -> None:
    for year in sorted({START.year, TODAY.year}):
        figures_now = overview(built.chief, year=year, zone_id=built.zone.id)
        want = expected(facts, date(year, 1, 1), date(year, 12, 31))
        assert figures_now["signed_count"] == want["signed"]
        assert close(figures_now["signed_amount"], want["signed_amount"])
        assert close(figures_now["funds"], want["funds"])
        for rate in figures_now["rates"]:
            assert close(rate["actual"], want[rate["key"]]), (year, rate["key"])
        for month in figures_now["months"]:
            start = date(year, month["month"], 1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            per_month = expected(facts, start, end)
            assert month["count"] == per_month["signed"]
            assert close(month["amount"], per_month["contract_investment"])
            assert close(month["increase"], per_month["increases"])


PERCENT = re.compile(r'data-testid="funds-rate">([^<]+)<')


def check_project_pages(client, built: Built, facts_by_id) -> None:
    for project_id in built.project_ids:
        page = client.get(f"/projects/{project_id}").get_data(as_text=True)
        match = PERCENT.search(page)
        project = facts_by_id[project_id]
        if project.dates.get("签约") is None:
            continue
        rate = figures.funds_rate(sum((a for _, a in project.funds), Decimal(0)), project.contract_investment,
                                  sum((a for _, a in project.increases), Decimal(0)))
        assert match is not None
        assert match.group(1) == ("—" if rate is None else f"{rate * 100:.1f}%")


def check_chain_report(app, client, built: Built) -> None:
    """The gap report's pipeline and partial presence per segment — in the CLI's JSON and the map's
    panel — are the projects that serve each segment, counted from the projects themselves."""
    projects = {p.id: p for p in db.session.scalars(select(Project).where(Project.id.in_(built.project_ids)))}
    result = app.test_cli_runner().invoke(args=["chains", "gaps", "--chain", CHAIN, "--zone", built.zone.name, "--json"])
    assert result.exit_code == 0, result.output
    reported = {row["code"]: row for row in json.loads(result.output)["pipeline"]}
    for code in {s.code for s in _segments()}:
        mine = [p for pid, p in projects.items() if built.segments[pid] == code]
        leads = [p for p in mine if p.stage in ACTIVE_LEAD_STAGES]
        partial = [p for p in mine if p.stage in PARTIAL_STAGES]
        row = reported.get(code, {"by_stage": {}, "partial": 0})
        assert sum(row["by_stage"].values()) == len(leads), (code, row)
        assert row["partial"] == len(partial), (code, row)
        panel = client.get(f"/chains/{CHAIN}/segments/{code}/panel.json?zone_id={built.zone.id}").get_json()
        active = {p.name for p in mine if p.stage in ACTIVE_PROJECT_STAGES}
        assert {p["name"] for p in panel["projects"]} == active, code


def check_round_trip(app, built: Built, facts, n: int) -> None:
    """The month's workbook, imported into another zone, gives the same signings, amounts and stages."""
    out = io.BytesIO()
    export_ledger(built.chief, TODAY.strftime("%Y-%m"), out, zone_id=built.zone.id)
    other = f.make_zone(f"真一导入园区{n}")
    chief = f.make_user("chief", [other], username=f"truth_import{n}")
    # The ledger's 负责人 is a name: the zone it is imported into has an officer of that name.
    f.make_user("officer", [other], username=f"truth_io{n}").display_name = built.officer.display_name
    workbook = load_workbook(io.BytesIO(out.getvalue()))
    for sheet in ("签约项目", "在谈项目"):
        if not _table(workbook[sheet]):  # only the header and the totals row: nothing to import
            continue
        table = import_service.read_table(out.getvalue(), "台账.xlsx", kind="projects", sheet=sheet,
                                          max_bytes=10 * 1024 * 1024, max_rows=50_000)
        try:
            import_service.commit_import(chief, "projects", table, None, other, "台账.xlsx")
        except import_service.ImportHasProblems as refused:
            raise AssertionError([(p.row, p.column, p.message) for p in refused.plan.problems]) from None
    db.session.flush()
    imported = db.session.scalars(select(Project).where(Project.zone_id == other.id)).all()
    original = [p for p in (db.session.get(Project, i) for i in built.project_ids) if p.stage != "终止"]
    signature = lambda ps: sorted((p.name, p.stage, p.signed_date, p.contract_investment) for p in ps)  # noqa: E731
    assert signature(imported) == signature(original)
    year = date(TODAY.year, 1, 1), TODAY
    mine = ledger.period_figures(built.chief, *year, [built.zone.id]).as_dict()
    theirs = ledger.period_figures(chief, *year, [other.id]).as_dict()
    assert close(mine["signed"], theirs["signed"]) and close(mine["contract_investment"], theirs["contract_investment"])
    # The 签约项目 sheet carries the stage but not the milestone dates, and the import takes a 搁置 row's
    # milestones as undated only along the pipeline: the rates survive the trip unless a project on hold
    # had passed a milestone after 签约 (its milestones are then lost; noted in the closing note).
    past_signing = [c for stage, c in MILESTONE_COLUMNS.items() if stage != "签约"]
    if not any(p.stage == "搁置" and any(getattr(p, c) for c in past_signing) for p in original):
        for key in ("register_rate", "start_rate", "production_rate"):
            assert close(mine[key], theirs[key]), key


def test_every_view_shows_the_same_figures(app, app_ctx, login_as):
    connection = db.engines[None]
    counter = {"examples": 0}

    # No shrinking: each example builds and reads a whole world (seconds); a failure shows its world as found.
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(spec=world_spec)
    def case(spec):
        db.session.remove()
        savepoint = connection.begin_nested()
        try:
            built = build(spec, counter["examples"])
            facts = facts_of(built.project_ids)
            for month in months_of_world():
                check_workbook(built, facts, month)
            check_dashboard(built, facts)
            client = login_as(built.chief)
            check_project_pages(client, built, dict(zip(built.project_ids, facts)))
            check_chain_report(app, client, built)
            check_round_trip(app, built, facts, counter["examples"])
        finally:
            db.session.remove()
            savepoint.rollback()
        counter["examples"] += 1

    case()
    assert counter["examples"] == EXAMPLES
