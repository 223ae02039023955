"""Helpers the blueprints share to stay thin."""
from __future__ import annotations

from flask import current_app, flash, request
from flask_login import current_user

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import select

from crm.extensions import db
from crm.forms import show_service_error
from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.permissions import STAFF_ROLES, can, refusal, visible_zone_ids, writable_zone_ids
from crm.errors import ServiceError
from crm.idempotency import already_submitted, commit_once, remember
from crm.inputs import parse_id, parse_page


def page_of(stmt, per_page: int | None = None):
    """One page of ``stmt``: two queries (count and rows), however many rows there are."""
    return db.paginate(
        stmt,
        page=request.args.get("page", 1, type=parse_page),
        per_page=per_page or current_app.config["PAGE_SIZE"],
        max_per_page=200,
        error_out=False,
    )


class _IdsFirstPagination(SelectPagination):
    """A page whose rows are found first by id alone — the filters, order, offset and limit on the
    record's own table, without the joined eager loads — and then loaded with their joins, so a list of
    20k projects sorts 20k ids, not 20k joined rows. Flask-SQLAlchemy's own pagination (pinned 3.1.1)
    with the one step that fetches the page replaced."""

    def _query_items(self) -> list:
        stmt, session = self._query_args["select"], self._query_args["session"]
        entity = stmt.column_descriptions[0]["entity"]
        ids = session.scalars(stmt.with_only_columns(entity.id).limit(self.per_page)
                              .offset(self._query_offset)).all()
        if not ids:
            return []
        rows = {row.id: row for row in session.scalars(select(entity).where(entity.id.in_(ids))).unique()}
        return [rows[i] for i in ids if i in rows]


def page_by_ids(stmt, per_page: int | None = None):
    """As ``page_of``, for a ``select(Model)`` whose page should be chosen before its rows are joined."""
    return _IdsFirstPagination(
        select=stmt,
        session=db.session(),
        page=request.args.get("page", 1, type=parse_page),
        per_page=per_page or current_app.config["PAGE_SIZE"],
        max_per_page=200,
        error_out=False,
    )


def list_filters(*names: str) -> dict:
    return {name: request.args.get(name, "").strip() for name in names if request.args.get(name, "").strip()}


def int_filter(filters: dict, *names: str) -> dict:
    for name in names:
        if name in filters:
            try:
                filters[name] = parse_id(filters[name])
            except ValueError:
                filters[name] = -1  # matches nothing, as a filter for a record that does not exist
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
    if not can(user, "project.assign"):
        return [(user.id, user.display_name)]
    stmt = select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True)).order_by(User.id)
    zone_ids = visible_zone_ids(user)
    if zone_ids is not None:
        stmt = stmt.where(User.zones.any(Zone.id.in_(zone_ids)))
    return [(u.id, f"{u.display_name}（{'、'.join(z.name for z in u.zones)}）") for u in db.session.scalars(stmt)]


class saving:
    """Commit what the block's service call changed; on a ServiceError roll back and show it.

        with saving(form) as saved:
            service.update_x(current_user, record, data)
        if saved:
            flash(...); return redirect(...)

    The message goes beside its field of ``form``, or into a flash when there is no form. A lock that
    does not clear in time is not caught here: the view runs again in busy mode (crm/busy.py) and its
    form comes back with "系统繁忙，请稍后重试".
    """

    def __init__(self, form=None):
        self.form = form
        self.ok = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        if exc_type is None:
            db.session.commit()
            self.ok = True
            return False
        if issubclass(exc_type, ServiceError):
            db.session.rollback()
            if self.form is not None:
                show_service_error(self.form, error)
            else:
                flash(error.message, "danger")
            return True
        return False

    def __bool__(self) -> bool:
        return self.ok


def submitted_before(form) -> int | None:
    """The id of the record this create form's submission token already made (a double submit)."""
    first = already_submitted(current_user, form.submission_token.data)
    return first.record_id if first else None


def create_once(form, make):
    """Run a create form's service call ``make()`` once per submission token, and commit.

    Returns (record, None) when it was made now; (None, id) when a racing twin of this submission made
    it first; (None, None) after a ServiceError, which is shown beside its field of ``form``.
    """
    token = form.submission_token.data
    try:
        record = make()
        remember(current_user, token, record)
        first = commit_once(current_user, token)
    except ServiceError as error:
        db.session.rollback()
        show_service_error(form, error)
        return None, None
    return (None, first.record_id) if first else (record, None)


def refused(action: str, record) -> bool:
    """Flash the policy's refusal of ``action`` on ``record`` to the signed-in user; True when refused.
    A form page opened by someone who may not save it says so at once, instead of after typing."""
    reason = refusal(current_user, action, record)
    if reason is not None:
        flash(reason.message, "danger")
    return reason is not None


def flash_form_errors(form) -> None:
    """For forms posted from another page: show their field errors as flashes there."""
    for errors in form.errors.values():
        for message in errors:
            flash(message, "danger")
