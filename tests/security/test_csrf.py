"""With CSRF protection on, as in production, every POST route refuses a request without the token
(HTTP 400) before it changes anything; the same request with the session's token gets through.

The POST routes come from ``app.url_map``, so a route added later is covered without editing this
file; its path comes from the access matrix (which fails for a route it lacks).

CSRF is switched on in the session's app for the test (``monkeypatch``, as tests/foundation/test_auth.py
does), not in a second app: a second app would open its own connection and not see the test's
uncommitted world (and, on SQLite, would wait on the test's write lock).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from crm import create_app
from crm.extensions import db
from tests.security import figures
from tests.security.routes import Targets, post_data
from tests.security.test_access_matrix import MATRIX


def _post_endpoints() -> list[str]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    # The open API (/api/v1/) reads no session cookie, only a bearer token, so it needs no CSRF token:
    # tests/api/test_api.py checks that a signed-in browser's cookie gets 401 there.
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods
                   and not rule.endpoint.startswith("api.")})


POST_ENDPOINTS = _post_endpoints()


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


@pytest.fixture
def targets(app, world):
    return Targets(app, world)


def _row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {name: db.session.scalar(select(func.count()).select_from(table))
            for name, table in db.metadata.tables.items()}


def _session_token(client) -> str:
    """The token the pages of this session carry (the 退出 button's form on every page has it)."""
    html = client.get("/account/password").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_there_are_post_routes_to_cover(pytestconfig):
    assert len(POST_ENDPOINTS) >= 40
    figures.record(pytestconfig, "CSRF", "POST routes refused without a token", len(POST_ENDPOINTS))


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_a_post_without_the_token_is_refused_and_changes_nothing(endpoint, targets, login_as, csrf_on,
                                                                 pytestconfig):
    assert endpoint in MATRIX, f"{endpoint}: add it to the access matrix"
    path = targets.path(MATRIX[endpoint][0], "admin", "own")
    client = login_as(targets.world.admin)
    data = post_data(endpoint, targets, "admin", "own")
    before = _row_counts()  # every table, the stored uploads (import_uploads) and jobs included

    response = client.post(path, data=data, content_type="multipart/form-data")

    assert response.status_code == 400, f"POST {path} without a CSRF token: HTTP {response.status_code}"
    assert "请求无效" in response.get_data(as_text=True)  # the Chinese error page, not a stack trace
    assert _row_counts() == before
    assert client.get("/").status_code == 200  # still signed in: not even sign-out went through
    figures.add(pytestconfig, "CSRF", "refusals checked")


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_the_same_post_with_the_sessions_token_gets_past_the_check(endpoint, targets, login_as, csrf_on):
    """The control: the 400 above is the missing token, not a body the route would refuse anyway."""
    path = targets.path(MATRIX[endpoint][0], "admin", "own")
    client = login_as(targets.world.admin)
    data = {**post_data(endpoint, targets, "admin", "own"), "csrf_token": _session_token(client)}
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code != 400, f"POST {path} with the token: HTTP 400"
    assert response.status_code < 500
