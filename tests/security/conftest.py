"""Helpers for the sign-in and session tests: the real forms, real TOTP codes, a clean throttle."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pyotp
import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.accounts.security_events import SecurityEvent
from tests import factories as f


@pytest.fixture(autouse=True)
def _fresh_sign_in_counts(app):
    """The throttle's counters outlive a test's transaction: start each test at zero."""
    from crm.accounts.throttle import login_throttle

    with app.app_context():
        login_throttle().storage.reset()


def sign_in(client, username, password=f.PASSWORD, next_url=None, address=None, **extra):
    url = "/login" if next_url is None else "/login?" + urlencode({"next": next_url})
    kwargs = {"environ_base": {"REMOTE_ADDR": address}} if address else {}
    return client.post(url, data={"username": username, "password": password, **extra}, **kwargs)


def signed_in_user_id(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def events(event: str | None = None, user=None) -> list[SecurityEvent]:
    db.session.expire_all()
    stmt = select(SecurityEvent).order_by(SecurityEvent.id)
    if event:
        stmt = stmt.where(SecurityEvent.event == event)
    if user is not None:
        stmt = stmt.where(SecurityEvent.user_id == user.id)
    return list(db.session.scalars(stmt))


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """The TOTP code of the current 30 s step (or one ahead, which the window also accepts)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def enrol(client, user) -> list[str]:
    """Enrol ``user`` (signed in on ``client``) in two-factor sign-in through the pages; the recovery codes."""
    import re

    assert client.post("/account/2fa/start").status_code == 302
    db.session.refresh(user)
    secret = user.totp_pending_secret
    page = client.post("/account/2fa/confirm", data={"code": code_for(secret)})
    assert page.status_code == 200, page.headers.get("Location")
    html = page.get_data(as_text=True)
    codes = re.findall(r"<li class=\"col\">([a-z0-9]{5}-[a-z0-9]{5})</li>", html)
    assert len(codes) == 10
    db.session.refresh(user)
    assert user.has_totp and user.totp_secret == secret
    return codes


@pytest.fixture
def fresh_client(app):
    """Another browser: its own cookies."""
    from tests.conftest import FreshContextClient

    def make():
        return FreshContextClient(app, app.response_class, use_cookies=True)

    return make
