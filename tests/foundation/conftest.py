"""Fixtures for the foundation tests."""
from __future__ import annotations

import pytest
from flask import g, request_started


@pytest.fixture(autouse=True)
def _fresh_g_per_request(app):
    """Start each request with an empty ``g``, as a real server does.

    Test requests reuse the test's app context (see tests/conftest.py), so ``g`` would otherwise
    carry Flask-Login's cached user (``g._login_user``) and Flask-WTF's CSRF token from one request
    into the next — hiding exactly the sign-out, cookie-replay and CSRF bugs these tests look for.
    """

    def forget(sender, **extra):
        for name in list(vars(g)):
            delattr(g, name)

    request_started.connect(forget, app)
    try:
        yield
    finally:
        request_started.disconnect(forget, app)


@pytest.fixture(scope="session", autouse=True)
def _close_pooled_connections(app):
    """Close the session app's pooled connections when the run ends.

    tests/conftest.py's ``app`` fixture never disposes its engine; on PostgreSQL the pooled
    psycopg connection is then garbage-collected open at exit, and under ``filterwarnings = error``
    that ResourceWarning fails the run. (The lasting fix belongs in that fixture.)
    """
    yield
    from crm.extensions import db

    with app.app_context():
        db.engine.dispose()
