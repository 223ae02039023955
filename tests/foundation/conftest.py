"""Fixtures for the foundation tests."""
from __future__ import annotations

import pytest
from flask import g, request_started


@pytest.fixture(autouse=True)
def _fresh_login_user_per_request(app):
    """Forget the previous request's user at the start of each request.

    Test requests reuse the test's app context (see tests/conftest.py), so Flask-Login's cached
    ``g._login_user`` would otherwise carry one request's user into the next — hiding exactly the
    sign-out and cookie-replay bugs these tests look for. A real server has a new context each time.
    """

    def forget(sender, **extra):
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    try:
        yield
    finally:
        request_started.disconnect(forget, app)
