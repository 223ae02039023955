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
