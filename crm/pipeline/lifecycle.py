"""The project lifecycle as pure rules: stages, which changes are allowed, what each requires, which
milestone dates a forward move sets and what a rollback clears. No Flask, no database.

The stage form, the board, the import, the import revert and first-report rulings all ask
``plan_change``; the service applies the plan to the project and records the event.

Invariant kept by these rules: a milestone date is set only on a project that has reached that
milestone, and a rollback clears the dates of every milestone past the new stage (the audit log and
the stage history keep them). So "reached 注册 by a date" is one question with one answer everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Mapping

LEAD, SIGNED, ON_HOLD, DROPPED = "线索", "签约", "搁置", "终止"
# The pipeline in order; 搁置 (on hold) and 终止 (dropped) stand beside it.
PIPELINE_STAGES = ("线索", "接洽", "考察", "洽谈", "签约", "注册", "开工", "投产", "达产")
SIDE_STAGES = (ON_HOLD, DROPPED)
STAGES = PIPELINE_STAGES + SIDE_STAGES
SIGNED_STAGES = PIPELINE_STAGES[PIPELINE_STAGES.index(SIGNED):]
ACTIVE_LEAD_STAGES = PIPELINE_STAGES[:PIPELINE_STAGES.index(SIGNED)]
# Stages shown in the 在谈 (negotiation) sheet of the ledger: active leads and those on hold.
NEGOTIATION_STAGES = ACTIVE_LEAD_STAGES + (ON_HOLD,)
# The column holding the date a project reached each milestone, and (from 注册 on) the contract's due date.
MILESTONE_COLUMNS = {
    "签约": "signed_date",
    "注册": "registered_date",
    "开工": "started_date",
    "投产": "production_date",
    "达产": "full_production_date",
}
MILESTONE_STAGES = tuple(MILESTONE_COLUMNS)
DUE_COLUMNS = {"注册": "due_registered", "开工": "due_started", "投产": "due_production", "达产": "due_full_production"}
# Milestones whose achievement the rates count: 注册率, 开工率, 投产率.
RATE_MILESTONES = {"register_rate": "注册", "start_rate": "开工", "production_rate": "投产"}


class LifecycleError(ValueError):
    """A stage change the rules refuse, with the Chinese message and the form field it belongs to."""

    def __init__(self, message: str, field: str = "stage"):
        super().__init__(message)
        self.message = message
        self.field = field


def stage_index(stage: str) -> int:
    """Position on the pipeline; -1 for 搁置 and 终止."""
    return PIPELINE_STAGES.index(stage) if stage in PIPELINE_STAGES else -1


def next_stage(stage: str) -> str | None:
    """The stage a project at ``stage`` would be advanced to (None at 达产, 搁置 and 终止)."""
    i = stage_index(stage)
    return PIPELINE_STAGES[i + 1] if 0 <= i < len(PIPELINE_STAGES) - 1 else None


def is_signed_stage(stage: str) -> bool:
    return stage in SIGNED_STAGES


def direction(from_stage: str, to_stage: str) -> str:
    """推进 (forward), 退回 (back along the pipeline), 搁置/终止 (aside) or 重启 (out of 搁置/终止)."""
    if to_stage in SIDE_STAGES:
        return to_stage
    if from_stage in SIDE_STAGES:
        return "重启"
    return "推进" if stage_index(to_stage) > stage_index(from_stage) else "退回"


@dataclass(frozen=True)
class ProjectFacts:
    """What the rules need to know about a project: its stage, milestone dates and contract amount."""

    stage: str
    dates: Mapping[str, date | None]  # milestone stage → the date it was reached
    contract_investment: Decimal | None = None
    has_funds: bool = False  # funds in place or capital increases recorded

    @classmethod
    def of(cls, project, has_funds: bool = False) -> ProjectFacts:
        return cls(stage=project.stage,
                   dates={stage: getattr(project, column) for stage, column in MILESTONE_COLUMNS.items()},
                   contract_investment=project.contract_investment, has_funds=has_funds)


@dataclass(frozen=True)
class StageChange:
    """What a permitted change does: the new stage, the dates it sets and clears, the contract amount."""

    from_stage: str
    to_stage: str
    direction: str
    set_dates: dict[str, date] = field(default_factory=dict)  # date column → value
    cleared_dates: dict[str, date] = field(default_factory=dict)  # date column → the value it had
    contract_investment: Decimal | None = None  # set at a first signing
    clears_contract: bool = False  # back before 签约: the signing and its 协议投资额 are undone

    @property
    def verb(self) -> str:
        return {"推进": "推进到", "退回": "退回到", "重启": "重新启动到"}.get(self.direction, "转为")

    def message(self) -> str:
        """The Chinese confirmation shown after the change."""
        text = f"项目已{self.verb}“{self.to_stage}”"
        if self.cleared_dates:
            text += "，已清除" + "、".join(_stage_of_column(c) + "日期" for c in self.cleared_dates)
        if self.clears_contract:
            text += "和协议投资额"
        return text


def _stage_of_column(column: str) -> str:
    return next(stage for stage, col in MILESTONE_COLUMNS.items() if col == column)


def plan_change(facts: ProjectFacts, to_stage: str, *, today: date, note: str = "", on_date: date | None = None,
                contract_investment: Decimal | None = None, undated: bool = False) -> StageChange:
    """Check a stage change against the pipeline's rules and say what it does; raises LifecycleError.

    ``on_date`` is the date of the milestone reached (default today). ``undated`` records a milestone
    the import knows was reached without knowing when (the date stays empty, never invented).
    """
    from_stage = facts.stage
    note = (note or "").strip()
    if to_stage not in STAGES:
        raise LifecycleError(f"未知阶段：{to_stage}")
    if to_stage == from_stage:
        raise LifecycleError(f"项目已处于“{to_stage}”阶段")
    how = direction(from_stage, to_stage)
    if to_stage in SIDE_STAGES and not note:
        raise LifecycleError(f"转为“{to_stage}”必须填写原因", "note")
    if from_stage == DROPPED and not note:
        raise LifecycleError("重新启动已终止的项目必须填写原因", "note")
    if how == "退回" and not note:
        raise LifecycleError("阶段退回必须填写原因", "note")

    set_dates: dict[str, date] = {}
    cleared: dict[str, date] = {}
    amount = None
    signed_on = facts.dates.get(SIGNED)
    if to_stage in PIPELINE_STAGES:
        # Everything past the new stage is undone: its dates leave the project (history keeps them).
        for stage, column in MILESTONE_COLUMNS.items():
            if stage_index(stage) > stage_index(to_stage) and facts.dates.get(stage):
                cleared[column] = facts.dates[stage]
        if MILESTONE_COLUMNS[SIGNED] in cleared and facts.has_funds:
            raise LifecycleError("该项目已登记到资或增资，不能退回到签约之前；请先删除到资和增资记录", "stage")
    if to_stage in MILESTONE_COLUMNS:
        day = None if undated else (on_date or today)
        if day is not None and day > today:
            raise LifecycleError(f"{to_stage}日期 {day.isoformat()} 不能晚于今天 {today.isoformat()}", "on_date")
        if to_stage == SIGNED:
            if signed_on is None:
                if contract_investment is None or Decimal(contract_investment) <= 0:
                    raise LifecycleError("签约须填写协议投资额（万元，大于 0）", "contract_investment")
                if day is None:
                    raise LifecycleError("签约须填写签约日期", "on_date")
                amount = Decimal(contract_investment)
                set_dates[MILESTONE_COLUMNS[SIGNED]] = day
            # A project counts once, at its first signing: back to 签约 from 搁置 keeps that date and amount.
        else:
            if signed_on is None:
                raise LifecycleError("项目尚未签约，请先推进到“签约”并填写签约日期和协议投资额", "stage")
            if day is not None:
                earlier = [(stage, d) for stage, d in facts.dates.items()
                           if d and stage_index(stage) < stage_index(to_stage)
                           and MILESTONE_COLUMNS[stage] not in cleared]
                if earlier:
                    stage, latest = max(earlier, key=lambda item: item[1])
                    if day < latest:
                        raise LifecycleError(
                            f"{to_stage}日期 {day.isoformat()} 不能早于{stage}日期 {latest.isoformat()}", "on_date")
                set_dates[MILESTONE_COLUMNS[to_stage]] = day
    clears_contract = MILESTONE_COLUMNS[SIGNED] in cleared and facts.contract_investment is not None
    return StageChange(from_stage, to_stage, how, set_dates, cleared, amount, clears_contract)


def reached(stage: str, stage_now: str, dates: Mapping[str, date | None], as_of: date | None = None) -> bool:
    """Whether a project had reached milestone ``stage`` by ``as_of`` (None: by now).

    By its date, or a later milestone's date, on or before ``as_of``. A milestone reached without a
    known date (an import's undated row) counts as reached whatever the day, as long as the project
    stands at or past it on the pipeline.
    """
    later = [s for s in MILESTONE_STAGES if stage_index(s) >= stage_index(stage)]
    known = [dates.get(s) for s in later if dates.get(s)]
    if known:
        return as_of is None or min(known) <= as_of
    return stage_index(stage_now) >= stage_index(stage)


def counts_in_rates(stage_now: str, signed_date: date | None) -> bool:
    """A project counts in the signed figures once it has a first signing date and is not 终止."""
    return signed_date is not None and stage_now != DROPPED
