"""The signed-in session: started fresh at sign-in, timed out when idle or too old, and gated while the
account owes a password change or a two-factor enrolment.

The session (a signed cookie) carries, besides Flask-Login's keys:
``_login_at`` and ``_seen_at``  UTC epoch seconds of the sign-in and of the last request, checked
                                against SESSION_ABSOLUTE_HOURS and SESSION_IDLE_MINUTES;
``_must_enrol_2fa``             set at sign-in when the account must use two-factor sign-in but has
                                not enrolled: only the enrol pages and sign-out are open until it has;
``_2fa_pending``                between a correct password and the second factor: who, which session
                                version, since when and where to go next. Nobody is signed in yet.

There is no remember-me cookie: a session ends with the browser, at sign-out, or at a time-out.
"""
from __future__ import annotations

import time

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user, user_loaded_from_cookie

from crm.accounts.service import safe_next_url, two_factor_required
from crm.accounts.models import User

PENDING_2FA = "_2fa_pending"
PENDING_2FA_SECONDS = 300
LOGIN_AT = "_login_at"
SEEN_AT = "_seen_at"
MUST_ENROL = "_must_enrol_2fa"

# Open to a signed-in user whatever they still owe.
_ALWAYS_OPEN = frozenset({"static", "main.healthz", "auth.logout", "auth.login", "auth.two_factor"})
_PASSWORD_CHANGE = frozenset({"auth.change_password"})
_ENROLMENT = frozenset({"auth.two_factor_setup", "auth.two_factor_start", "auth.two_factor_confirm"})


def now() -> int:
    return int(time.time())


def start_session(user: User) -> None:
    """Sign ``user`` in on a brand-new session (no fixation), with fresh time-out stamps."""
    session.clear()
    login_user(user)
    session[LOGIN_AT] = session[SEEN_AT] = now()
    if not user.has_totp and two_factor_required(user):
        session[MUST_ENROL] = True


def renew_session(user: User) -> None:
    """After the user's own password change: new session version, same sign-in time."""
    kept = {key: session[key] for key in (LOGIN_AT, MUST_ENROL) if key in session}
    session.clear()
    login_user(user)
    session.update(kept)
    session[SEEN_AT] = now()


def begin_second_factor(user: User, next_url: str | None) -> None:
    session.clear()
    session[PENDING_2FA] = {"user_id": user.id, "version": user.session_version, "since": now(),
                            "next": safe_next_url(next_url)}


def pending_second_factor() -> dict | None:
    pending = session.get(PENDING_2FA)
    if not isinstance(pending, dict) or not isinstance(pending.get("since"), int):
        return None
    if now() - pending["since"] > PENDING_2FA_SECONDS:
        session.pop(PENDING_2FA, None)
        return None
    return pending


def _timed_out() -> bool:
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        # The site issues no remember-me cookie any more: one issued before is refused. A session
        # signed in by other means (one from before these stamps existed) gets its stamps now.
        if g.get("_restored_from_remember_cookie"):
            return True
        session[LOGIN_AT] = session[SEEN_AT] = now()
        return False
    config = current_app.config
    current = now()
    return (current - login_at > config["SESSION_ABSOLUTE_HOURS"] * 3600
            or current - seen_at > config["SESSION_IDLE_MINUTES"] * 60)


def _login_redirect():
    next_url = safe_next_url(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("auth.login", next=next_url))


def _note_remember_cookie(sender, user=None, **extra) -> None:
    g._restored_from_remember_cookie = True


def register_session_guards(app: Flask) -> None:
    user_loaded_from_cookie.connect(_note_remember_cookie, app, weak=False)

    @app.before_request
    def enforce_session_rules():
        endpoint = request.endpoint
        if endpoint is None or endpoint in ("static", "main.healthz") or request.blueprint == "api" \
                or not current_user.is_authenticated:  # the API: bearer tokens only, never this cookie
            return None
        if _timed_out():
            session.clear()
            logout_user()
            flash("登录已超时，请重新登录", "warning")
            return None if endpoint in ("auth.login", "auth.two_factor") else _login_redirect()
        session[SEEN_AT] = now()
        if endpoint in _ALWAYS_OPEN:
            return None
        if current_user.must_change_password and endpoint not in _PASSWORD_CHANGE:
            return redirect(url_for("auth.change_password"))
        if session.get(MUST_ENROL) and not current_user.has_totp and endpoint not in _ENROLMENT:
            return redirect(url_for("auth.two_factor_setup"))
        return None
