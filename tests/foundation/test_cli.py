"""The command-line tools an operator runs: chain loading, the first admin, the demo city."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import delete, func, select
from stdnum.cn import uscc
from werkzeug.security import check_password_hash

from crm.extensions import db
from crm.audit.models import AuditEntry
from crm.library.models import Enterprise
from crm.pipeline.models import Project, StageEvent
from crm.catalog.models import Segment, SegmentLink
from crm.accounts.models import User
from crm.visits.models import Visit
from crm.accounts.zones import Zone
from crm.pipeline.models import PIPELINE_STAGES, STAGES
from tests import factories as f

CHANGES = re.compile(r"changed (\d+) chains, (\d+) segments, (\d+) new links")


@pytest.fixture
def runner(app, app_ctx):
    return app.test_cli_runner()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _changes(result) -> tuple[int, int, int]:
    assert result.exit_code == 0, result.output
    match = CHANGES.search(result.output)
    assert match, result.output
    return tuple(int(n) for n in match.groups())


def test_chains_load_repairs_drift_then_changes_nothing(runner):
    segment = db.session.scalars(select(Segment).order_by(Segment.code)).first()
    real_name = segment.name
    segment.name = "被人改坏的名字"
    link = db.session.scalars(select(SegmentLink).order_by(SegmentLink.id)).first()
    pair = (link.from_segment_id, link.to_segment_id)
    db.session.execute(delete(SegmentLink).where(SegmentLink.id == link.id))
    db.session.commit()
    links = _count(SegmentLink)

    assert _changes(runner.invoke(args=["chains", "load"])) == (0, 1, 1)
    db.session.expire_all()
    assert segment.name == real_name
    assert _count(SegmentLink) == links + 1
    assert db.session.scalar(select(SegmentLink.id).where(
        SegmentLink.from_segment_id == pair[0], SegmentLink.to_segment_id == pair[1]))

    audit = _count(AuditEntry)
    assert _changes(runner.invoke(args=["chains", "load"])) == (0, 0, 0)
    assert _count(SegmentLink) == links + 1
    assert _count(AuditEntry) == audit  # a load that changes nothing writes nothing


def test_chains_load_reports_a_broken_file_and_loads_nothing(runner, tmp_path):
    (tmp_path / "broken.yaml").write_text("code: Broken Code\nname: 坏\nsegments: []\n", encoding="utf-8")
    segments = _count(Segment)
    result = runner.invoke(args=["chains", "load", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output
    assert _count(Segment) == segments


def test_create_admin_makes_an_admin_who_can_sign_in(runner, client):
    result = runner.invoke(args=["create-admin", "--username", "cityadmin", "--password", "Zq7-long-pass"])
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.username == "cityadmin"))
    assert admin.role == "admin" and admin.active and admin.zones == []
    assert check_password_hash(admin.password_hash, "Zq7-long-pass")
    assert "Zq7-long-pass" not in admin.password_hash
    response = client.post("/login", data={"username": "cityadmin", "password": "Zq7-long-pass"})
    assert response.headers["Location"] == "/"


def test_create_admin_twice_fails_with_a_clear_message(runner):
    assert runner.invoke(args=["create-admin", "--username", "cityadmin", "--password", "Zq7-long-pass"]).exit_code == 0
    result = runner.invoke(args=["create-admin", "--username", "cityadmin", "--password", "another-pass-12"])
    assert result.exit_code != 0
    assert "cityadmin" in result.output and "已存在" in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "cityadmin")) == 1


def test_create_admin_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-admin", "--username", "cityadmin", "--password", "short"])
    assert result.exit_code != 0 and "密码" in result.output
    assert db.session.scalar(select(User).where(User.username == "cityadmin")) is None


def test_create_admin_reads_the_password_from_the_environment(runner):
    result = runner.invoke(args=["create-admin", "--username", "envadmin"],
                           env={"LIANZHAO_ADMIN_PASSWORD": "from-the-env-42"})
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.username == "envadmin"))
    assert check_password_hash(admin.password_hash, "from-the-env-42")


def test_load_demo_refuses_a_database_that_already_has_zones(runner):
    f.make_zone("已有园区")
    db.session.commit()
    users = _count(User)
    result = runner.invoke(args=["load-demo"])
    assert result.exit_code != 0
    assert "already holds zones" in result.output
    assert _count(Zone) == 1 and _count(User) == users


# --- the demo city --------------------------------------------------------------------------------


@pytest.fixture
def demo(app_ctx):
    from crm.demo import load_demo

    counts = load_demo()
    db.session.flush()
    return counts


def test_demo_has_the_promised_size(demo):
    assert _count(Zone) == 3
    assert _count(User) == 10
    assert _count(Enterprise) == 300
    assert _count(Project) == 80
    assert _count(Visit) == 300
    assert demo == {"zones": 3, "users": 10, "enterprises": 300, "projects": 80, "visits": 300}


def test_demo_users_cover_every_role_and_sign_in_with_the_demo_password(demo, client):
    from crm.demo import DEMO_PASSWORD

    users = db.session.scalars(select(User)).all()
    assert {u.role for u in users} == {"admin", "chief", "officer", "viewer"}
    assert all(u.role == "admin" or u.zones for u in users)
    assert all(len(u.zones) == 1 for u in users if u.role in {"officer", "chief"})
    response = client.post("/login", data={"username": "officer1", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/"


def test_every_demo_enterprise_has_a_valid_unique_credit_code(demo):
    codes = db.session.scalars(select(Enterprise.uscc)).all()
    assert len(codes) == 300
    invalid = [code for code in codes if not uscc.is_valid(code or "")]
    assert invalid == []
    assert len(set(codes)) == 300


def test_demo_projects_cover_all_eleven_stages(demo):
    stages = Counter(db.session.scalars(select(Project.stage)).all())
    assert set(stages) == set(STAGES) and len(STAGES) == 11


def test_demo_stage_histories_are_consistent(demo):
    projects = db.session.scalars(select(Project)).all()
    events = db.session.scalars(select(StageEvent).order_by(StageEvent.project_id, StageEvent.id)).all()
    by_project: dict[int, list[StageEvent]] = {}
    for event in events:
        by_project.setdefault(event.project_id, []).append(event)
    for project in projects:
        path = by_project[project.id]
        assert path[0].from_stage is None and path[0].to_stage == "线索", project
        for previous, event in zip(path, path[1:]):
            assert event.from_stage == previous.to_stage, (project, event.from_stage, previous.to_stage)
            assert event.at >= previous.at
        assert path[-1].to_stage == project.stage, project
        if project.stage in {"搁置", "终止"}:
            assert project.stage_reason and path[-1].note == project.stage_reason


def test_demo_signed_projects_obey_the_milestone_rules(demo):
    """What change_stage would insist on: a signed project has its contract and dates in order."""
    signed = db.session.scalars(select(Project).where(Project.stage.in_(PIPELINE_STAGES[4:]))).all()
    assert signed
    for project in signed:
        assert project.contract_investment and project.contract_investment > 0
        dates = [project.signed_date, project.registered_date, project.started_date,
                 project.production_date, project.full_production_date]
        reached = dates[: PIPELINE_STAGES.index(project.stage) - 3]
        assert all(reached) and reached == sorted(reached) and reached[-1] <= date.today(), project
        assert not any(dates[len(reached):]), project


def test_demo_visits_obey_the_visit_rules(demo):
    today = date.today()
    for visit in db.session.scalars(select(Visit)).all():
        assert visit.visit_date <= today
        if visit.next_step_due:
            assert visit.next_step and visit.next_step_due >= visit.visit_date
        if visit.project is not None:
            assert visit.zone_id == visit.project.zone_id and visit.enterprise_id == visit.project.enterprise_id
        assert visit.zone_id in visit.officer.zone_ids


def test_demo_changes_are_audited_with_a_real_entity_id(demo):
    project = db.session.scalars(select(Project)).first()
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.entity_type == "Project", AuditEntry.entity_id == str(project.id)))
    assert entry is not None and entry.action == "create" and entry.zone_id == project.zone_id


def test_refresh_summaries_rebuilds_what_a_bulk_load_left_out(runner):
    """Rows written around the ORM (as the bench generator's bulk load) have no summaries; the command
    recomputes them from the facts."""
    from datetime import timedelta

    from sqlalchemy import update

    from crm.library.models import EnterpriseSearchGram
    from crm.library.service import enterprise_list_query

    zone = f.make_zone("汇总重算园区")
    officer = f.make_user("officer", [zone], username="refresh_officer")
    firm = f.make_enterprise(officer, name="汇总重算铝箔有限公司")
    project = f.make_project(officer, firm)
    day = date.today() - timedelta(days=3)
    f.make_visit(officer, firm, project, visit_date=day)
    db.session.execute(update(Project).values(last_visit_at=None))
    db.session.execute(delete(EnterpriseSearchGram))
    found = lambda: db.session.scalars(enterprise_list_query({"q": "重算"}).with_only_columns(Enterprise.id)).all()  # noqa: E731
    assert found() == []
    result = runner.invoke(args=["refresh-summaries"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Project.last_visit_at).where(Project.id == project.id)) == day
    assert found() == [firm.id]
