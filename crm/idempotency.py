"""No duplicate from a double-submitted create form.

Each create form carries a random token. The record and its token are written in one transaction;
the token is the primary key, so of two racing submits one commits and the other fails and is sent to
the record the first one made.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.submissions import FormSubmission


def new_token() -> str:
    return secrets.token_urlsafe(24)


def already_submitted(user, token: str | None) -> FormSubmission | None:
    if not token:
        return None
    return db.session.scalar(select(FormSubmission).where(FormSubmission.token == token,
                                                          FormSubmission.user_id == user.id))


def remember(user, token: str | None, record) -> None:
    if token:
        db.session.add(FormSubmission(token=token[:64], user_id=user.id, record_type=type(record).__name__,
                                      record_id=record.id))


def commit_once(user, token: str | None) -> FormSubmission | None:
    """Commit; if a concurrent submit with the same token won, roll back and return its submission."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = already_submitted(user, token)
        if existing is None:
            raise
        return existing
    return None
