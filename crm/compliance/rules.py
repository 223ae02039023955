"""履约监管 and 闲置土地 as pure rules: the gap between each agreed figure and the actual one, and the
idle-land flags. Plain values in (with an ``as_of`` date), records out; no Flask, no database.

The idle-land rules are the ones the zones' land contracts cite (《闲置土地处置办法》, 国土资源部令第53号):
- 满一年未动工: construction has not started (no 开工 by ``as_of``) one full year after the agreed start
  date — flagged from the anniversary on (a 29 February start: 1 March of the next year).
- 开发不足且满一年无进展: construction has started, but the developed area is less than one third of
  the land, or the funds in place are less than 25% of the total investment (协议投资额 + 增资), and the
  last progress (a funds entry's month, a milestone date, a change of the developed area) is a full
  year or more before ``as_of``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable, Mapping

RULE_NOT_STARTED = "满一年未动工"
RULE_STALLED = "开发不足且满一年无进展"
CENT = Decimal("0.01")


def one_year_after(day: date) -> date:
    """The same day a year later; 29 February → 1 March."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


def _amount(value) -> str:
    return f"{Decimal(value or 0).quantize(CENT)}"


@dataclass(frozen=True)
class Flag:
    """One idle-land finding: the rule, its Chinese message (with the figures), and the figures."""

    rule: str
    message: str
    figures: Mapping[str, object] = field(default_factory=dict)


def idle_land_flags(*, agreed_start: date | None, started: date | None, land_area, developed_area, invested,
                    total_investment, progress_dates: Iterable[date | None], as_of: date,
                    started_undated: bool = False) -> list[Flag]:
    """The idle-land flags of one signed project as of ``as_of``.

    ``started`` is the 开工 date (None: not started); ``developed_area`` the latest developed area (亩);
    ``invested`` the funds in place and ``total_investment`` 协议投资额 + 增资 (万元), both to ``as_of``;
    ``progress_dates`` every dated sign of progress (milestones, funds months, developed-area changes).
    ``started_undated``: the project is past 开工 without a known date (a ledger import); it has started.
    """
    flags: list[Flag] = []
    has_started = started_undated or (started is not None and started <= as_of)
    if not has_started:
        if agreed_start is not None and as_of >= one_year_after(agreed_start):
            flags.append(Flag(RULE_NOT_STARTED,
                              f"约定开工日期 {agreed_start.isoformat()}，至 {as_of.isoformat()} 已满一年"
                              f"（{one_year_after(agreed_start).isoformat()} 起）仍未动工",
                              {"agreed_start": agreed_start, "as_of": as_of}))
        return flags
    area = Decimal(land_area or 0)
    developed = Decimal(developed_area or 0)
    total = Decimal(total_investment or 0)
    funds = Decimal(invested or 0)
    short = []
    if area > 0 and developed * 3 < area:
        short.append(f"已开发 {_amount(developed)} 亩，不足用地 {_amount(area)} 亩的三分之一")
    if total > 0 and funds * 4 < total:
        short.append(f"到资 {_amount(funds)} 万元，占总投资 {_amount(total)} 万元的 "
                     f"{float(funds / total):.1%}，不足 25%")
    if not short:
        return flags
    last = max((d for d in (started, *progress_dates) if d is not None and d <= as_of), default=None)
    if last is not None and as_of >= one_year_after(last):
        flags.append(Flag(RULE_STALLED,
                          f"已开工（{started.isoformat() if started else '日期未记录'}），{'；'.join(short)}；最近一次进展 {last.isoformat()}，"
                          f"至 {as_of.isoformat()} 已满一年无进展",
                          {"started": started, "land_area": area, "developed_area": developed, "invested": funds,
                           "total_investment": total, "last_progress": last, "as_of": as_of}))
    return flags


@dataclass(frozen=True)
class Gap:
    """One agreed figure against the actual one. ``gap``: days late for a date (positive = late; for a
    milestone not reached, days past the agreed date as of the day), actual − agreed for an amount."""

    label: str
    unit: str
    agreed: object
    actual: object
    gap: object
    late: bool = False  # a date missed, or an amount short of the agreement

    @property
    def message(self) -> str:
        if self.gap is None:
            return ""
        if self.unit == "天":
            if self.actual is None:
                return f"超期 {self.gap} 天未{self.label.removesuffix('日期')}"
            return f"晚 {self.gap} 天" if self.gap > 0 else ("按期" if self.gap == 0 else f"提前 {-self.gap} 天")
        return f"差 {_amount(-self.gap)} {self.unit}" if self.gap < 0 else f"超出 {_amount(self.gap)} {self.unit}"


MILESTONES = ("注册", "开工", "投产", "达产")


def date_gap(label: str, agreed: date | None, actual: date | None, as_of: date) -> Gap:
    if agreed is None:
        return Gap(label, "天", None, actual, None)
    if actual is not None and actual <= as_of:
        days = (actual - agreed).days
        return Gap(label, "天", agreed, actual, days, late=days > 0)
    days = (as_of - agreed).days
    return Gap(label, "天", agreed, None, days if days > 0 else None, late=days > 0)


def amount_gap(label: str, unit: str, agreed, actual) -> Gap:
    if agreed is None or actual is None:
        return Gap(label, unit, agreed, actual, None)
    gap = Decimal(actual) - Decimal(agreed)
    return Gap(label, unit, agreed, actual, gap, late=gap < 0)


def contract_gaps(*, dues: Mapping[str, date | None], dates: Mapping[str, date | None], committed, invested,
                  agreed_output, actual_output, agreed_tax, actual_tax, agreed_jobs, actual_jobs,
                  as_of: date) -> list[Gap]:
    """Agreed against actual: the four milestone dates, investment (协议投资额 + 增资 against funds in
    place), yearly output, tax and jobs (the latest recorded year)."""
    gaps = [date_gap(f"{milestone}日期", dues.get(milestone), dates.get(milestone), as_of)
            for milestone in MILESTONES]
    gaps.append(amount_gap("投资额", "万元", committed, invested))
    gaps.append(amount_gap("年产值", "万元", agreed_output, actual_output))
    gaps.append(amount_gap("年税收", "万元", agreed_tax, actual_tax))
    gaps.append(amount_gap("就业人数", "人", agreed_jobs, actual_jobs))
    return gaps
