"""The evaluation-figures import's columns: headers and their synonyms, matched with the import's
``header_key``; each figure parsed with the import's cell parsers. Pure."""
from __future__ import annotations

from decimal import Decimal

from crm import fields
import crm.imports.reading as reading
from crm.imports.reading import ValueProblem

IDENTITY = {"uscc": ("统一社会信用代码", "信用代码", "社会信用代码"), "name": ("企业名称", "企业", "单位名称", "名称")}
HEADERS = {
    "land_mu": ("用地面积", "用地", "占地面积", "土地面积", "用地亩数"),
    "tax": ("税收", "实缴税金", "税收实际贡献", "入库税金", "税收总额"),
    "revenue": ("营业收入", "销售收入", "主营业务收入"),
    "value_added": ("工业增加值", "增加值"),
    "energy_tce": ("综合能耗", "能耗", "能源消费量"),
    "electricity_kwh": ("用电量", "总用电量", "电耗"),
    "emissions_t": ("主要污染物排放", "主要污染物排放量", "污染物排放量", "排放量"),
    "water_t": ("用水量", "总用水量"),
    "rd": ("R&D经费", "研发经费", "R&D经费支出", "研发费用"),
    "employees": ("年均职工人数", "职工人数", "从业人员", "年平均职工人数"),
}
MAX_QUANTITY = Decimal(10) ** 12  # 吨, 千瓦时, 吨标煤: above any one firm
# The largest figure accepted, by key (the form, the service and the import all bound by it).
MAX_FIGURE = {"land_mu": fields.MAX_AREA, "tax": fields.MAX_ENTERPRISE_AMOUNT, "revenue": fields.MAX_ENTERPRISE_AMOUNT,
              "value_added": fields.MAX_ENTERPRISE_AMOUNT, "rd": fields.MAX_ENTERPRISE_AMOUNT,
              "energy_tce": MAX_QUANTITY, "electricity_kwh": MAX_QUANTITY, "emissions_t": MAX_QUANTITY,
              "water_t": MAX_QUANTITY, "employees": Decimal(fields.MAX_COUNT)}


def mapping(headers: list[str]) -> dict[int, str]:
    """{column index: key} for the headers recognised (an exact synonym; the leftmost column wins)."""
    wanted = {reading.header_key(s): key for key, synonyms in {**IDENTITY, **HEADERS}.items() for s in synonyms}
    found: dict[int, str] = {}
    for index, header in enumerate(headers):
        key = wanted.get(reading.header_key(header))
        if key and key not in found.values():
            found[index] = key
    return found


def parse_quantity(value) -> Decimal | None:
    """吨, 吨标煤, 千瓦时: a number not below 0."""
    if reading._is_blank(value):
        return None
    number, unit = reading._to_decimal(value, "数量")
    if unit is not None:
        raise ValueProblem(f"请只填数字（单位见表头），不是“{value}”")
    if number < 0:
        raise ValueProblem("不能为负数")
    if number > MAX_QUANTITY:
        raise ValueProblem("数值过大，请检查单位")
    return number.quantize(Decimal("0.001"))


def parse(key: str, value):
    """A figure's cell: ``ValueProblem`` (Chinese) when it is impossible, None when blank."""
    if key == "land_mu":
        return reading.parse_area(value)
    if key in ("tax", "revenue", "value_added", "rd"):
        return reading.parse_amount(value, maximum=fields.MAX_ENTERPRISE_AMOUNT)
    if key == "employees":
        return reading.parse_count(value)
    return parse_quantity(value)
