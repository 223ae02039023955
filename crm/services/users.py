"""User administration by the city admin."""
from __future__ import annotations

from sqlalchemy import select

from crm.auth.service import UserError, end_sessions, hash_password
from crm.extensions import db
from crm.models import User, Zone
from crm.models.user import ROLES


def update_user(actor: User, user: User, *, display_name: str, role: str, zone_ids: list[int],
                active: bool, password: str | None) -> User:
    if role not in ROLES:
        raise UserError(f"未知角色：{role}")
    zones = db.session.scalars(select(Zone).where(Zone.id.in_(zone_ids or []))).all()
    if role in {"officer", "chief"} and len(zones) != 1:
        raise UserError("招商专员和园区负责人必须且只能属于一个园区")
    if user.id == actor.id and (role != "admin" or not active):
        raise UserError("不能停用自己或取消自己的管理员角色")
    changed_access = role != user.role or not active or {z.id for z in zones} != set(user.zone_ids)
    user.display_name = display_name.strip()
    user.role = role
    user.zones = [] if role == "admin" else list(zones)
    user.active = active
    if password:
        user.password_hash = hash_password(password)
    if password or changed_access:
        end_sessions(user)  # the user signs in again under the new rights
    db.session.flush()
    return user
