"""Excel output shared by every export: values safe from formula injection, Chinese-friendly widths.

Exports (the monthly ledger, the gap report) write with XlsxWriter in constant-memory mode through
``Book``/``Sheet`` below: a row goes to the sheet's temporary file once the next row starts, so memory
stays flat however many rows there are. The import templates build small workbooks with openpyxl
through ``cell``. Both keep text as data: formula-like text is a quoted string, control characters
are dropped.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

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


# --- XlsxWriter: the exports -------------------------------------------------------------------------

# A look, as XlsxWriter format properties (``workbook.add_format``), hashable so that one Format
# serves every cell of the same look. ``style(bold=True)``.
Style = tuple[tuple[str, Any], ...]


def style(**properties) -> Style:
    return tuple(sorted(properties.items()))


TITLE = style(bold=True, font_size=14)
HEADER = style(bold=True, bg_color="#DDEBF7", border=1, border_color="#999999", align="center",
               valign="vcenter", text_wrap=True)
BOLD = style(bold=True)
WRAP = style(text_wrap=True, valign="top")

WRITER_OPTIONS = {
    "constant_memory": True,  # rows stream to a temporary file per sheet
    # Text is data: never a formula, a link or a number because of what it looks like.
    "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    "remove_timezone": True,
}


_NON_TEXT = frozenset({Decimal, int, float, bool, date, datetime})


def _as_non_text(value) -> tuple[Any, type]:
    """A subclass of a number or a date as that type; anything else as its text."""
    for kind in (bool, Decimal, int, float, datetime, date):
        if isinstance(value, kind):
            return value, kind
    return str(value), str


class Book:
    """An .xlsx written with XlsxWriter in constant-memory mode to ``out`` (a path or a binary file)."""

    def __init__(self, out: IO[bytes] | str):
        import xlsxwriter

        self.workbook = xlsxwriter.Workbook(out, WRITER_OPTIONS)
        self._formats: dict[tuple, Any] = {}
        self._key_of: dict[int, tuple] = {}

    def format(self, number_format: str | None = None, look: Style = (), quoted: bool = False):
        """The one Format of a number format and a look (None for the default cell)."""
        key = (number_format, look, quoted)
        if key not in self._formats:
            properties = dict(look)
            if number_format:
                properties["num_format"] = number_format
            if quoted:
                properties["quote_prefix"] = True  # Excel shows the text as typed, never evaluates it
            made = self.workbook.add_format(properties) if properties else None
            self._formats[key] = made
            if made is not None:
                self._key_of[id(made)] = key
        return self._formats[key]

    def _quoted(self, fmt):
        """``fmt`` with the quote prefix that keeps formula-like text as typed."""
        number_format, look, _ = self._key_of.get(id(fmt), (None, (), False))
        return self.format(number_format, look, True)

    def sheet(self, name: str, *, header_row: int, repeat_from: int = 0, centred: bool = False,
              footer: str | None = None) -> Sheet:
        """A sheet printed on A4 landscape, one page wide, rows ``repeat_from``..``header_row``
        (0-based) repeated on every page and frozen above the data."""
        worksheet = self.workbook.add_worksheet(name)
        worksheet.freeze_panes(header_row + 1, 0)
        worksheet.repeat_rows(repeat_from, header_row)
        worksheet.set_landscape()
        worksheet.set_paper(9)  # A4
        worksheet.fit_to_pages(1, 0)  # one page wide, as many long as it takes
        if centred:
            worksheet.center_horizontally()
        if footer:
            worksheet.set_footer(footer if footer.startswith(("&L", "&C", "&R")) else f"&C{footer}")  # "&L…&C…": sections given
        return Sheet(self, worksheet)

    def close(self) -> None:
        self.workbook.close()


class Sheet:
    """Rows appended in order; every value through the same rules as ``cell``."""

    def __init__(self, book: Book, worksheet):
        self.book = book
        self.worksheet = worksheet
        self.rows = 0

    def append(self, values: Iterable, formats: Sequence = ()) -> None:
        """One row; ``formats[i]`` (from ``Book.format``) for the i-th value, the default where absent."""
        ws, row, count = self.worksheet, self.rows, len(formats)
        for col, value in enumerate(values):
            fmt = formats[col] if col < count else None
            kind = type(value)
            if kind is not str and kind not in _NON_TEXT and value is not None:
                value, kind = _as_non_text(value)
            if kind is str:
                if not value.isprintable():  # every character _ILLEGAL drops is unprintable
                    value = _ILLEGAL.sub("", value)
                if value:
                    ws.write_string(row, col, value, self.book._quoted(fmt) if value.startswith(_FORMULA_START) else fmt)
                elif fmt is not None:
                    ws.write_blank(row, col, None, fmt)
            elif value is None:
                if fmt is not None:
                    ws.write_blank(row, col, None, fmt)
            elif kind is date or kind is datetime:
                ws.write_datetime(row, col, value, fmt)
            elif kind is bool:
                ws.write_boolean(row, col, value, fmt)
            else:
                ws.write_number(row, col, float(value), fmt)
        self.rows = row + 1

    def set_widths(self, widths: list[int], minimum: int = 6, maximum: int = 60) -> None:
        """Column widths in characters (``display_width``), as ``set_widths`` gives openpyxl sheets."""
        for index, width in enumerate(widths):
            self.worksheet.set_column(index, index, max(minimum, min(maximum, width + 2)))
