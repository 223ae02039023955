"""保密项目, place by place: the one rule (``sees_in_full`` and its SQL form) and each service and view
that lists, searches, counts or exports a project through it."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.extensions import db
from crm.permissions import (MASKED_NAME, get_scoped_or_404, in_full_condition, linked_in_full_condition,
                             masked_name, scope, sees_in_full)
from crm.pipeline.models import Project
from crm.pipeline.service import board, project_list_query, update_project
from crm.visits.models import Visit
from crm.visits.service import visit_list_query
from tests import factories as f

TODAY = date.today()


@pytest.fixture
def zone(world):
    """world plus a second officer of 甲园区 and a confidential project of officer_a's with a visit."""
    w = world
    w.officer_a2 = f.make_user("officer", [w.zone_a], username="officer_a2")
    w.chief_b_a = f.make_user("chief", [w.zone_b], username="chief_of_b")
    w.firm = f.make_enterprise(w.admin, name="保密测试科技有限公司")
    w.secret = f.make_project(w.officer_a, w.firm, name="星河保密扩产项目", planned_investment=Decimal(500),
                              confidential=True)
    w.secret_visit = f.make_visit(w.officer_a, project=w.secret, summary="星河保密洽谈")
    db.session.commit()
    return w


def test_the_rule_names_who_sees_a_confidential_project_in_full(zone):
    w = zone
    assert [sees_in_full(u, w.secret) for u in (w.officer_a, w.chief_a, w.admin)] == [True, True, True]
    assert [sees_in_full(u, w.secret) for u in (w.officer_a2, w.viewer_a)] == [False, False]
    assert not sees_in_full(w.chief_b, w.secret)  # another zone's chief does not even see the zone
    # A plain project of the zone is seen in full by everyone of the zone.
    assert all(sees_in_full(u, w.project_a) for u in (w.officer_a2, w.viewer_a, w.chief_a, w.officer_a))
    assert sees_in_full(w.viewer_a, None)  # a visit without a project hides nothing
    assert masked_name(w.officer_a2, w.secret) == MASKED_NAME
    assert masked_name(w.officer_a, w.secret) == "星河保密扩产项目"


def test_a_chief_sees_in_full_because_of_the_zone_not_the_owner(zone):
    w = zone
    update_project(w.chief_a, w.secret, {"owner_id": w.officer_a2.id})
    assert sees_in_full(w.officer_a2, w.secret) and not sees_in_full(w.officer_a, w.secret)
    assert sees_in_full(w.chief_a, w.secret)


def test_the_sql_form_agrees_with_the_rule(zone):
    w = zone
    for user in (w.officer_a, w.officer_a2, w.chief_a, w.viewer_a, w.admin, w.officer_b):
        projects = db.session.scalars(scope(select(Project), Project, user)).all()
        in_sql = set(db.session.scalars(scope(select(Project.id), Project, user).where(in_full_condition(user))))
        assert in_sql == {p.id for p in projects if sees_in_full(user, p)}, user.username
        visits = db.session.scalars(scope(select(Visit), Visit, user)).all()
        linked = set(db.session.scalars(scope(select(Visit.id), Visit, user)
                                        .where(linked_in_full_condition(user, Visit))))
        assert linked == {v.id for v in visits if sees_in_full(user, v.project)}, user.username


def test_get_scoped_or_404_answers_404_to_a_masked_reader(zone, app):
    from werkzeug.exceptions import NotFound

    w = zone
    assert get_scoped_or_404(Project, w.secret.id, w.officer_a) is w.secret
    assert get_scoped_or_404(Visit, w.secret_visit.id, w.chief_a) is w.secret_visit
    for model, record in ((Project, w.secret), (Visit, w.secret_visit)):
        with pytest.raises(NotFound):
            get_scoped_or_404(model, record.id, w.officer_a2)


def test_the_project_list_keeps_the_row_but_a_search_does_not_find_it(zone):
    w = zone
    listed = db.session.scalars(project_list_query(w.viewer_a, {})).all()
    assert w.secret in listed  # masked in the page, still listed and counted
    for q in ("星河保密", "保密测试科技"):
        assert w.secret not in db.session.scalars(project_list_query(w.viewer_a, {"q": q})).all()
        assert w.secret in db.session.scalars(project_list_query(w.chief_a, {"q": q})).all()


def test_sorting_by_name_or_amount_uses_what_the_reader_sees(zone):
    w = zone
    known = f.make_project(w.officer_a, w.firm, name="一号公开项目", planned_investment=Decimal(100))
    unknown = f.make_project(w.officer_a, w.firm, name="二号公开项目")

    def before_known(user, project, sort="-investment"):
        order = db.session.scalars(project_list_query(user, {}, sort=sort)).all()
        return order.index(project) < order.index(known)

    # To a masked reader its amount sorts as unknown (wherever the database puts unknowns), not as 500.
    assert before_known(w.officer_a2, w.secret) == before_known(w.officer_a2, unknown)
    assert before_known(w.officer_a2, w.secret, "investment") == before_known(w.officer_a2, unknown, "investment")
    assert before_known(w.officer_a, w.secret) and not before_known(w.officer_a, w.secret, "investment")
    # By name, it sorts as "保密项目" would (in the database's own collation), not by its real name.
    masked_order = [p.id for p in db.session.scalars(project_list_query(w.officer_a2, {}, sort="name"))]
    update_project(w.officer_a, w.secret, {"name": MASKED_NAME})
    assert masked_order == [p.id for p in db.session.scalars(project_list_query(w.chief_a, {}, sort="name"))]


def test_the_board_counts_and_lists_it(zone):
    column = next(c for c in board(zone.viewer_a, {}) if c["stage"] == "线索")
    assert zone.secret in column["projects"] and column["count"] == len(column["projects"])


def test_visit_searches_and_filters_never_reach_a_masked_visit(zone):
    w = zone
    assert w.secret_visit in db.session.scalars(visit_list_query(w.officer_a2, {})).all()
    for filters in ({"q": "星河保密"}, {"q": "保密测试科技"}, {"enterprise_id": w.firm.id},
                    {"project_id": w.secret.id}):
        assert w.secret_visit not in db.session.scalars(visit_list_query(w.officer_a2, filters)).all(), filters
        assert w.secret_visit in db.session.scalars(visit_list_query(w.officer_a, filters)).all(), filters


def test_my_work_lists_a_masked_next_step_without_its_text(zone, client, login_as):
    w = zone
    f.make_visit(w.officer_a2, project=w.secret, summary="星河保密回访", next_step="星河保密待办", next_step_due=TODAY)
    db.session.commit()
    login_as(w.officer_a2)
    page = client.get("/visits/my-work").get_data(as_text=True)
    assert "保密项目的下一步" in page and "星河保密待办" not in page and "保密测试科技" not in page


def test_the_enterprise_page_leaves_a_masked_project_out(zone, client, login_as):
    w = zone
    login_as(w.viewer_a)
    page = client.get(f"/enterprises/{w.firm.id}").get_data(as_text=True)
    assert "星河保密扩产项目" not in page and MASKED_NAME not in page and "星河保密洽谈" not in page
    login_as(w.chief_a)
    page = client.get(f"/enterprises/{w.firm.id}").get_data(as_text=True)
    assert "星河保密扩产项目" in page and "星河保密洽谈" in page


def test_the_dashboard_overdue_list_masks_it_and_keeps_the_count(zone, client, login_as):
    from datetime import timedelta

    from crm.dashboard.service import overview
    from crm.ledger.service import update_commitments
    from crm.pipeline.service import change_stage

    w = zone
    change_stage(w.officer_a, w.secret, "签约", contract_investment=Decimal(800), on_date=TODAY - timedelta(days=40))
    update_commitments(w.officer_a, w.secret, {"due_registered": TODAY - timedelta(days=5)})
    db.session.commit()
    assert overview(w.viewer_a)["overdue"] == overview(w.chief_a)["overdue"] == [w.secret]
    login_as(w.viewer_a)
    page = client.get("/").get_data(as_text=True)
    assert MASKED_NAME in page and "星河保密扩产项目" not in page
    login_as(w.chief_a)
    assert "星河保密扩产项目" in client.get("/").get_data(as_text=True)


def test_the_ledger_wrapper_hides_cells_not_values(zone):
    from crm.inputs import month_bounds
    from crm.ledger.export import NEGOTIATION_COLUMNS, LedgerQueries, masked, shown

    w = zone

    def secret_row(user):
        start, end = month_bounds(TODAY.strftime("%Y-%m"))
        rows = db.session.execute(LedgerQueries(user, start, end, [w.zone_a.id]).negotiations()).all()
        return next(r for r in rows if r.id == w.secret.id)

    columns = masked(NEGOTIATION_COLUMNS)
    values, cells = shown(columns, secret_row(w.viewer_a))
    cells = dict(zip((c.header for c in columns), cells))
    assert cells["项目名称"] == MASKED_NAME
    assert cells["企业名称"] is None and cells["统一社会信用代码"] is None and cells["计划投资额（万元）"] is None
    assert (cells["园区"], cells["阶段"], cells["负责人"]) == ("甲园区", "线索", w.officer_a.display_name)
    # The column's own value (what the totals add) is untouched.
    assert dict(zip((c.header for c in columns), values))["计划投资额（万元）"] == Decimal(500)
    _, full = shown(columns, secret_row(w.chief_a))
    assert dict(zip((c.header for c in columns), full))["项目名称"] == "星河保密扩产项目"


def test_the_ledger_total_includes_the_masked_amount(zone):
    from crm.ledger.export import export_ledger

    w = zone
    update_project(w.officer_a, w.project_a, {"planned_investment": Decimal(1000)})
    out = io.BytesIO()
    export_ledger(w.viewer_a, TODAY.strftime("%Y-%m"), out)
    sheet = load_workbook(io.BytesIO(out.getvalue()))["在谈项目"]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    header = rows[2]
    amounts = [r[header.index("计划投资额（万元）")] for r in rows[3:-1]]
    assert sorted(amounts, key=lambda a: a or 0) == [None, 1000]
    assert rows[-1][header.index("计划投资额（万元）")] == 1500
    assert MASKED_NAME in [r[header.index("项目名称")] for r in rows[3:-1]]


def test_gap_targets_leave_masked_work_out_of_a_firms_counts(zone):
    from crm.catalog.models import Chain, Segment
    from crm.chains.gaps import pipeline_for, targets_for
    from crm.library.segments import set_enterprise_segments

    w = zone
    segment = db.session.scalars(select(Segment).join(Chain, Segment.chain_id == Chain.id)
                                 .where(Chain.code == "aluminium").order_by(Segment.sort_order)).first()
    set_enterprise_segments(w.admin, w.firm, [segment.id], [segment.id], [])
    update_project(w.officer_a, w.secret, {"segments": [segment]})
    db.session.commit()

    def firm_counts(user):
        target = next(t for t in targets_for(user, segment.code, [w.zone_a.id], limit=50) if t.enterprise_id == w.firm.id)
        return target.projects, target.visits

    assert firm_counts(w.chief_a) == (1, 1)
    assert firm_counts(w.viewer_a) == (0, 0)  # a count per firm would name the firm
    # The segment's pipeline counts it for everyone.
    assert pipeline_for([segment.code], [w.zone_a.id], user=w.viewer_a).total(segment.code) == \
        pipeline_for([segment.code], [w.zone_a.id], user=w.chief_a).total(segment.code) == 1


def test_an_import_does_not_match_a_masked_project(zone):
    from tests.imports.conftest import plan_for

    w = zone
    rows = [["项目名称", "企业名称", "阶段"], ["星河保密扩产项目", "保密测试科技有限公司", "线索"]]
    assert [a.action for a in plan_for(w.chief_a, "projects", rows, w.zone_a).actions] == ["unchanged"]
    masked_plan = plan_for(w.officer_a2, "projects", rows, w.zone_a)
    assert [a.action for a in masked_plan.actions] == ["create"]  # for them it is not there to update
    assert all(a.target_id != w.secret.id for a in masked_plan.actions)
