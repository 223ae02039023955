"""Field labels and units (placeholder until the field table lands)."""
from __future__ import annotations

_HEADERS = {
    "planned_investment": ("计划投资额", "万元"), "contract_investment": ("协议投资额", "万元"),
    "land_area": ("用地", "亩"), "investment_per_mu": ("亩均投资强度", "万元/亩"),
    "annual_output_value": ("达产年产值", "万元"), "annual_tax": ("达产年税收", "万元"), "jobs": ("新增就业", "人"),
    "increases": ("增资", "万元"), "funds_cumulative": ("累计到资", "万元"), "funds_month": ("本月到资", "万元"),
    "committed": ("协议投资额（含增资）", "万元"),
}


def header(key: str) -> str:
    label, unit = _HEADERS[key]
    return f"{label}（{unit}）"
