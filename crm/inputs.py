"""Parsing and bounding of what users type into URLs and query strings: ids, pages, years, months.

One place, so an impossible value is a 404 (in a path) or an ignored parameter (in a query), never a
server error: ids past 2^31 − 1 overflow PostgreSQL's INTEGER keys, Unicode digits such as "²" or "①"
pass ``str.isdigit()`` but not ``int()``, and years outside 1900–2100 are no year a ledger holds.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest INTEGER key on PostgreSQL (SQLite's go further; none gets there)
MAX_PAGE = 100_000
MIN_YEAR, MAX_YEAR = 1900, 2100
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text) -> int:
    """A positive record id from ASCII digits, at most ``MAX_ID``; ValueError otherwise."""
    text = str(text).strip()
    if not _ASCII_DIGITS.fullmatch(text):
        raise ValueError("不是有效的编号")
    value = int(text)
    if not 0 < value <= MAX_ID:
        raise ValueError("编号超出范围")
    return value


def id_or_none(text) -> int | None:
    """``parse_id``, with None for anything that is not an id we could have issued."""
    try:
        return parse_id(text)
    except ValueError:
        return None


def parse_page(text) -> int:
    value = parse_id(text)
    if value > MAX_PAGE:
        raise ValueError("页码超出范围")
    return value


def parse_year(text) -> int:
    text = str(text).strip()
    if not re.fullmatch(r"[0-9]{4}", text) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise ValueError(f"年份须在 {MIN_YEAR}–{MAX_YEAR} 之间")
    return int(text)


def month_bounds(month: str) -> tuple[date, date]:
    """'2026-03' → (2026-03-01, 2026-03-31). Raises ValueError for anything else, or a year outside
    1900–2100."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})", str(month).strip())
    if not match:
        raise ValueError("月份格式应为 YYYY-MM")
    year, mon = parse_year(match.group(1)), int(match.group(2))
    if not 1 <= mon <= 12:
        raise ValueError("月份格式应为 YYYY-MM，月份在 01–12 之间")
    start = date(year, mon, 1)
    end = date(year + (mon == 12), mon % 12 + 1, 1) - timedelta(days=1)
    return start, end


def download_name(name: str, max_length: int = 120) -> str:
    """A file name safe for a Content-Disposition header: no control or format characters (a line break
    in an uploaded file's name broke its problem report), no path separators, bounded length."""
    cleaned = "".join(ch for ch in str(name) if unicodedata.category(ch)[0] != "C" and ch not in '/\\"')
    cleaned = " ".join(cleaned.split()) or "download"
    stem, dot, ext = cleaned.rpartition(".")
    if dot and len(ext) <= 8 and len(cleaned) > max_length:
        return stem[: max_length - len(ext) - 1] + "." + ext
    return cleaned[:max_length]


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in every route: ASCII digits up to ``MAX_ID``; anything larger is no route (404)."""

    regex = r"[0-9]+"  # ASCII digits only: "١٢" is not an id

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


_PHONE = re.compile(r"[0-9+()（）\- 转#,，、/]+|[0-9+()（）\- ]+(ext\.?|分机)[0-9 ]+", re.IGNORECASE)


def phone_problem(text: str) -> str | None:
    """Why a typed phone number is not one (None when it is): digits with + - ( ) 转 and spaces, at least
    7 digits (a landline without its area code); several numbers separated by 、 or /."""
    text = (text or "").strip()
    if not text:
        return None
    if not _PHONE.fullmatch(text) or sum(ch.isdigit() for ch in text) < 7:
        return "电话应为数字，如 0477-8123456 或 13800000000"
    return None
