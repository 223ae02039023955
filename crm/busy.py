"""A busy database is a polite "系统繁忙，请稍后重试", never a 500.

A write that meets another transaction's lock first waits: SQLite's busy timeout
(SQLITE_BUSY_TIMEOUT_MS), PostgreSQL's lock_timeout (POSTGRES_LOCK_TIMEOUT_MS). If the lock is still
held then, the request goes on in *busy mode*: it rolls back, may read but not write, and every form
refuses to validate with BUSY_MESSAGE at its top, so the page the user posted is shown again with what
they typed. A write request gets there two ways:

- on SQLite, at its BEGIN IMMEDIATE (crm/__init__.py, ``begin_writes_immediately``) before the view
  runs: the view then runs once, in busy mode;
- at a flush or the commit inside the view (PostgreSQL's lock timeout, a serialization failure or a
  deadlock; SQLite's lock errors): the view is run a second time, in busy mode (``CrmFlask``).

Whatever still tries to write in busy mode, and a lock error anywhere else (a GET that writes, a JSON
call), is answered 503 with Retry-After: the error page, or JSON for a JSON client. A redirect made in
busy mode (a form posted from another page) carries the message as a flash.
"""
from __future__ import annotations

import logging
import sqlite3

from flask import Flask, flash, g, has_app_context, jsonify, render_template, request, session
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from crm.extensions import db

BUSY_MESSAGE = "系统繁忙，请稍后重试"
RETRY_AFTER_SECONDS = 5
_FLAG = "_database_busy"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_SQLITE_LOCK_TEXTS = ("database is locked", "database table is locked", "database schema is locked")
# lock_not_available (lock_timeout), serialization_failure, deadlock_detected
_POSTGRES_LOCK_STATES = frozenset({"55P03", "40001", "40P01"})

log = logging.getLogger(__name__)


class DatabaseBusy(Exception):
    """A write attempted in busy mode: it would only wait for the lock again."""


def is_lock_error(error: BaseException) -> bool:
    """Did the database refuse because another transaction holds what this one needs?"""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in _POSTGRES_LOCK_STATES:
        return True
    return isinstance(original, sqlite3.OperationalError) and any(
        text in str(original) for text in _SQLITE_LOCK_TEXTS)


def database_busy() -> bool:
    return has_app_context() and bool(g.get(_FLAG))


def enter_busy_mode(error: BaseException) -> None:
    """Roll back what this request did so far; from now on it only reads."""
    db.session.rollback()
    g.setdefault(_FLAG, True)
    log.warning("database busy, %s %s answered %s: %s", request.method, request.path, BUSY_MESSAGE, error)


def retry_in_busy_mode(error: BaseException) -> bool:
    """Should the view that raised ``error`` run again, in busy mode, to show its form again?"""
    if database_busy() or not is_lock_error(error):
        return False
    if request.method != "POST" or request.mimetype not in _FORM_TYPES:
        return False
    enter_busy_mode(error)
    return True


def busy_answer():
    """503 with Retry-After: the error page, or JSON for a client that asked for JSON."""
    db.session.rollback()
    g.setdefault(_FLAG, True)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    if request.is_json or best == "application/json":
        return jsonify(error=BUSY_MESSAGE), 503, headers
    return render_template("error.html", code=503, message=BUSY_MESSAGE), 503, headers


@event.listens_for(Session, "before_flush")
def _no_flush_while_busy(session, flush_context, instances) -> None:
    if database_busy() and (session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)):
        raise DatabaseBusy()


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_write_while_busy(state) -> None:
    if database_busy() and (state.is_insert or state.is_update or state.is_delete):
        raise DatabaseBusy()


def _sqlite_busy_timeout(milliseconds: int):
    def on_connect(dbapi_connection, connection_record) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(milliseconds)}")

    return on_connect


def _postgres_lock_timeout(milliseconds: int):
    def on_connect(dbapi_connection, connection_record) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET inside the pool's first transaction would roll back
        try:
            dbapi_connection.execute(f"SET lock_timeout = {int(milliseconds)}")
        finally:
            dbapi_connection.autocommit = autocommit

    return on_connect


def register(app: Flask) -> None:
    """Lock timeouts on the app's engines; busy mode's answers, flash and clean-up."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_busy_timeout(app.config["SQLITE_BUSY_TIMEOUT_MS"]))
        elif engine.dialect.name == "postgresql" and app.config["POSTGRES_LOCK_TIMEOUT_MS"]:
            event.listen(engine, "connect", _postgres_lock_timeout(app.config["POSTGRES_LOCK_TIMEOUT_MS"]))

    app.register_error_handler(DatabaseBusy, lambda error: busy_answer())

    @app.errorhandler(OperationalError)
    def lock_error(error):
        if not is_lock_error(error):
            raise error  # not ours: the usual 500
        log.warning("database busy, %s %s answered 503: %s", request.method, request.path, error)
        return busy_answer()

    @app.after_request
    def busy_flash_on_redirect(response):
        if database_busy() and 300 <= response.status_code < 400:
            if not any(message == BUSY_MESSAGE for _, message in session.get("_flashes", [])):
                flash(BUSY_MESSAGE, "warning")
        return response

    @app.teardown_request
    def leave_busy_mode(error=None) -> None:
        g.pop(_FLAG, None)

    app.jinja_env.globals.update(BUSY_MESSAGE=BUSY_MESSAGE, database_busy=database_busy)
