"""No duplicate from a double-submitted create form.

Each create form carries a random token. The record and its token are written in one transaction;
the token is the primary key, so of two racing submits one commits and the other fails and is sent to
the record the first one made.
"""
from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.errors import ServiceError
from crm.extensions import db
from crm.submissions import FormSubmission

TOKEN_BYTES = 24
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # what new_token() makes
STALE_FORM = "该表单已失效或已提交过，请重新打开表单后再提交"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def already_submitted(user, token: str | None) -> FormSubmission | None:
    """The submission this user already made with ``token`` (a double submit), if any."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    return db.session.scalar(select(FormSubmission).where(FormSubmission.token == token,
                                                          FormSubmission.user_id == user.id))


def remember(user, token: str | None, record) -> None:
    """Tie ``record`` to the form's token. A token this app never issued is refused with a Chinese
    message (what was typed stays in the form); one another user's submission holds is refused at commit."""
    if not token:
        return
    if not _TOKEN.fullmatch(token):
        raise ServiceError(STALE_FORM)
    db.session.add(FormSubmission(token=token, user_id=user.id, record_type=type(record).__name__,
                                  record_id=record.id))


def commit_once(user, token: str | None) -> FormSubmission | None:
    """Commit; if a concurrent submit with the same token won, roll back and return its submission."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = already_submitted(user, token)
        if existing is None:  # the token is another user's submission: not a repeat of this one
            raise ServiceError(STALE_FORM) from None
        return existing
    return None
