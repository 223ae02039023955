"""Production refuses unsafe settings before it serves a request, and hardens its cookies."""
from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import DEFAULT_SECRET_KEY
from crm.accounts.crypto import new_key
from crm import create_app

pytestmark = pytest.mark.no_db

SECRET = "k" * 40
PG_URL = "postgresql+psycopg://lianzhao@db.invalid:5432/lianzhao"


def production(**overrides):
    settings = {"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": PG_URL, "DEBUG": False, "ALLOW_SQLITE": False,
                "TOTP_ENCRYPTION_KEYS": new_key(), "JOBS_QUEUE_URL": "redis://redis.invalid:6379/1"}
    settings.update(overrides)
    return create_app("production", settings)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "SECRET_KEY"),
        ({"TOTP_ENCRYPTION_KEYS": ""}, "TOTP_ENCRYPTION_KEYS"),
        ({"SECRET_KEY": "s" * 31}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"DEBUG": True}, "debug"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:///instance/prod.db"}, "PostgreSQL"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, "PostgreSQL"),
    ],
    ids=["default-secret", "no-totp-key", "short-secret", "empty-secret", "no-secret", "debug", "sqlite-file",
         "sqlite-memory"],
)
def test_production_refuses_unsafe_settings(overrides, reason):
    with pytest.raises(RuntimeError, match=reason):
        production(**overrides)


def test_production_names_every_problem_at_once():
    with pytest.raises(RuntimeError) as error:
        production(SECRET_KEY=DEFAULT_SECRET_KEY, DEBUG=True, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert all(word in str(error.value) for word in ("SECRET_KEY", "debug", "PostgreSQL"))


def test_production_runs_on_sqlite_only_when_allowed():
    app = production(SQLALCHEMY_DATABASE_URI="sqlite://", ALLOW_SQLITE=True)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_production_starts_with_a_long_secret_and_postgresql_without_connecting():
    connections = []

    def on_connect(dbapi_connection, connection_record):
        connections.append(dbapi_connection)

    event.listen(Engine, "connect", on_connect)
    try:
        # db.invalid cannot resolve: had create_app connected, it would have raised.
        app = production()
    finally:
        event.remove(Engine, "connect", on_connect)
    assert connections == []
    assert app.config["SQLALCHEMY_DATABASE_URI"] == PG_URL
    assert app.config["DEBUG"] is False and app.config["TESTING"] is False
    assert app.config["WTF_CSRF_ENABLED"] is True


def test_production_cookies_are_secure_host_only_and_not_readable_by_script():
    app = production()
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    # The cookie a browser really receives: the sign-in page stores the CSRF token in the session.
    response = app.test_client().get("/login", base_url="https://lianzhao.example")
    assert response.status_code == 200
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-session="))
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes.keys()
    assert attributes["samesite"].strip() == "SameSite=Lax"
    assert attributes["path"].strip() == "Path=/"
    assert "domain" not in attributes  # __Host- cookies must not name a domain


def test_production_uses_strong_password_hashes():
    app = production()
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt:131072:8:1"



def test_production_times_out_sessions_and_throttles_sign_in():
    from werkzeug.middleware.proxy_fix import ProxyFix

    app = production()
    assert app.config["SESSION_IDLE_MINUTES"] == 30 and app.config["SESSION_ABSOLUTE_HOURS"] == 12
    assert app.config["LOGIN_FAILURES_PER_ACCOUNT"] == 5 and app.config["LOGIN_FAILURES_PER_ADDRESS"] == 20
    assert app.config["LOGIN_FAILURE_WINDOW_MINUTES"] == 15
    assert not isinstance(app.wsgi_app, ProxyFix)  # X-Forwarded-For is trusted only when configured
    behind_nginx = production(PROXY_FIX_X_FOR=1, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    assert isinstance(behind_nginx.wsgi_app, ProxyFix)


@pytest.mark.no_db
def test_a_development_machine_makes_its_own_secret_key_once(tmp_path):
    """`make run` signed sessions with a public constant: a forged admin cookie opened /admin/users."""
    from config import instance_secret_key

    first = instance_secret_key(tmp_path)
    assert len(first) == 64 and first != DEFAULT_SECRET_KEY
    assert instance_secret_key(tmp_path) == first  # reused on the next run
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert instance_secret_key(tmp_path / "other") != first  # every machine its own


@pytest.mark.no_db
def test_a_cookie_signed_with_the_public_constant_opens_nothing_in_development(tmp_path, monkeypatch):
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import BadSignature

    import crm
    from crm import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(crm, "INSTANCE_DIR", tmp_path)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text()
    forger = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": DEFAULT_SECRET_KEY})
    forged = SecureCookieSessionInterface().get_signing_serializer(forger).dumps({"_user_id": "1:1", "_fresh": True})
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    with pytest.raises(BadSignature):
        serializer.loads(forged)
