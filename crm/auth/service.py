"""Passwords, sign-in and the session version that lets a sign-out end every copy of a cookie."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from crm.db import utcnow
from crm.extensions import db
from crm.models import User, Zone

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


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def load_user_from_session_id(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, and an old version is refused."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_sessions(user: User) -> None:
    """Invalidate every cookie issued to ``user`` so far."""
    user.session_version += 1


def create_user(
    *, username: str, display_name: str, password: str, role: str, zones: list[Zone]
) -> User:
    from crm.models.user import ROLES

    if role not in ROLES:
        raise UserError(f"未知角色：{role}")
    if role in {"officer", "chief"} and len(zones) != 1:
        raise UserError("招商专员和园区负责人必须且只能属于一个园区")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise UserError(f"用户名 {username} 已存在")
    if len(password) < 8:
        raise UserError("密码至少 8 位")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        zones=[] if role == "admin" else list(zones),
    )
    db.session.add(user)
    db.session.flush()
    return user


def safe_next_url(target: str | None) -> str | None:
    """A redirect target after sign-in: only a relative path on this site, else None."""
    if not target or len(target) > 2000:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
