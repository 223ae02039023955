"""Several processes saving the same records at once, through the HTTP layer, on SQLite and PostgreSQL.

Each worker process (spawn) has its own app, engine and test clients signed in through the real
sign-in form. The database is built here by the Alembic migrations — not the shared test fixture —
in a SQLite file in tmp_path (WAL, busy timeout) and, when TEST_DATABASE_URL names a PostgreSQL
server, in a database of its own (``test_concurrency``), created and dropped by the fixture.

What must hold: of several saves of the same stale version exactly one wins and the others are
told "已被他人修改" (never a 500, never "database is locked"); concurrent creates all succeed;
a form submitted twice at once makes one record.
"""
from __future__ import annotations

import multiprocessing
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.concurrency import workers
from tests.concurrency.databases import backends, scratch_database

pytestmark = pytest.mark.no_db

WORKERS = 4
PASSWORD = "correct-horse-42"


BACKENDS = backends("concurrency")


@pytest.fixture(params=BACKENDS, scope="module")
def database(request, tmp_path_factory):
    yield from scratch_database(request.param, tmp_path_factory, "concurrency")


@pytest.fixture(scope="module")
def world(database):
    """The schema by migration, one zone with the officer who owns its project and visit and three chiefs
    (those who, with the owner, may change them: README "Who may do what"), and an enterprise."""
    from flask_migrate import upgrade

    from crm import create_app
    from crm.audit.log import acting_as
    from crm.extensions import db
    from tests import factories as f

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        upgrade()
        with acting_as(db.session, None):
            zone = f.make_zone("并发园区")
            officers = [f.make_user("officer" if i == 0 else "chief", [zone], username=f"racer{i}")
                        for i in range(WORKERS)]
            enterprise = f.make_enterprise(officers[0], name="并发测试铝业有限公司")
            project = f.make_project(officers[0], enterprise, name="并发测试项目")
            visit = f.make_visit(officers[0], project=project, summary="并发测试走访")
        db.session.commit()
        ids = {"project": project.id, "visit": visit.id, "enterprise": enterprise.id,
               "users": [o.username for o in officers]}
        db.session.remove()
        db.engine.dispose()
    ids["app"] = app
    return ids


@pytest.fixture(scope="module")
def pool(database, world):
    """WORKERS processes, each ready to post as any of the officers."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    queues = [context.Queue() for _ in range(WORKERS)]
    processes = [context.Process(target=workers.run, args=(database, PASSWORD, queues[i], results, barrier),
                                 daemon=True) for i in range(WORKERS)]
    for process in processes:
        process.start()
    for _ in processes:
        message = results.get(timeout=60)
        assert "error" not in message, message.get("error")

    def race(commands: list[dict]) -> list[dict]:
        for queue, command in zip(queues, commands):
            queue.put(command)
        answers = [results.get(timeout=60) for _ in commands]
        errors = [a["error"] for a in answers if "error" in a]
        assert not errors, errors[0]
        return answers

    yield race
    for queue in queues:
        queue.put(None)
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def _query(world, stmt):
    from crm.extensions import db

    with world["app"].app_context():
        try:
            return db.session.execute(stmt).all()
        finally:
            db.session.remove()
            db.engine.dispose()


def _xfail_without_stale_handler(world, database):
    """On PostgreSQL two requests can both read version N; the second UPDATE then matches no row
    and SQLAlchemy raises StaleDataError at flush. Until the app turns that into the stale-edit
    answer (see bench/RESULTS.md, "recommended changes"), the race is a known 500 there."""
    from sqlalchemy.orm.exc import StaleDataError

    if not database.startswith("postgresql"):
        return
    app = world["app"]
    if app._find_error_handler(StaleDataError("probe"), []) is None:
        pytest.xfail("PostgreSQL: StaleDataError from a concurrent save is not handled yet (500)")


def _all_outcomes(answers):
    return [outcome for answer in answers for outcome in answer["outcomes"]]


def _assert_no_server_error(outcomes):
    assert not [o for o in outcomes if o["status"] >= 500], outcomes
    assert not [o for o in outcomes if o["locked"]], outcomes


def _version(world, model, record_id):
    return _query(world, select(model.version, model.__table__.c.get("name", model.__table__.c.id))
                  .where(model.id == record_id))[0]


def test_same_project_saved_at_once_one_wins_others_told(world, pool, database):
    from crm.pipeline.models import Project

    _xfail_without_stale_handler(world, database)
    version, _ = _version(world, Project, world["project"])
    answers = pool([
        {"user": user, "path": f"/projects/{world['project']}/edit", "sync": True, "delay": 0.5,
         "posts": [{"name": f"并发测试项目（{user} 保存）", "source": "其他", "priority": "中",
                    "version": str(version)}]}
        for user in world["users"]
    ])
    outcomes = _all_outcomes(answers)
    _assert_no_server_error(outcomes)
    winners = [o for o in outcomes if o["status"] in (302, 303) and not o["stale"]]
    assert len(winners) == 1, outcomes
    assert all(o["stale"] for o in outcomes if o is not winners[0]), outcomes
    new_version, name = _version(world, Project, world["project"])
    assert new_version == version + 1
    winner = next(a["user"] for a in answers if a["outcomes"][0]["status"] in (302, 303) and not a["outcomes"][0]["stale"])
    assert name == f"并发测试项目（{winner} 保存）"


def test_same_visit_saved_at_once_one_wins_others_told(world, pool, database):
    from crm.visits.models import Visit

    _xfail_without_stale_handler(world, database)
    version = _query(world, select(Visit.version).where(Visit.id == world["visit"]))[0][0]
    answers = pool([
        {"user": user, "path": f"/visits/{world['visit']}/edit", "sync": True, "delay": 0.5,
         "posts": [{"kind": "电话", "visit_date": date.today().isoformat(), "summary": f"{user} 的记录",
                    "version": str(version)}]}
        for user in world["users"]
    ])
    outcomes = _all_outcomes(answers)
    _assert_no_server_error(outcomes)
    assert sum(1 for o in outcomes if o["status"] in (302, 303) and not o["stale"]) == 1, outcomes
    assert sum(1 for o in outcomes if o["stale"]) == WORKERS - 1, outcomes
    assert _query(world, select(Visit.version).where(Visit.id == world["visit"]))[0][0] == version + 1


def test_concurrent_creates_all_succeed(world, pool):
    from crm.visits.models import Visit

    per_worker = 5
    before = _query(world, select(func.count()).select_from(Visit))[0][0]
    answers = pool([
        {"user": user, "path": f"/visits/new?enterprise_id={world['enterprise']}", "sync": True,
         "posts": [{"kind": "上门拜访", "visit_date": date.today().isoformat(), "summary": f"{user} 第 {n} 次走访",
                    "project_id": "0", "submission_token": uuid.uuid4().hex} for n in range(per_worker)]}
        for user in world["users"]
    ])
    outcomes = _all_outcomes(answers)
    _assert_no_server_error(outcomes)
    assert all(o["status"] == 302 and "/visits/" in o["location"] for o in outcomes), outcomes
    after = _query(world, select(func.count()).select_from(Visit))[0][0]
    assert after - before == WORKERS * per_worker


@pytest.mark.parametrize("kind", ["visit", "project"])
def test_double_submit_race_makes_one_record(world, pool, kind):
    from crm.pipeline.models import Project
    from crm.visits.models import Visit

    model = Visit if kind == "visit" else Project
    token = uuid.uuid4().hex
    user = world["users"][0]
    if kind == "visit":
        path = f"/visits/new?enterprise_id={world['enterprise']}"
        data = {"kind": "上门拜访", "visit_date": date.today().isoformat(), "summary": "重复提交的走访",
                "project_id": "0", "submission_token": token}
    else:
        path = f"/projects/new?enterprise_id={world['enterprise']}"
        data = {"name": f"重复提交的项目 {token[:6]}", "source": "其他", "priority": "中", "submission_token": token}
    before = _query(world, select(func.count()).select_from(model))[0][0]
    # The same user's one form, sent by every process at the same moment.
    answers = pool([{"user": user, "path": path, "sync": True, "posts": [data]} for _ in range(WORKERS)])
    outcomes = _all_outcomes(answers)
    _assert_no_server_error(outcomes)
    assert all(o["status"] == 302 for o in outcomes), outcomes
    assert len({o["location"] for o in outcomes}) == 1, outcomes  # everyone lands on the one record
    after = _query(world, select(func.count()).select_from(model))[0][0]
    assert after - before == 1
