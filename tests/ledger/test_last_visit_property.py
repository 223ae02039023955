"""The projects' last visit, a summary kept with the visits, equals the figure computed afresh.

Hypothesis builds a zone's leads (registered some days ago) and drives their visits through every way
a visit changes: logged through the service (for a lead or for no project), re-dated, deleted, restored
from the trash, imported from a ledger, and the import reverted. After each step ``Project.last_visit_at``
— read afresh from the database and from the project already loaded in the session — equals the latest
date of its visits that are not deleted, computed here in Python from the visits themselves; and the
dashboard's 长期未跟进 count and 我的工作's stale leads equal those computed from that figure with
``idle_days`` and the zone's threshold (the rule the summary replaced).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm import records
from crm.admin import trash
from crm.dashboard.my_work import idle_days, stale_leads
from crm.dashboard.service import overview
from crm.errors import ServiceError
from crm.extensions import db
from crm.imports import service as import_service
from crm.pipeline.models import Project
from crm.visits.models import Visit
from crm.visits.service import create_visit, update_visit
from tests import factories as f
from tests.imports.builders import xlsx

EXAMPLES = 20
TODAY = date.today()
LEADS = 3
HEADER = ["企业名称", "统一社会信用代码", "项目名称", "走访日期", "走访方式", "带队领导", "洽谈内容", "成果", "下一步工作",
          "完成时限", "跟进人"]

day = st.integers(0, 90)  # days before today
operation = st.one_of(
    st.tuples(st.just("add"), st.integers(0, LEADS), day),  # LEADS: a visit of the firm, no project
    st.tuples(st.just("edit"), st.integers(0, 30), day),
    st.tuples(st.just("delete"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("restore"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("import"), st.integers(0, LEADS - 1), day),
    st.tuples(st.just("revert"), st.just(0), st.just(0)),
)
world_spec = st.tuples(st.lists(st.integers(0, 90), min_size=LEADS, max_size=LEADS),
                       st.lists(operation, min_size=1, max_size=14))


def build(registered_days_ago, n):
    zone = f.make_zone(f"走访汇总园区{n}")
    officer = f.make_user("officer", [zone], username=f"lv_officer{n}")
    admin = f.make_user("admin", [], username=f"lv_admin{n}")
    projects = []
    for i, ago in enumerate(registered_days_ago):
        firm = f.make_enterprise(officer, name=f"走访汇总企业{n}x{i}有限公司", uscc=f.valid_uscc(8100 + 10 * n + i))
        project = f.make_project(officer, firm, name=f"走访汇总项目{n}x{i}")
        project.created_at = datetime.now(UTC) - timedelta(days=ago)
        projects.append(project)
    db.session.flush()
    return zone, officer, admin, projects


def apply(op, zone, officer, admin, projects, batches):
    kind, which, ago = op
    visits = db.session.scalars(select(Visit).where(Visit.zone_id == zone.id).order_by(Visit.id)).all()
    when = TODAY - timedelta(days=ago)
    if kind == "add":
        project = projects[which] if which < len(projects) else None
        firm = (project or projects[0]).enterprise
        create_visit(officer, firm, {"kind": "电话", "visit_date": when, "summary": "跟进"}, project)
    elif kind == "edit" and visits:
        visit = visits[which % len(visits)]
        update_visit(officer, visit, {"visit_date": when}, version=visit.version)
    elif kind == "delete" and visits:
        records.soft_delete(officer, visits[which % len(visits)])
    elif kind == "restore":
        deleted = [v for v in visits if v.deleted_at is not None]
        if deleted:
            trash.restore(admin, "visit", deleted[which % len(deleted)])
    elif kind == "import":
        project = projects[which]
        rows = [HEADER, [project.enterprise.name, None, project.name, when.isoformat(), "电话", None,
                         f"导入的走访{len(batches)}", None, None, None, None]]
        table = import_service.read_table(xlsx(rows), "走访.xlsx", kind="visits", max_bytes=10 * 1024 * 1024,
                                          max_rows=1000)
        batches.append(import_service.commit_import(officer, "visits", table, None, zone, "走访.xlsx"))
    elif kind == "revert" and batches:
        import_service.revert_batch(admin, batches.pop())


def check(zone, officer, projects) -> None:
    visits = db.session.execute(select(Visit.project_id, Visit.visit_date).where(
        Visit.zone_id == zone.id, Visit.deleted_at.is_(None))).all()
    afresh = {p.id: max((d for pid, d in visits if pid == p.id), default=None) for p in projects}
    stored = dict(db.session.execute(select(Project.id, Project.last_visit_at)
                                     .where(Project.id.in_(afresh)).execution_options(populate_existing=False)).all())
    assert stored == afresh
    assert {p.id: p.last_visit_at for p in projects} == afresh  # the loaded projects see it too
    threshold = zone.stale_lead_days
    stale = sorted((p for p in projects if idle_days(p.created_at, afresh[p.id], TODAY) >= threshold),
                   key=lambda p: (afresh[p.id] is not None, afresh[p.id] or TODAY, p.id))
    assert [row["project"].id for row in stale_leads(officer, TODAY)] == [p.id for p in stale]
    assert overview(officer, zone_id=zone.id, today=TODAY)["stale_count"] == len(stale)


def test_last_visit_summary_equals_the_figure_afresh(app, app_ctx):
    connection = db.engines[None]
    counter = {"examples": 0}

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(spec=world_spec)
    def case(spec):
        registered, operations = spec
        db.session.remove()
        savepoint = connection.begin_nested()
        try:
            n = counter["examples"]
            zone, officer, admin, projects = build(registered, n)
            batches = []
            check(zone, officer, projects)
            for op in operations:
                try:
                    with db.session.begin_nested():
                        apply(op, zone, officer, admin, projects, batches)
                except (ServiceError, import_service.ImportHasProblems, import_service.ImportFailed):
                    pass  # refused by the rules (a revert after later visits, a duplicate import row)
                check(zone, officer, projects)
        finally:
            db.session.remove()
            savepoint.rollback()
        counter["examples"] += 1

    case()
    assert counter["examples"] == EXAMPLES
