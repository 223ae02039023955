"""Ledger files built in the tests (never committed binaries): xlsx with openpyxl, CSV in any encoding."""
from __future__ import annotations

import csv
import io
import zipfile

from openpyxl import Workbook


def xlsx(rows: list[list], *, merges: tuple[str, ...] = (), title: str = "台账", sheets: dict | None = None) -> bytes:
    """A workbook whose first sheet holds ``rows``; ``merges`` are ranges like "A1:F1"."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    for name, extra_rows in (sheets or {}).items():
        extra = workbook.create_sheet(name, 0)
        for row in extra_rows:
            extra.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_entry(xlsx_data: bytes, name: str, data: bytes, content_types: bytes | None = None) -> bytes:
    """A copy of a real workbook with one more part (e.g. vbaProject.bin), optionally new content types."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename == "[Content_Types].xml" and content_types is not None:
                payload = content_types
            archive.writestr(info.filename, payload)
        archive.writestr(name, data)
    return buffer.getvalue()
