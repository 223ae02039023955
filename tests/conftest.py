"""Fixtures: one schema per run (built by the Alembic migrations), one rolled-back transaction per test."""
from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text

from crm import create_app
from crm.audit.log import acting_as
from crm.extensions import db


def _reset_database(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url):
    _reset_database(database_url)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        from chains.definitions import load_all
        from crm.catalog.service import sync_chains

        with acting_as(db.session, None):
            sync_chains(load_all())
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()  # close pooled connections before the interpreter does, noisily


@pytest.fixture(autouse=True)
def _transaction(request, app) -> Iterator[None]:
    """Every test runs inside a transaction that is rolled back; commits become savepoints."""
    if "no_db" in request.keywords:
        yield
        return
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, `g` and session, as in production.

    Tests hold an app context open; without this, requests would reuse it and share `g`, so
    Flask-Login's cached user would leak from one request to the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run inside the block: `with count_queries() as counter: ...`."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                statements.append(statement)

        engine = db.engines[None].engine if hasattr(db.engines[None], "engine") else db.engines[None]
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


class World:
    """Two zones, A and B, each with its staff and a project and visit; plus a city admin."""

    def __init__(self):
        from tests import factories as f

        self.zone_a = f.make_zone("甲园区")
        self.zone_b = f.make_zone("乙园区")
        self.admin = f.make_user("admin", username="admin_t")
        self.officer_a = f.make_user("officer", [self.zone_a], username="officer_a")
        self.chief_a = f.make_user("chief", [self.zone_a], username="chief_a")
        self.viewer_a = f.make_user("viewer", [self.zone_a], username="viewer_a")
        self.officer_b = f.make_user("officer", [self.zone_b], username="officer_b")
        self.chief_b = f.make_user("chief", [self.zone_b], username="chief_b")
        self.enterprise = f.make_enterprise(self.admin, name="江苏宏达铝业有限公司", uscc=f.valid_uscc(1))
        self.project_a = f.make_project(self.officer_a, self.enterprise, name="宏达铝材甲园项目")
        self.project_b = f.make_project(self.officer_b, self.enterprise, name="宏达铝材乙园机密项目")
        self.visit_a = f.make_visit(self.officer_a, project=self.project_a, summary="甲园走访")
        self.visit_b = f.make_visit(self.officer_b, project=self.project_b, summary="乙园机密洽谈")
        db.session.commit()


@pytest.fixture
def world(app_ctx) -> World:
    return World()


@pytest.fixture
def login_as(client):
    """Sign a user in by session (the sign-in form itself is tested in test_auth)."""

    def login(user):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return login
