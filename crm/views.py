"""Helpers the blueprints share to stay thin."""
from __future__ import annotations

from flask import current_app, request

from sqlalchemy import select

from crm.extensions import db
from crm.models import User, Zone
from crm.permissions import visible_zone_ids, writable_zone_ids


def page_of(stmt, per_page: int | None = None):
    """One page of ``stmt``: two queries (count and rows), however many rows there are."""
    return db.paginate(
        stmt,
        page=request.args.get("page", 1, type=int),
        per_page=per_page or current_app.config["PAGE_SIZE"],
        max_per_page=200,
        error_out=False,
    )


def list_filters(*names: str) -> dict:
    return {name: request.args.get(name, "").strip() for name in names if request.args.get(name, "").strip()}


def int_filter(filters: dict, *names: str) -> dict:
    for name in names:
        if name in filters:
            filters[name] = int(filters[name]) if filters[name].isdigit() else -1
    return filters


def all_zone_choices():
    """Every zone: for the city-wide enterprise library, where a zone name is not a secret."""
    return [(z.id, z.name) for z in db.session.scalars(select(Zone).order_by(Zone.id))]


def zone_choices(user, writable=True):
    """Only the zones ``user`` may write to (or read, with writable=False)."""
    zone_ids = writable_zone_ids(user) if writable else visible_zone_ids(user)
    stmt = select(Zone).order_by(Zone.id)
    if zone_ids is not None:
        stmt = stmt.where(Zone.id.in_(zone_ids))
    return [(z.id, z.name) for z in db.session.scalars(stmt)]


def owner_choices(user):
    if user.role == "officer":
        return [(user.id, user.display_name)]
    stmt = select(User).where(User.role.in_(["officer", "chief"]), User.active.is_(True)).order_by(User.id)
    zone_ids = visible_zone_ids(user)
    if zone_ids is not None:
        stmt = stmt.where(User.zones.any(Zone.id.in_(zone_ids)))
    return [(u.id, f"{u.display_name}（{'、'.join(z.name for z in u.zones)}）") for u in db.session.scalars(stmt)]
