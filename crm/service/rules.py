"""包保 service and 企业诉求: the pure rules (no Flask, no database).

Deadline: the date received plus N working days, Monday to Friday. Public holidays and the
make-up working weekends (调休) are NOT modelled: a deadline over 春节 or 国庆 falls earlier than the
calendar of the year would put it; the zone sets more days for such categories if it needs.
"""
from __future__ import annotations

from datetime import date, timedelta

CATEGORIES = ("用地", "用工", "融资", "审批", "水电气", "政策兑现", "其他")
DEFAULT_DAYS = {"用地": 20, "用工": 10, "融资": 15, "审批": 10, "水电气": 5, "政策兑现": 15, "其他": 10}

RECEIVED, IN_PROGRESS, CLOSED = "受理", "办理中", "办结"
STATUSES = (RECEIVED, IN_PROGRESS, CLOSED)
NEXT_STATUS = {RECEIVED: IN_PROGRESS, IN_PROGRESS: CLOSED}

RATINGS = ("满意", "基本满意", "不满意")
SATISFIED = ("满意", "基本满意")


class RuleError(ValueError):
    """A broken rule: a Chinese message and the field it belongs beside."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def add_working_days(start: date, days: int) -> date:
    """``start`` plus ``days`` working days (Mon–Fri); holidays are not modelled."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def deadline_for(received_on: date, category: str, days_by_category: dict[str, int] | None = None) -> date:
    days = (days_by_category or {}).get(category, DEFAULT_DAYS.get(category, 10))
    return add_working_days(received_on, days)


def check_request(category: str | None, received_on: date | None, deadline: date | None) -> None:
    if not category or category not in CATEGORIES:
        raise RuleError("请选择诉求类别", "category")
    if received_on is None:
        raise RuleError("请填写受理日期", "received_on")
    if deadline is not None and deadline < received_on:
        raise RuleError("办理期限不能早于受理日期", "deadline")


def advance(status: str, reply: str | None = None) -> str:
    """The status after ``status``: 受理 → 办理中 → 办结; closing needs a reply."""
    if status not in NEXT_STATUS:
        raise RuleError("该诉求已办结", "status")
    following = NEXT_STATUS[status]
    if following == CLOSED and not (reply or "").strip():
        raise RuleError("办结前请填写答复意见", "reply")
    return following


def check_rating(status: str, rating: str | None) -> None:
    if status != CLOSED:
        raise RuleError("诉求办结后才能评价", "rating")
    if rating not in RATINGS:
        raise RuleError("请选择满意度", "rating")


def is_overdue(status: str, deadline: date | None, today: date) -> bool:
    return status != CLOSED and deadline is not None and today > deadline


def satisfaction(ratings: list[str]) -> float | None:
    """Share of 满意 and 基本满意 among the rated requests; None when none is rated."""
    rated = [r for r in ratings if r in RATINGS]
    if not rated:
        return None
    return sum(1 for r in rated if r in SATISFIED) / len(rated)


def check_period(period: str) -> None:
    """A half-year like '2026H1' or '2026H2' (企业测评 is twice a year)."""
    if len(period) != 6 or not period[:4].isdigit() or period[4:] not in ("H1", "H2"):
        raise RuleError("测评期请写成 2026H1 或 2026H2", "period")


def period_of(day: date) -> str:
    return f"{day.year}H{1 if day.month <= 6 else 2}"
