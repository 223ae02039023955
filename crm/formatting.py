"""Jinja filters: how numbers, money and dates read on a page."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import request, url_for

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def money(value: Decimal | float | None, digits: int = 0) -> str:
    """万元 with thousands separators; blank when unknown."""
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def local_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite returns naive UTC
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def iso_date(value: date | None) -> str:
    """A day as 2026-12-01; a timestamp (stored in UTC) as its local day, never with the time."""
    if isinstance(value, datetime):
        return local_datetime(value)[:10]
    return value.isoformat() if value else ""


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (pagination, sorting)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


FILTERS = {"money": money, "local_datetime": local_datetime, "iso_date": iso_date}
