"""标准地: a parcel's control indicators, the signing check and the 达产验收 comparison. Pure: plain
values in, records out; no Flask, no database.

Four indicators (控制指标): 固定资产投资强度 (万元/亩), 容积率 and 亩均税收 (万元/亩) must reach the standard;
单位能耗 (吨标煤/万元) must not exceed it. A project on several parcels meets the area-weighted standard
of the per-亩 indicators and of 容积率 (Σ standard × area ÷ Σ area over the parcels that set it) and the
strictest 单位能耗 of its parcels.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

CENT = Decimal("0.01")
PASSED, FAILED = "通过", "未通过"


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    higher_is_better: bool = True
    places: Decimal = CENT

    def text(self, value: Decimal) -> str:
        amount = f"{Decimal(value).quantize(self.places)}"
        return f"{amount} {self.unit}" if self.unit else amount


INDICATORS: tuple[Indicator, ...] = (
    Indicator("investment_intensity", "固定资产投资强度", "万元/亩"),
    Indicator("plot_ratio", "容积率", ""),
    Indicator("tax_per_mu", "亩均税收", "万元/亩"),
    Indicator("energy_per_output", "单位能耗", "吨标煤/万元", higher_is_better=False, places=Decimal("0.0001")),
)
BY_KEY = {i.key: i for i in INDICATORS}


@dataclass(frozen=True)
class ParcelTerms:
    """One parcel's area (亩) and indicators (None where the parcel sets none)."""

    area: Decimal
    investment_intensity: Decimal | None = None
    plot_ratio: Decimal | None = None
    tax_per_mu: Decimal | None = None
    energy_per_output: Decimal | None = None


@dataclass(frozen=True)
class Check:
    """One indicator compared: the standard, the value (None: not given), whether it meets it, the gap
    (value − standard; negative is short for the higher-is-better ones) and the Chinese message."""

    key: str
    label: str
    standard: Decimal
    value: Decimal | None
    ok: bool
    gap: Decimal | None
    message: str


def combined_standard(parcels: Iterable[ParcelTerms]) -> tuple[Decimal, dict[str, Decimal]]:
    """The parcels' total area and the standard each indicator sets for them together."""
    parcels = list(parcels)
    area = sum((Decimal(p.area or 0) for p in parcels), Decimal(0))
    standards: dict[str, Decimal] = {}
    for indicator in INDICATORS:
        rated = [(Decimal(getattr(p, indicator.key)), Decimal(p.area or 0)) for p in parcels
                 if getattr(p, indicator.key) is not None]
        if not rated:
            continue
        if indicator.higher_is_better:
            weight = sum((a for _, a in rated), Decimal(0))
            if weight > 0:
                standards[indicator.key] = (sum((s * a for s, a in rated), Decimal(0)) / weight).quantize(indicator.places)
        else:
            standards[indicator.key] = min(s for s, _ in rated)
    return area, standards


def per_mu(amount, area) -> Decimal | None:
    """An amount (万元) per 亩 of the parcels, None when either is missing."""
    if amount is None or not area:
        return None
    return (Decimal(amount) / Decimal(area)).quantize(CENT)


def compare(standards: Mapping[str, Decimal], values: Mapping[str, Decimal | None], what: str) -> list[Check]:
    """Each indicator with a standard against ``values`` (``what``: 承诺 or 实际)."""
    checks = []
    for indicator in INDICATORS:
        if indicator.key not in standards:
            continue
        standard = Decimal(standards[indicator.key])
        value = values.get(indicator.key)
        if value is None:
            checks.append(Check(indicator.key, indicator.label, standard, None, False, None,
                                f"{indicator.label}：未填写{what}值，标准为 {indicator.text(standard)}"))
            continue
        value = Decimal(value)
        gap = value - standard
        ok = gap >= 0 if indicator.higher_is_better else gap <= 0
        if ok:
            message = f"{indicator.label}：{what} {indicator.text(value)}，达到标准 {indicator.text(standard)}"
        elif indicator.higher_is_better:
            message = (f"{indicator.label}：{what} {indicator.text(value)}，低于标准 {indicator.text(standard)}"
                       f"（差 {indicator.text(-gap)}）")
        else:
            message = (f"{indicator.label}：{what} {indicator.text(value)}，高于标准 {indicator.text(standard)}"
                       f"（超 {indicator.text(gap)}）")
        checks.append(Check(indicator.key, indicator.label, standard, value, ok, gap, message))
    return checks


def signing_warnings(parcels: Iterable[ParcelTerms], contract_investment, annual_tax) -> list[Check]:
    """At signing: the commitments (协议投资额 and 达产年税收, per 亩 of the parcels) against the parcels'
    standards. Returns the checks short of the standard only — each names its indicator and figures.
    容积率 and 单位能耗 are not commitments of the contract; 达产验收 compares them."""
    area, standards = combined_standard(parcels)
    committed = {"investment_intensity": per_mu(contract_investment, area), "tax_per_mu": per_mu(annual_tax, area)}
    wanted = {key: standards[key] for key in committed if key in standards}
    return [check for check in compare(wanted, committed, "承诺") if not check.ok]


@dataclass(frozen=True)
class Acceptance:
    """达产验收: 通过 when every indicator the parcels set is met by the actual figure."""

    area: Decimal
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def result(self) -> str:
        return PASSED if self.passed else FAILED

    @property
    def gaps(self) -> list[str]:
        return [check.message for check in self.checks if not check.ok]


def acceptance(parcels: Iterable[ParcelTerms], *, actual_investment, actual_tax, actual_plot_ratio,
               actual_energy) -> Acceptance:
    """The actual figures at 达产 — investment (累计到资, 万元), yearly tax (万元), 容积率, 单位能耗 —
    against the parcels' standards."""
    area, standards = combined_standard(parcels)
    actual = {"investment_intensity": per_mu(actual_investment, area), "plot_ratio": actual_plot_ratio,
              "tax_per_mu": per_mu(actual_tax, area), "energy_per_output": actual_energy}
    return Acceptance(area=area, checks=tuple(compare(standards, actual, "实际")))
