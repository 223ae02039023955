"""链招 lianzhao: the investment-attraction CRM. ``create_app`` builds the Flask application."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from config import BASE_DIR, CONFIGS, INSTANCE_DIR
from crm import busy
from crm.extensions import csrf, db, login_manager, migrate
from crm.security import register_security_headers
from crm.errors import StaleEdit

# Only the ledger upload may send a large body; every other form is held to MAX_FORM_MEMORY_SIZE.
UPLOAD_ENDPOINTS = {"imports.index"}


class CrmRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        config = current_app.config
        return config["MAX_CONTENT_LENGTH"] if self.endpoint in UPLOAD_ENDPOINTS else config["MAX_FORM_MEMORY_SIZE"]


class CrmFlask(Flask):
    def dispatch_request(self):
        """The view; if its writes met a lock that did not clear in time, the view again in busy mode
        (crm/busy.py), which shows the posted form again with "系统繁忙，请稍后重试"."""
        flashes = list(session.get("_flashes", [])) if request.method == "POST" else []
        try:
            return super().dispatch_request()
        except OperationalError as error:
            if not busy.retry_in_busy_mode(error):
                raise
        if flashes:
            session["_flashes"] = flashes  # what the failed attempt flashed was not done
        else:
            session.pop("_flashes", None)
        return super().dispatch_request()


PUBLIC_ENDPOINTS = {"auth.login", "auth.two_factor", "static", "main.healthz", "api-docs.openapi_json"}
# Blueprints that authenticate each request themselves (bearer tokens), never by the session cookie.
TOKEN_BLUEPRINTS = {"api"}


def create_app(config_name: str = "development", overrides: dict[str, Any] | None = None) -> Flask:
    app = CrmFlask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.request_class = CrmRequest
    config_class = CONFIGS[config_name]
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    config_class.complete(app.config, INSTANCE_DIR)
    config_class.validate(app.config)
    INSTANCE_DIR.mkdir(exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_errorhandlers(app)
    busy.register(app)  # lock timeouts; a busy database answers "系统繁忙，请稍后重试"
    register_security_headers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    import crm.audit.log  # noqa: F401 - installs the audit listener
    import crm.model_registry  # noqa: F401 - one metadata for the app and Alembic

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"

    from crm.accounts.service import load_user_from_session_id

    login_manager.user_loader(load_user_from_session_id)

    from crm.accounts import init_app as init_auth

    init_auth(app)  # ProxyFix when PROXY_FIX_X_FOR > 0; the sign-in throttle's storage

    from crm.jobs import kinds  # noqa: F401 - registers what each job kind does
    from crm.jobs import queue

    queue.init_app(app)  # the job queue: Redis, an SQLite file, or immediate (JOBS_QUEUE_URL)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, let readers and a writer work at once. How long a writer waits for
    another's lock (busy_timeout) is the app's SQLITE_BUSY_TIMEOUT_MS, set per engine in crm/busy.py."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # SQLAlchemy, not pysqlite, decides where transactions begin (see _sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    """pysqlite defers BEGIN to the first write, which breaks SAVEPOINTs and read consistency.

    A request that will write begins IMMEDIATE: it waits (busy_timeout) for the write lock up front,
    instead of failing with "database is locked" when its read snapshot cannot be upgraded. If the lock
    does not come in time, the request goes on in busy mode (crm/busy.py).
    """
    if connection.dialect.name == "sqlite":
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def register_blueprints(app: Flask) -> None:
    from crm.inputs import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    from crm.admin.views import bp as admin_bp
    from crm.accounts.views import bp as auth_bp
    from crm.chains.views import bp as chains_bp
    from crm.library.views import bp as enterprises_bp
    from crm.imports.views import bp as imports_bp
    from crm.dashboard.views import bp as main_bp
    from crm.pipeline.views import bp as projects_bp
    from crm.ledger.views import bp as reports_bp
    from crm.visits.views import bp as visits_bp
    from crm.jobs.views import bp as jobs_bp
    from crm.efficiency.views import bp as efficiency_bp
    from crm.land.views import bp as land_bp
    from crm.compliance.views import bp as compliance_bp
    from crm.service.views import bp as service_bp

    for blueprint in (auth_bp, main_bp, admin_bp, enterprises_bp, projects_bp, reports_bp, visits_bp, chains_bp,
                      imports_bp, jobs_bp, land_bp, compliance_bp, efficiency_bp,
                      service_bp):
        app.register_blueprint(blueprint)
    from crm.api.views import init_app as init_api

    init_api(app)  # /api/v1/ (token auth, CSRF-exempt), its OpenAPI document, the token pages


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def begin_writes_immediately():
        # Before anything reads (the user loader does): options only apply to a new connection.
        if request.method not in ("GET", "HEAD", "OPTIONS") and db.engine.dialect.name == "sqlite":
            try:
                db.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            except OperationalError as error:
                if not busy.is_lock_error(error):
                    raise
                busy.enter_busy_mode(error)  # the view runs, reads, and shows its form with the message

    @app.before_request
    def require_sign_in():
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None or request.blueprint in TOKEN_BLUEPRINTS:
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        # Every change made while serving this request is attributed to the signed-in user.
        db.session.info["actor_id"] = current_user.id
        return None

    from crm.accounts.sessions import register_session_guards

    register_session_guards(app)  # idle/absolute time-outs; forced password change and 2FA enrolment


def register_errorhandlers(app: Flask) -> None:
    messages = {
        400: "请求无效",
        403: "没有权限访问此页面",
        404: "页面或记录不存在",
        405: "不支持的请求方式",
        413: "上传的文件太大",
        500: "服务器内部错误，请稍后再试",
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        if request.path.startswith("/api/v1/"):  # no route matched (or the API's own): problem+json
            from crm.api.views import http_problem

            return http_problem(error)
        if code == 500:
            db.session.rollback()
            logging.getLogger(__name__).exception("unhandled error")
        return render_template("error.html", code=code, message=messages.get(code, "出错了")), code

    for code in messages:
        app.register_error_handler(code, render_error)

    @app.errorhandler(StaleDataError)
    def stale_write(error):
        # Two saves raced and this one lost at the database: tell the user, keep the winner's data.
        db.session.rollback()
        flash(StaleEdit().message, "danger")
        rule = request.url_rule
        if rule is not None and "GET" in (rule.methods or ()):
            return redirect(request.full_path.rstrip("?"), code=303)  # the form again, at the new version
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            return redirect(referrer.path, code=303)  # e.g. the project page the stage form was on
        return redirect(url_for("main.dashboard"), code=303)


def register_template_helpers(app: Flask) -> None:
    from crm import formatting

    app.jinja_env.filters.update(formatting.FILTERS)
    from crm.permissions import MASKED_NAME, TEMPLATE_FILTERS, TEMPLATE_GLOBALS, TEMPLATE_TESTS

    app.jinja_env.filters.update(TEMPLATE_FILTERS)
    app.jinja_env.tests.update(TEMPLATE_TESTS)
    app.jinja_env.globals.update(MASKED_NAME=MASKED_NAME, **TEMPLATE_GLOBALS)
    from crm.navigation import nav_items

    app.jinja_env.globals.update(url_with=formatting.url_with, nav_items=nav_items)


def register_commands(app: Flask) -> None:
    from crm.cli import register

    register(app)
