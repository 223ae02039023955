"""Excel output shared by every export: values safe from formula injection, Chinese-friendly widths."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill
from openpyxl.utils import get_column_letter

# Characters that make a spreadsheet treat a text cell as a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
# openpyxl refuses these control characters; U+FFFE/U+FFFF and lone surrogates make the file unreadable.
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037\ud800-\udfff\ufffe\uffff]")

MONEY_FORMAT = "#,##0.00"
INTEGER_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"


@dataclass(frozen=True)
class CellStyle:
    """The look of a header, title or total cell; None leaves openpyxl's default."""

    font: Font | None = None
    fill: PatternFill | None = None
    border: Border | None = None
    alignment: Alignment | None = None


def safe_value(value):
    """Text without the control characters openpyxl refuses; other types unchanged."""
    if value is None or isinstance(value, (bool, int, float, Decimal, date, datetime)):
        return value
    return _ILLEGAL.sub("", str(value))


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(_FORMULA_START)


def cell(sheet, value, *, number_format: str | None = None, style: CellStyle | None = None):
    """A write-only cell whose text is always data: formula-like text is stored as a quoted string."""
    value = safe_value(value)
    if number_format is None and style is None and not is_formula_like(value):
        return value  # plain text or a number in the default style needs no cell object
    item = WriteOnlyCell(sheet, value=value)
    if is_formula_like(item.value):
        item.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        item.quotePrefix = True  # and Excel shows it as typed, never evaluates it
    if number_format:
        item.number_format = number_format
    if style is not None:
        for attribute in ("font", "alignment", "fill", "border"):
            if getattr(style, attribute, None) is not None:
                setattr(item, attribute, getattr(style, attribute))
    return item


def display_width(value) -> int:
    """Columns sized for Chinese text: a CJK character is about two Latin ones wide."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def set_widths(sheet, widths: list[int], minimum: int = 6, maximum: int = 60) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(minimum, min(maximum, width + 2))
