from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import utcnow
from crm.extensions import db


class FormSubmission(db.Model):
    """A create form's one-time token: a second submit of the same form finds the first record."""

    __tablename__ = "form_submissions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int]
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
