"""The ledger's figures as pure rules: 到资率, 本月/本年累计 attribution, the rates, 亩均投资强度, funds
behind plan, overdue milestones and agreed dates in order. No Flask, no database.

Every page, export, CLI answer and test that shows one of these figures calls the function here; the
services only fetch the facts (one row per project) and hand them over.

Counting rules (DESIGN §2):
- A project counts in the signed figures once it has a first signing date and is not 终止, and it
  counts once, on that first signing date; a re-signing after 搁置 keeps the first date.
- A capital increase counts only the increase, on its own date; funds in place count in their month.
- 到资率 = cumulative funds in place ÷ (协议投资额 + capital increases), both up to the same date.
- 注册率/开工率/投产率 = the share of the period's signed projects that had reached the milestone by
  the period's end; 到资率 over the same projects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable, Mapping

from crm.pipeline.lifecycle import DUE_COLUMNS, MILESTONE_COLUMNS, RATE_MILESTONES, counts_in_rates, reached

ZERO = Decimal(0)
CENT = Decimal("0.01")
# Funds are "behind plan" only when the actual share trails the straight-line plan by more than this.
FUNDS_BEHIND_TOLERANCE = 0.10
FUNDS_RATE_LABEL = "到资率"
FUNDS_RATE_NOTE = "到资率 = 累计到资 ÷（协议投资额 + 增资），均计至统计截止日"


def share(part, whole) -> float | None:
    """part ÷ whole as a float, None when there is nothing to divide by."""
    return float(Decimal(part) / Decimal(whole)) if whole else None


def committed(contract_investment, increases) -> Decimal:
    """协议投资额 plus capital increases (万元)."""
    return Decimal(contract_investment or 0) + Decimal(increases or 0)


def funds_rate(funds, contract_investment, increases) -> float | None:
    """到资率 = cumulative funds ÷ (协议投资额 + increases), the caller passing both up to one date."""
    return share(funds or 0, committed(contract_investment, increases))


def investment_per_mu(contract_investment, land_area) -> Decimal | None:
    """亩均投资强度 (万元/亩) = contracted investment ÷ land."""
    if not contract_investment or not land_area:
        return None
    return (Decimal(contract_investment) / Decimal(land_area)).quantize(CENT)


def as_of_day(month_end: date, today: date) -> date:
    """统计截至: the month's last day, or today while the month is still running (never a future day)."""
    return min(month_end, today)


def in_period(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def funds_plan_share(signed_date: date | None, due_production: date | None, due_full_production: date | None,
                     as_of: date) -> float | None:
    """The share of the commitment a straight-line plan expects in place by ``as_of``: 0 at signing,
    100% at the agreed date for full production (or for production, if that is all there is)."""
    end = due_full_production or due_production
    if signed_date is None or end is None or end <= signed_date:
        return None
    elapsed = (as_of - signed_date).days / (end - signed_date).days
    return max(0.0, min(1.0, elapsed))


def funds_behind(actual: float | None, expected: float | None, tolerance: float = FUNDS_BEHIND_TOLERANCE) -> bool:
    """Behind plan: something was expected by now, and the actual share trails it by more than ``tolerance``."""
    return bool(expected) and actual is not None and actual < expected - tolerance


def funds_behind_message(actual: float, expected: float) -> str:
    return f"到资进度落后：按约定进度应达 {expected:.0%}，实际 {actual:.0%}"


def overdue_milestones(dates: Mapping[str, date | None], dues: Mapping[str, date | None], stage: str,
                       as_of: date) -> list[str]:
    """超期未注册/未开工/未投产/未达产: past the agreed date (before ``as_of``) and not reached by ``as_of``."""
    return [f"超期未{milestone}" for milestone in DUE_COLUMNS
            if dues.get(milestone) and dues[milestone] < as_of and not reached(milestone, stage, dates, as_of)]


def due_date_problems(signed_date: date | None, dues: Mapping[str, date | None]) -> list[tuple[str, str]]:
    """Agreed dates in order from the signing date on: (field, message) for each out of order.

    Each message names the two dates it compares: "约定开工日期（2026-03-01）不能早于约定注册日期（2026-04-01）".
    """
    problems = []
    previous, previous_label = signed_date, "签约日期"
    for milestone, column in DUE_COLUMNS.items():
        due = dues.get(milestone)
        if due is None:
            continue
        label = f"约定{milestone}日期"
        if previous is not None and due < previous:
            problems.append((column, f"{label}（{due.isoformat()}）不能早于{previous_label}（{previous.isoformat()}）"))
            continue
        previous, previous_label = due, label
    return problems


@dataclass(frozen=True)
class ProjectPeriod:
    """One project's facts for one period: stage, milestone dates, 协议投资额, and its funds and capital
    increases summed by date (in the period; from the start up to the period's end). Amounts in 万元."""

    stage: str
    contract_investment: Decimal | None
    dates: Mapping[str, date | None]  # milestone stage → date reached
    funds_in_period: Decimal = ZERO
    funds_to_end: Decimal = ZERO
    increases_in_period: Decimal = ZERO
    increases_to_end: Decimal = ZERO

    @property
    def signed_date(self) -> date | None:
        return self.dates.get("签约")

    @property
    def counts(self) -> bool:
        return counts_in_rates(self.stage, self.signed_date)


@dataclass(frozen=True)
class ProjectFacts:
    """One project's dated facts (funds by month, increases by date), for computing any period from scratch."""

    stage: str
    contract_investment: Decimal | None
    dates: Mapping[str, date | None]
    funds: tuple[tuple[date, Decimal], ...] = ()
    increases: tuple[tuple[date, Decimal], ...] = ()

    def period(self, start: date, end: date) -> ProjectPeriod:
        return ProjectPeriod(
            stage=self.stage, contract_investment=self.contract_investment, dates=self.dates,
            funds_in_period=sum((a for d, a in self.funds if start <= d <= end), ZERO),
            funds_to_end=sum((a for d, a in self.funds if d <= end), ZERO),
            increases_in_period=sum((a for d, a in self.increases if start <= d <= end), ZERO),
            increases_to_end=sum((a for d, a in self.increases if d <= end), ZERO))


@dataclass
class PeriodFigures:
    """The ledger's summary for one period, as its 汇总 sheet and the dashboard show it."""

    signed: int = 0  # projects first signed in the period
    contract_investment: Decimal = ZERO  # 协议投资额 of those
    increases: Decimal = ZERO  # capital increases dated in the period (any counting project)
    funds: Decimal = ZERO  # funds in place booked in the period (any counting project)
    funds_to_date: Decimal = ZERO  # cumulative funds of the period's signed projects, to the period's end
    committed: Decimal = ZERO  # their 协议投资额 + increases, to the period's end
    reached: dict[str, int] = field(default_factory=dict)  # rate key → projects that reached it

    @property
    def signed_amount(self) -> Decimal:
        """新签约额: first signings plus capital increases in the period."""
        return self.contract_investment + self.increases

    def rate(self, key: str) -> float | None:
        if key == "funds_rate":
            return share(self.funds_to_date, self.committed)
        return share(self.reached.get(key, 0), self.signed)

    def as_dict(self) -> dict:
        return {"signed": self.signed, "contract_investment": self.contract_investment,
                "increases": self.increases, "signed_amount": self.signed_amount, "funds": self.funds,
                "funds_to_date": self.funds_to_date, "committed": self.committed,
                **{key: self.rate(key) for key in (*RATE_MILESTONES, "funds_rate")}}


def period_figures(projects: Iterable[ProjectPeriod], start: date, end: date) -> PeriodFigures:
    """The summary for ``start``–``end``, each fact counted by its own date and never a later one.

    ``projects`` carry their amounts already summed for this period (``ProjectFacts.period``, or the
    ledger's grouped query).
    """
    result = PeriodFigures(reached={key: 0 for key in RATE_MILESTONES})
    for project in projects:
        if not project.counts or project.signed_date > end:
            continue
        result.increases += project.increases_in_period
        result.funds += project.funds_in_period
        if not in_period(project.signed_date, start, end):
            continue
        result.signed += 1
        result.contract_investment += Decimal(project.contract_investment or 0)
        result.funds_to_date += project.funds_to_end
        result.committed += committed(project.contract_investment, project.increases_to_end)
        for key, milestone in RATE_MILESTONES.items():
            if reached(milestone, project.stage, project.dates, end):
                result.reached[key] += 1
    return result


def month_ends(year: int) -> list[tuple[int, date, date]]:
    """(month, first day, last day) for each month of ``year``."""
    months = []
    for month in range(1, 13):
        start = date(year, month, 1)
        end = (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)
        months.append((month, start, end))
    return months


def signings_by_month(projects: Iterable[ProjectPeriod], increases: Iterable[tuple[date, Decimal]],
                      year: int) -> list[dict]:
    """Per month of ``year``: projects first signed, their 协议投资额, and capital increases dated in it —
    the same counts as ``period_figures`` for that month. ``increases`` are (date, amount) of counting
    projects."""
    projects = [p for p in projects if p.counts]
    increases = list(increases)
    result = []
    for month, start, end in month_ends(year):
        signed = [p for p in projects if in_period(p.signed_date, start, end)]
        result.append({"month": month, "count": len(signed),
                       "amount": sum((Decimal(p.contract_investment or 0) for p in signed), ZERO),
                       "increase": sum((a for d, a in increases if start <= d <= end), ZERO)})
    return result


def milestone_dates(record) -> dict[str, date | None]:
    """The milestone dates of a project-like record (a model or a row with the same attribute names)."""
    return {stage: getattr(record, column) for stage, column in MILESTONE_COLUMNS.items()}


def due_dates(record) -> dict[str, date | None]:
    return {stage: getattr(record, column) for stage, column in DUE_COLUMNS.items()}
