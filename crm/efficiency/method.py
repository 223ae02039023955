"""亩均效益 evaluation: the indicators, the zone's method and the A/B/C/D classes. Pure.

``evaluate(firms, method=None)`` is the contract other tools call::

    firms = {17: {"land_mu": 20, "tax": 400, "revenue": 8000, ...}, ...}
    evaluate(firms)  # -> [{"id", "score", "klass", "rank", "points", "values", "missing", "small"}, ...]

Figures (keys of a firm's dict; a key left out, or None, is a missing figure):

========================  ==============================  =========
key                       figure                          unit
========================  ==============================  =========
``land_mu``               用地面积                          亩
``tax``                   税收（实际入库税金）               万元
``revenue``               营业收入（销售收入）               万元
``value_added``           工业增加值                        万元
``energy_tce``            综合能耗                          吨标煤
``electricity_kwh``       用电量                            千瓦时
``emissions_t``           主要污染物排放量（COD、氨氮、SO₂、NOx 合计） 吨
``water_t``               用水量                            吨
``rd``                    R&D 经费支出                      万元
``employees``             年均职工人数                      人
========================  ==============================  =========

Indicators (``INDICATORS``), each a ratio of two figures:

- 亩均税收 = 税收 ÷ 用地面积, 万元/亩; 亩均销售收入 = 营业收入 ÷ 用地面积, 万元/亩;
- 单位能耗增加值 = 工业增加值 ÷ 综合能耗, 万元/吨标煤;
- 单位排放增加值 = 工业增加值 ÷ 主要污染物排放量, 万元/吨;
- 单位用水增加值 = 工业增加值 ÷ (用水量 ÷ 10⁴), 万元/万吨;
- 全员劳动生产率 = 工业增加值 ÷ 年均职工人数, 万元/人·年;
- 单位电耗税收 = 税收 ÷ (用电量 ÷ 10⁴), 万元/万千瓦时;
- R&D 经费投入强度 = R&D 经费 ÷ 营业收入 × 100, % (offered to zones, not in the default).

The score is the sum over the method's indicators of value ÷ benchmark × weight, each indicator's
points floored at 0 and, when the indicator has a ``cap``, capped there; points are rounded to 0.01
and the score is the sum of the rounded points (so a page's columns add up to its total). A firm
missing a figure an indicator needs scores 0 on it and its record lists the figure in ``missing``.
A zero denominator with a positive numerator (no emissions, no water drawn) is the best there is:
the indicator's cap, or its weight when it has none. A firm whose 用地面积 is missing is evaluated
with the full method (it cannot be placed below the small-firm threshold) and scores 0 on the
land indicators.

Classes: by share of the ranked firms (default A 25%, B 45%, C 25%, D 5%): the firm at rank i of n
takes the first class whose cumulative share × n, rounded half up to whole firms, reaches i (of 5
firms: A the first, 1.25 → 1; B to 3.5 → 4; C to 4.75 → 5; D none, as 5% of 5 is a quarter of a
firm); firms with equal scores take the class of the best placed of them. Or by score thresholds (``{"by": "score", "thresholds": {"A": 90, "B": 70,
"C": 50}}``): the first class whose threshold the score reaches, else D.

The default method (``DEFAULT_METHOD``) is 临海市 (浙江台州)'s published 工业企业亩均效益综合评价
for firms on 3 亩 or more — 亩均税收 40 (15 万元/亩), 亩均销售收入 10 (300 万元/亩), 单位能耗增加值 20
(3 万元/吨标煤), 单位排放增加值 15, 单位用水增加值 5, 全员劳动生产率 10 (15 万元/人·年) — and below
3 亩 亩均税收 50, 亩均销售收入 20, 单位电耗税收 30, as the issue quotes it. Three benchmarks are not in
that text and no published figure for them was found in the reference corpora searched; they are
our choice, to be replaced by each zone (Zhejiang counties usually set a benchmark to the county's
own average of the year before):

- 单位排放增加值 1000 万元/吨: a firm at the other benchmarks (about 5000 万元 of 工业增加值 on 20 亩)
  emitting 5 吨 of the four main pollutants;
- 单位用水增加值 500 万元/万吨: 20 m³ of water per 万元 of 工业增加值, between Zhejiang's (about 13)
  and the national (about 30) industrial water intensity of the early 2020s;
- 单位电耗税收 0.5 万元/万千瓦时 (0.5 元 of tax per kWh), below 3 亩 and with the benchmark 亩均税收
  and 亩均销售收入 of the full method.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FIGURES = ("land_mu", "tax", "revenue", "value_added", "energy_tce", "electricity_kwh", "emissions_t",
           "water_t", "rd", "employees")
FIGURE_LABELS = {
    "land_mu": "用地面积", "tax": "税收", "revenue": "营业收入", "value_added": "工业增加值",
    "energy_tce": "综合能耗", "electricity_kwh": "用电量", "emissions_t": "主要污染物排放量",
    "water_t": "用水量", "rd": "R&D经费", "employees": "年均职工人数",
}
FIGURE_UNITS = {
    "land_mu": "亩", "tax": "万元", "revenue": "万元", "value_added": "万元", "energy_tce": "吨标煤",
    "electricity_kwh": "千瓦时", "emissions_t": "吨", "water_t": "吨", "rd": "万元", "employees": "人",
}
CLASSES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    numerator: str
    denominator: str
    scale: Decimal = Decimal(1)  # the denominator is divided by this (千瓦时 → 万千瓦时)
    times: Decimal = Decimal(1)  # the ratio is multiplied by this (a share → %)


INDICATORS = {i.key: i for i in (
    Indicator("tax_per_mu", "亩均税收", "万元/亩", "tax", "land_mu"),
    Indicator("revenue_per_mu", "亩均销售收入", "万元/亩", "revenue", "land_mu"),
    Indicator("va_per_energy", "单位能耗增加值", "万元/吨标煤", "value_added", "energy_tce"),
    Indicator("va_per_emission", "单位排放增加值", "万元/吨", "value_added", "emissions_t"),
    Indicator("va_per_water", "单位用水增加值", "万元/万吨", "value_added", "water_t", Decimal(10000)),
    Indicator("labour_productivity", "全员劳动生产率", "万元/人·年", "value_added", "employees"),
    Indicator("tax_per_power", "单位电耗税收", "万元/万千瓦时", "tax", "electricity_kwh", Decimal(10000)),
    Indicator("rd_intensity", "R&D经费投入强度", "%", "rd", "revenue", Decimal(1), Decimal(100)),
)}


def _ind(key, weight, benchmark, cap=None):
    return {"key": key, "weight": weight, "benchmark": benchmark, "cap": cap}


DEFAULT_METHOD = {
    "name": "临海市工业企业亩均效益综合评价（默认）",
    "indicators": [
        _ind("tax_per_mu", 40, 15), _ind("revenue_per_mu", 10, 300), _ind("va_per_energy", 20, 3),
        _ind("va_per_emission", 15, 1000), _ind("va_per_water", 5, 500), _ind("labour_productivity", 10, 15),
    ],
    "small": {"below_mu": 3, "indicators": [
        _ind("tax_per_mu", 50, 15), _ind("revenue_per_mu", 20, 300), _ind("tax_per_power", 30, 0.5),
    ]},
    "classes": {"by": "share", "shares": {"A": 25, "B": 45, "C": 25, "D": 5}},
}

CENT = Decimal("0.01")


def default_method() -> dict:
    return copy.deepcopy(DEFAULT_METHOD)


def _number(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def validate_method(method) -> list[str]:
    """What is wrong with ``method`` (Chinese messages), empty when it can be used."""
    problems: list[str] = []
    if not isinstance(method, dict):
        return ["评价方法应为一个对象（JSON {…}）"]

    def indicators(items, where):
        if not isinstance(items, list) or not items:
            problems.append(f"{where}至少需要一项指标")
            return
        seen = set()
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict) or item.get("key") not in INDICATORS:
                problems.append(f"{where}第{n}项指标未知（可用：{'、'.join(INDICATORS)}）")
                continue
            if item["key"] in seen:
                problems.append(f"{where}指标“{INDICATORS[item['key']].label}”重复")
            seen.add(item["key"])
            label = INDICATORS[item["key"]].label
            weight, benchmark = _number(item.get("weight")), _number(item.get("benchmark"))
            if weight is None or weight < 0 or weight > 1000:
                problems.append(f"{where}“{label}”的权重应为 0 至 1000 的数")
            if benchmark is None or benchmark < Decimal("0.0001") or benchmark > 10**9:
                problems.append(f"{where}“{label}”的基准值应为 0.0001 至 10 亿之间的数")
            if item.get("cap") is not None:
                cap = _number(item.get("cap"))
                if cap is None or cap < 0 or cap > 10000:
                    problems.append(f"{where}“{label}”的封顶分应为 0 至 10000 的数或留空")

    indicators(method.get("indicators"), "")
    small = method.get("small")
    if small is not None:
        if not isinstance(small, dict):
            problems.append("小微企业设置应为一个对象")
        else:
            below = _number(small.get("below_mu"))
            if below is None or below <= 0 or below > 10**6:
                problems.append("小微企业的用地面积界限应为大于 0 的亩数")
            indicators(small.get("indicators"), "小于界限的企业：")
    classes = method.get("classes")
    if not isinstance(classes, dict) or classes.get("by") not in ("share", "score"):
        problems.append("分类方式应为按比例（share）或按分数线（score）")
    elif classes["by"] == "share":
        shares = classes.get("shares")
        values = [_number(shares.get(k)) for k in CLASSES] if isinstance(shares, dict) else [None]
        if any(v is None or v < 0 for v in values):
            problems.append("A、B、C、D 四类的比例都应为不小于 0 的百分数")
        elif sum(values) != 100:
            problems.append("A、B、C、D 四类的比例之和应为 100%")
    else:
        thresholds = classes.get("thresholds")
        values = [_number(thresholds.get(k)) for k in CLASSES[:3]] if isinstance(thresholds, dict) else [None]
        if any(v is None for v in values):
            problems.append("按分数线分类需给出 A、B、C 三类的最低分")
        elif not values[0] >= values[1] >= values[2]:
            problems.append("分数线应为 A ≥ B ≥ C")
    return problems


def _value(indicator: Indicator, figures: dict) -> tuple[Decimal | None, bool]:
    """The indicator's value for these figures and whether its denominator was zero."""
    top, bottom = _number(figures.get(indicator.numerator)), _number(figures.get(indicator.denominator))
    if top is None or bottom is None:
        return None, False
    if bottom == 0:
        return None, True
    return top / (bottom / indicator.scale) * indicator.times, False


def _points(item: dict, figures: dict) -> tuple[Decimal, Decimal | None, list[str]]:
    indicator = INDICATORS[item["key"]]
    weight, benchmark = _number(item["weight"]), _number(item["benchmark"])
    cap = _number(item.get("cap"))
    missing = [f for f in (indicator.numerator, indicator.denominator) if _number(figures.get(f)) is None]
    if missing:
        return CENT * 0, None, missing
    value, zero_below = _value(indicator, figures)
    if zero_below:
        top = _number(figures.get(indicator.numerator))
        points = (cap if cap is not None else weight) if top > 0 else Decimal(0)
    else:
        points = max(value / benchmark * weight, Decimal(0))
        if cap is not None:
            points = min(points, cap)
    return points.quantize(CENT, ROUND_HALF_UP), value, []


def _is_small(method: dict, figures: dict) -> bool:
    small = method.get("small")
    land = _number(figures.get("land_mu"))
    return bool(small) and land is not None and land < _number(small["below_mu"])


def score_firm(figures: dict, method: dict) -> dict:
    """One firm's points, values and missing figures under ``method`` (no class: that needs the others)."""
    small = _is_small(method, figures)
    items = method["small"]["indicators"] if small else method["indicators"]
    points, values, missing = {}, {}, set()
    for item in items:
        p, v, m = _points(item, figures)
        points[item["key"]], values[item["key"]] = p, (v.quantize(Decimal("0.0001"), ROUND_HALF_UP) if v is not None else None)
        missing.update(m)
    if _number(figures.get("land_mu")) is None:
        missing.add("land_mu")
    return {"score": sum(points.values(), Decimal(0)), "points": points, "values": values,
            "missing": [f for f in FIGURES if f in missing], "small": small}


def _classes_by_share(records: list[dict], shares: dict) -> None:
    n = len(records)
    bounds, total = [], Decimal(0)
    for klass in CLASSES:
        total += _number(shares[klass])
        bounds.append((klass, (total * n / 100).to_integral_value(ROUND_HALF_UP)))
    previous = None
    for rank, record in enumerate(records, 1):
        if previous is not None and previous["score"] == record["score"]:
            record["klass"] = previous["klass"]
        else:
            record["klass"] = next((k for k, bound in bounds if rank <= bound), "D")
        previous = record


def _classes_by_score(records: list[dict], thresholds: dict) -> None:
    for record in records:
        record["klass"] = next((k for k in CLASSES[:3] if record["score"] >= _number(thresholds[k])), "D")


def evaluate(firms: dict, method: dict | None = None) -> list[dict]:
    """Score and class every firm of ``firms`` (id → figures) under ``method`` (the default when None).

    Returns one record per firm, sorted by score descending and then by id: ``id``, ``rank`` (1…n),
    ``score`` and ``points`` (indicator key → points, Decimal to 0.01), ``values`` (indicator key →
    value in the indicator's unit, None when a figure is missing), ``missing`` (figure keys, in
    ``FIGURES`` order), ``small`` (evaluated on the small-firm indicators) and ``klass`` ("A"–"D").
    Raises ValueError on a method ``validate_method`` refuses.
    """
    method = default_method() if method is None else method
    problems = validate_method(method)
    if problems:
        raise ValueError("；".join(problems))
    records = [{"id": firm_id, **score_firm(figures or {}, method)} for firm_id, figures in firms.items()]
    records.sort(key=lambda r: (-r["score"], _sort_id(r["id"])))
    for rank, record in enumerate(records, 1):
        record["rank"] = rank
    classes = method["classes"]
    if classes["by"] == "share":
        _classes_by_share(records, classes["shares"])
    else:
        _classes_by_score(records, classes["thresholds"])
    return records


def _sort_id(firm_id):
    return (0, firm_id, "") if isinstance(firm_id, int) else (1, 0, str(firm_id))


def indicator_keys(method: dict) -> list[str]:
    """Every indicator the method uses, the full method's first: the columns of a ranking."""
    keys = [item["key"] for item in method["indicators"]]
    for item in (method.get("small") or {}).get("indicators", []):
        if item["key"] not in keys:
            keys.append(item["key"])
    return keys


def class_change(before: str | None, after: str) -> int | None:
    """Classes moved up (+) or down (−) against last year; None when the firm was not evaluated then."""
    if before not in CLASSES:
        return None
    return CLASSES.index(before) - CLASSES.index(after)
