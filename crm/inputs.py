"""Parsing and bounding of what users type into URLs and forms: months, ids, pages."""
from __future__ import annotations

from datetime import date, timedelta


def month_bounds(month: str) -> tuple[date, date]:
    """'2026-03' → (2026-03-01, 2026-03-31). Raises ValueError for anything else."""
    year, mon = (int(part) for part in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + (mon == 12), mon % 12 + 1, 1) - timedelta(days=1)
    return start, end
