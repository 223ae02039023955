"""User administration by the city admin. Security-relevant changes go to the security log too."""
from __future__ import annotations

from sqlalchemy import select

from crm.accounts import totp
from crm.accounts.security_log import record_event
from crm.accounts.service import check_new_password, end_sessions, hash_password, UserError
from crm.extensions import db
from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.accounts.models import ROLES


def _by(actor: User) -> str:
    return f"管理员 {actor.username}（id {actor.id}）"


def update_user(actor: User, user: User, *, display_name: str, role: str, zone_ids: list[int],
                active: bool, password: str | None, must_change_password: bool | None = None) -> User:
    """Save the admin's edit. A new password makes the user change it at their next sign-in; a
    change of role, zones or password, or disabling, ends the user's sessions."""
    if role not in ROLES:
        raise UserError(f"未知角色：{role}")
    zones = db.session.scalars(select(Zone).where(Zone.id.in_(zone_ids or []))).all()
    if role in {"officer", "chief"} and len(zones) != 1:
        raise UserError("招商专员和园区负责人必须且只能属于一个园区")
    if user.id == actor.id and (role != "admin" or not active):
        raise UserError("不能停用自己或取消自己的管理员角色")
    if password:
        check_new_password(password, user.username)
    changed_access = role != user.role or not active or {z.id for z in zones} != set(user.zone_ids)
    disabling = user.active and not active
    user.display_name = display_name.strip()
    user.role = role
    user.zones = [] if role == "admin" else list(zones)
    user.active = active
    if must_change_password is not None:
        user.must_change_password = must_change_password
    if password:
        user.password_hash = hash_password(password)
        user.must_change_password = True  # the admin knows it: the user replaces it first thing
        record_event("password_reset_by_admin", user=user, detail=_by(actor))
    if disabling:
        record_event("user_disabled", user=user, detail=_by(actor))
    if password or changed_access:
        end_sessions(user)  # the user signs in again under the new rights
    db.session.flush()
    return user


def revoke_sessions(actor: User, user: User) -> None:
    """强制下线: every browser the user is signed in on must sign in again."""
    end_sessions(user)
    record_event("sessions_revoked", user=user, detail=_by(actor))
    db.session.flush()


def reset_two_factor(actor: User, user: User) -> None:
    """For a user who lost both phone and recovery codes: they sign in with the password alone (and
    enrol again where required). Their sessions end."""
    if not user.has_totp and not user.totp_pending_secret:
        raise UserError("该用户未启用两步验证")
    totp.disable(user)
    end_sessions(user)
    record_event("totp_disabled", user=user, detail=f"{_by(actor)}重置")
    db.session.flush()


def set_zone_2fa_requirement(actor: User, zone: Zone, required: bool) -> None:
    """Whether the zone's chief, and the city admin, must use two-factor sign-in (from their next sign-in)."""
    zone.require_2fa_privileged = required
    db.session.flush()
