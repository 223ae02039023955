"""Duplicate enterprises: find them before saving (merging them is the admin's: crm.admin.merges)."""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import or_, select

from crm.extensions import db
from crm.library.models import Enterprise
from crm.library.names import clean_uscc, normalize_name

FUZZY_THRESHOLD = 88
CANDIDATE_LIMIT = 200


SAME_CODE = "统一社会信用代码相同"


@dataclass(frozen=True)
class Duplicate:
    enterprise: Enterprise
    score: float
    reason: str


def find_duplicates(name: str, uscc: str | None = None, exclude_id: int | None = None, limit: int = 5) -> list[Duplicate]:
    """Enterprises that are probably the same company: same credit code, or a name that normalises alike.

    Candidates come from the index on the normalised name (same first two characters), so the cost
    does not grow with the library; rapidfuzz then scores them.
    """
    key = normalize_name(name)
    try:
        code = clean_uscc(uscc)
    except ValueError:
        code = None
    conditions = []
    if code:
        conditions.append(Enterprise.uscc == code)
    if len(key) >= 2:
        conditions.append(Enterprise.name_normalized.startswith(key[:2], autoescape=True))
    if not conditions:
        return []
    stmt = select(Enterprise).where(Enterprise.deleted_at.is_(None), or_(*conditions)).limit(CANDIDATE_LIMIT)
    if exclude_id:
        stmt = stmt.where(Enterprise.id != exclude_id)
    found = []
    for candidate in db.session.scalars(stmt):
        if code and candidate.uscc == code:
            found.append(Duplicate(candidate, 100.0, SAME_CODE))
            continue
        if candidate.name_normalized == key:
            found.append(Duplicate(candidate, 100.0, "去除地名和公司类型后名称相同"))
            continue
        score = fuzz.ratio(key, candidate.name_normalized)
        if score >= FUZZY_THRESHOLD:
            found.append(Duplicate(candidate, round(score, 1), f"名称相似度 {score:.0f}%"))
    found.sort(key=lambda d: (-d.score, d.enterprise.id))
    return found[:limit]
