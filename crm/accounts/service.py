"""Passwords, sign-in and the session version that lets a sign-out end every copy of a cookie.

Nothing here commits: the view or command that calls it does, once.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import exists, select
from werkzeug.security import check_password_hash, generate_password_hash

from crm.accounts.passwords import password_problem
from crm.accounts.security_log import record_event
from crm.db import utcnow
from crm.extensions import db
from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.inputs import id_or_none

# Checked against even when the user does not exist, so timing does not tell which was wrong.
# One per hash method: a decoy cheaper than the real hash would give the answer away.
_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


class UserError(ValueError):
    """A user account change that cannot be made; the message is for the person who asked."""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def needs_rehash(password_hash: str) -> bool:
    """True when ``password_hash`` was made with other parameters than the configured method.

    Compared with the parameters Werkzeug writes for that method (``scrypt`` alone is written
    ``scrypt:32768:8:1``), taken from the decoy hash.
    """
    return password_hash.split("$", 1)[0] != _dummy_hash().split("$", 1)[0]


def check_new_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise UserError(problem)


def _has_control_chars(text: str) -> bool:
    return any(ord(ch) < 32 or 127 <= ord(ch) <= 159 for ch in text)


def user_named(username: str | None) -> User | None:
    """The account with this sign-in name, if any. A name with a control character names none (and
    PostgreSQL refuses a NUL in a query parameter outright)."""
    name = (username or "").strip()
    if not name or _has_control_chars(name):
        return None
    return db.session.scalar(select(User).where(User.username == name))


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None. A hash made with older
    parameters is replaced with the configured method now that the password is known."""
    user = user_named(username)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_sign_in(user: User, how: str) -> None:
    user.last_login_at = utcnow()
    record_event("login_ok", user=user, detail=how)


def load_user_from_session_id(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, and an old version is refused."""
    user_id, _, version = session_id.partition(":")
    user_id, version = id_or_none(user_id), id_or_none(version)
    if user_id is None or version is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def end_sessions(user: User) -> None:
    """Invalidate every cookie issued to ``user`` so far."""
    user.session_version += 1


def two_factor_required(user: User) -> bool:
    """Must ``user`` sign in with two-factor authentication? The admin when REQUIRE_2FA_ADMIN is on
    or any zone asks it; a chief when their zone asks it."""
    if user.role == "admin":
        return bool(current_app.config.get("REQUIRE_2FA_ADMIN")) or bool(
            db.session.scalar(select(exists().where(Zone.require_2fa_privileged.is_(True))))
        )
    if user.role == "chief":
        return any(zone.require_2fa_privileged for zone in user.zones)
    return False


def change_password(user: User, current_password: str, new_password: str) -> None:
    """The user's own change (修改密码): the current password proves it is them."""
    if not check_password_hash(user.password_hash, current_password):
        raise UserError("当前密码不正确")
    if current_password == new_password:
        raise UserError("新密码不能与当前密码相同")
    check_new_password(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    end_sessions(user)  # every other browser signs in again
    record_event("password_changed", user=user)
    db.session.flush()


def create_user(
    *, username: str, display_name: str, password: str, role: str, zones: list[Zone],
    must_change_password: bool = False,
) -> User:
    from crm.accounts.models import ROLES

    if role not in ROLES:
        raise UserError(f"未知角色：{role}")
    if role in {"officer", "chief"} and len(zones) != 1:
        raise UserError("招商专员和园区负责人必须且只能属于一个园区")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise UserError(f"用户名 {username} 已存在")
    check_new_password(password, username)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        zones=[] if role == "admin" else list(zones),
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    return user


def safe_next_url(target: str | None) -> str | None:
    """A redirect target after sign-in: only a relative path on this site, else None."""
    if not target or len(target) > 2000:
        return None
    if _has_control_chars(target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
