"""A corpus of hostile ledger files, generated on disk at test time (no binaries in the repository),
and the worker that reads all of them through ``read_table`` in a fresh process to measure its memory.

Each case has a category, the file name a person would upload (path traversal and control characters
included) and a builder writing the bytes. Workbooks are assembled part by part (not with openpyxl),
so their XML can carry what openpyxl would never write: DTDs, entities, bombs, lies.
"""
from __future__ import annotations

import io
import random
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

MAX_BYTES = 10 * 1024 * 1024  # crm.imports.service.DEFAULT_MAX_BYTES, the app's IMPORT_MAX_BYTES
MAX_ROWS = 50_000  # crm.imports.service.DEFAULT_MAX_ROWS
MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # config.Config

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
HEADER_CELLS = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'


def content_types(extra: str = "", main: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            + extra + '</Types>').encode()


ROOT_RELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
             f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>').encode()
WORKBOOK = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
            '<sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>').encode()
WORKBOOK_RELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
                 f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                 f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>').encode()
SHEET = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>{HEADER_CELLS}'
         '<row r="2"><c r="A2" t="s"><v>2</v></c></row></sheetData></worksheet>').encode()
STRINGS = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}"><si><t>企业名称</t></si>'
           '<si><t>统一社会信用代码</t></si><si><t>恶意文件测试企业有限公司</t></si></sst>').encode()


SHEET1, STRINGS_PART, WORKBOOK_PART, TYPES = ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                               "xl/workbook.xml", "[Content_Types].xml")


def parts(override: dict | None = None) -> dict:
    """A minimal, valid workbook: one sheet 台账 (企业名称 | 统一社会信用代码, one firm), shared strings;
    ``override`` replaces or adds parts by name."""
    built = {TYPES: content_types(), "_rels/.rels": ROOT_RELS, WORKBOOK_PART: WORKBOOK,
             "xl/_rels/workbook.xml.rels": WORKBOOK_RELS, SHEET1: SHEET, STRINGS_PART: STRINGS}
    built.update(override or {})
    return built


def zip_to(path: Path, entries: dict[str, bytes | Callable], level: int = 6) -> None:
    """Write a zip; an entry may be bytes or a callable yielding chunks (streamed, never whole in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if callable(data):
                with archive.open(info, "w", force_zip64=True) as out:
                    for chunk in data():
                        out.write(chunk)
            else:
                archive.writestr(info, data)


def valid_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts().items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _noise_chunks(make_item: Callable[[random.Random], str], count: int, head: bytes, tail: bytes, seed: int = 7):
    """Chunks of ``head``, ``count`` generated items, ``tail``: repetitive enough to inflate ~75×, noisy
    enough to stay under the app's compression-ratio limit (100×)."""

    def chunks():
        rng = random.Random(seed)
        yield head
        batch = []
        for _ in range(count):
            batch.append(make_item(rng))
            if len(batch) == 50_000:
                yield "".join(batch).encode()
                batch = []
        yield "".join(batch).encode() + tail

    return chunks


def _pair(rng: random.Random, noise: float = 0.06) -> str:
    """Mostly "ab", sometimes two random letters: deflate gets 50–90× (the app refuses above 100×)."""
    return rng.choice("abcdefghijklmnopqrstuvwxyz") + rng.choice("abcdefghijklmnopqrstuvwxyz") \
        if rng.random() < noise else "ab"


def _flag_encrypted(path: Path) -> None:
    """Set the "encrypted" bit on every entry (zipfile will not write it): local and central headers."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            data[at + offset] |= 0x1
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


# --- the cases ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    name: str
    category: str
    filename: str
    build: Callable[[Path], None]
    # What the service must answer: "refused" (ImportRefused, a Chinese message), or "either" (a file
    # the app may read or refuse, e.g. a PDF that decodes as GB18030 text) — never an exception.
    expect: str = "refused"
    heavy: bool = False  # tuned to defeat the zip checks and inflate inside the XML parser


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _zip(entries: dict, level: int = 6) -> Callable[[Path], None]:
    return lambda path: zip_to(path, entries, level)


def _lines(head: str, line: str, count: int, encoding: str = "utf-8") -> Callable[[Path], None]:
    def build(path: Path) -> None:
        with path.open("wb") as out:
            out.write(head.encode(encoding))
            block = (line * 10_000).encode(encoding)
            for _ in range(count // 10_000):
                out.write(block)
            out.write((line * (count % 10_000)).encode(encoding))
    return build


def _truncated(fraction: float) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        data = valid_xlsx()
        path.write_bytes(data[: max(4, int(len(data) * fraction))])
    return build


def _lying_sizes(path: Path) -> None:
    """A sheet that inflates to 50 MB while its zip headers declare 1 KB (the zip checks read headers)."""
    payload = b"<row/>" * (50 * 1024 * 1024 // 6)
    compressor = zipfile._get_compressor(zipfile.ZIP_DEFLATED)  # noqa: SLF001 - the stdlib's own deflate
    deflated = compressor.compress(payload) + compressor.flush()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in parts().items():
            if entry != SHEET1:
                archive.writestr(entry, data)
    original = zipfile.ZipFile(buffer)
    infos = original.infolist()
    body = bytearray(buffer.getvalue()[: original.start_dir])
    offset, name, crc = len(body), SHEET1.encode(), zipfile.crc32(payload[:1024])
    body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(deflated), 1024, len(name), 0)
    body += name + deflated
    central = bytearray()
    for info in infos:
        central += _central_entry(info.filename.encode(), info.CRC, info.compress_size, info.file_size,
                                  info.header_offset)
    central += _central_entry(name, crc, len(deflated), 1024, offset)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(infos) + 1, len(infos) + 1, len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))


def _central_entry(name: bytes, crc: int, compressed: int, size: int, offset: int) -> bytes:
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, compressed, size, len(name),
                       0, 0, 0, 0, 0, offset) + name


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)) + "]>")
XXE_FILE = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
XXE_HTTP = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'
QUADRATIC = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + "x" * 100_000 + '">]>'


def _strings_with(prolog: str, body: str) -> bytes:
    return (prolog + f'<sst xmlns="{NS}"><si><t>企业名称</t></si><si><t>统一社会信用代码</t></si>'
            f'<si><t>{body}</t></si></sst>').encode()


def _sheet_rows(rows: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>', before: str = "",
                after: str = "") -> bytes:
    return (f'{prolog}<worksheet xmlns="{NS}">{before}<sheetData>{HEADER_CELLS}{rows}</sheetData>{after}'
            '</worksheet>').encode()


def _many_entries(count: int) -> Callable[[Path], None]:
    return _zip(parts({f"xl/media/image{i}.png": b"x" for i in range(count)}))


def _nested_zip(path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bomb.xml", b"\0" * (30 * 1024 * 1024))
    zip_to(path, parts({"xl/embeddings/inner.zip": inner.getvalue()}))


def _huge_declared_total(path: Path) -> None:
    """240 entries of 1 MB, each under the ratio check's threshold, together declaring 240 MB."""
    block = random.Random(3).randbytes(64)
    zip_to(path, parts({f"xl/media/blob{i}.bin": block * (1_000_000 // 64) for i in range(240)}), level=1)


def _xlsx_with(override: dict) -> Callable[[Path], None]:
    return _zip(parts(override))


def _cells_row(count: int, row: int = 2) -> str:
    return f'<row r="{row}">' + "".join(f'<c t="inlineStr"><is><t>v{i}</t></is></c>' for i in range(count)) + "</row>"


def _sheets(count: int) -> Callable[[Path], None]:
    sheets = "".join(f'<sheet name="表{i}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i in range(count))
    rels = "".join(f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                   for i in range(count))
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{SHEET_TYPE}"/>'
                        for i in range(1, count))
    entries = {TYPES: content_types(overrides),
               WORKBOOK_PART: f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>{sheets}</sheets></workbook>'.encode(),
               "xl/_rels/workbook.xml.rels": (f'<Relationships xmlns="{PKG}">{rels}<Relationship Id="rIdS" '
                                              f'Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                                              '</Relationships>').encode()}
    entries.update({f"xl/worksheets/sheet{i + 1}.xml": SHEET for i in range(count)})
    return _xlsx_with(entries)


def _csv_text(text: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return _bytes(text.encode(encoding))


def _stream(head: bytes, block: bytes, times: int, tail: bytes) -> Callable:
    return lambda: iter([head] + [block] * times + [tail])


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(128, 256)) * 8
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096
GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x00" * 100
HEADER = "企业名称,统一社会信用代码\n"
SHEET_HEAD = SHEET.split(b"</sheetData>")[0]
SHEET_TAIL = b"</sheetData></worksheet>"
STRINGS_HEAD = STRINGS.split(b"</sst>")[0]
ONE_FIRM = HEADER + "甲企业,\n"


# The tuned bombs: each passes every zip check (ratio under 100×, total under 200 MB) and is sized to
# cost openpyxl several hundred MiB, so a parser that holds it all is caught by the 256 MiB limit.
SHARED_STRINGS = 1_500_000  # <si> entries: openpyxl keeps the whole table as Python strings
WIDE_ROW_CELLS = 250_000  # cells in one <row>: the row's element tree is built before any column check
UNKNOWN_ELEMENTS = 700_000  # elements between rows: iterparse keeps what the sheet parser never clears
SHEET_ENTRIES = 100_000  # <sheet> entries in workbook.xml: parsed whole, one worksheet object each


def cases() -> list[Case]:
    return [
        # --- zip bombs: highly compressible huge entries --------------------------------------------
        Case("bomb-sheet-zeros", "zip bomb", "台账.xlsx",
             _zip(parts({SHEET1: _stream(b"", b"\0" * (1 << 20), 300, b"")}), level=9)),
        Case("bomb-sheet-rows", "zip bomb", "台账.xlsx",
             _zip(parts({SHEET1: _stream(SHEET_HEAD, b"<row/>" * 100_000, 100, SHEET_TAIL)}), level=9)),
        Case("bomb-shared-strings", "zip bomb", "台账.xlsx",
             _zip(parts({STRINGS_PART: _stream(STRINGS_HEAD, b"<si><t>ab</t></si>" * 100_000, 60, b"</sst>")}),
                  level=9)),
        Case("bomb-styles", "zip bomb", "台账.xlsx", _zip(parts({"xl/styles.xml": b" " * (50 << 20)}), level=9)),
        Case("bomb-content-types", "zip bomb", "台账.xlsx",
             _zip(parts({TYPES: content_types() + b" " * (5 << 20)}), level=9)),
        Case("bomb-declared-total", "zip bomb", "台账.xlsx", _huge_declared_total),
        Case("bomb-lying-sizes", "zip bomb", "台账.xlsx", _lying_sizes),
        Case("bomb-nested-zip", "zip bomb", "台账.xlsx", _nested_zip, expect="either"),
        # --- zips that are not what they claim ------------------------------------------------------
        Case("zip-1001-entries", "zip structure", "台账.xlsx", _many_entries(1001)),
        Case("zip-20000-entries", "zip structure", "台账.xlsx", _many_entries(20000)),
        Case("zip-in-zip", "zip structure", "台账.xlsx", _zip({"ledger.xlsx": valid_xlsx()})),
        Case("zip-docx", "zip structure", "台账.xlsx",
             _zip({TYPES: b"<Types/>", "word/document.xml": b"<w:document/>"})),
        Case("zip-truncated-10", "zip structure", "台账.xlsx", _truncated(0.1)),
        Case("zip-truncated-50", "zip structure", "台账.xlsx", _truncated(0.5)),
        Case("zip-truncated-95", "zip structure", "台账.xlsx", _truncated(0.95)),
        Case("zip-header-only", "zip structure", "台账.xlsx", _bytes(b"PK\x03\x04")),
        Case("zip-end-record-only", "zip structure", "台账.xlsx", _bytes(b"PK\x05\x06" + b"\0" * 18)),
        Case("zip-encrypted-flag", "zip structure", "台账.xlsx",
             lambda path: (zip_to(path, parts()), _flag_encrypted(path))),
        Case("zip-entry-traversal", "zip structure", "台账.xlsx",
             _zip(parts({"../../evil.xml": b"<x/>", "/etc/cron.d/evil": b"* * * * * x"})), expect="either"),
        Case("zip-rels-traversal", "zip structure", "台账.xlsx", _xlsx_with({"xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" '
            'Target="../../../../etc/passwd"/></Relationships>').encode()})),
        # --- XML attacks ----------------------------------------------------------------------------
        Case("laughs-shared-strings", "xml attack", "台账.xlsx",
             _xlsx_with({STRINGS_PART: _strings_with(LAUGHS, "&lol9;")})),
        Case("laughs-workbook", "xml attack", "台账.xlsx", _xlsx_with({WORKBOOK_PART: (
            LAUGHS + f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets><sheet name="&lol9;" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>').encode()})),
        Case("laughs-sheet", "xml attack", "台账.xlsx", _xlsx_with({SHEET1: _sheet_rows(
            '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>', prolog=LAUGHS)})),
        Case("laughs-content-types", "xml attack", "台账.xlsx",
             _xlsx_with({TYPES: LAUGHS.encode() + content_types().split(b"?>", 1)[1]})),
        Case("xxe-file-shared-strings", "xml attack", "台账.xlsx",
             _xlsx_with({STRINGS_PART: _strings_with(XXE_FILE, "&xxe;")})),
        Case("xxe-file-sheet", "xml attack", "台账.xlsx", _xlsx_with({SHEET1: _sheet_rows(
            '<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>', prolog=XXE_FILE)})),
        Case("xxe-parameter-entity", "xml attack", "台账.xlsx",
             _xlsx_with({WORKBOOK_PART: XXE_HTTP.encode() + WORKBOOK.split(b"?>", 1)[1]})),
        Case("quadratic-blowup", "xml attack", "台账.xlsx",
             _xlsx_with({STRINGS_PART: _strings_with(QUADRATIC, "&a;" * 2000)})),
        Case("deep-nesting", "xml attack", "台账.xlsx",
             _xlsx_with({SHEET1: _sheet_rows("", after="<x>" * 100_000 + "</x>" * 100_000)}), expect="either"),
        # --- inflating inside the XML parser, under every zip limit ------------------------------------
        Case("parser-shared-strings", "parser memory", "台账.xlsx", _zip(parts({STRINGS_PART: _noise_chunks(
            lambda rng: f"<si><t>{_pair(rng)}</t></si>", SHARED_STRINGS, STRINGS_HEAD, b"</sst>")}), level=9),
            heavy=True),
        Case("parser-wide-row", "parser memory", "台账.xlsx", _zip(parts({SHEET1: _noise_chunks(
            lambda rng: f'<c t="inlineStr"><is><t>{_pair(rng, 0.15)}</t></is></c>', WIDE_ROW_CELLS,
            SHEET_HEAD + b'<row r="3">', b"</row>" + SHEET_TAIL)}),
            level=9), heavy=True),
        Case("parser-unknown-elements", "parser memory", "台账.xlsx", _zip(parts({SHEET1: _noise_chunks(
            lambda rng: f'<x v="{_pair(rng)}"/>', UNKNOWN_ELEMENTS, SHEET_HEAD, SHEET_TAIL)}), level=9), heavy=True),
        Case("parser-many-sheets", "parser memory", "台账.xlsx", _zip(parts({WORKBOOK_PART: _noise_chunks(
            lambda rng: f'<sheet name="{_pair(rng)}{rng.randrange(10**6)}" sheetId="1" r:id="rId1"/>',
            SHEET_ENTRIES, f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'.encode(), b"</sheets></workbook>")}),
            level=9), heavy=True),
        # --- macros, encryption, legacy formats ---------------------------------------------------------
        Case("xlsm-name", "macro / encrypted", "台账.xlsm", _bytes(valid_xlsx())),
        Case("xltm-name", "macro / encrypted", "模板.xltm", _bytes(valid_xlsx())),
        Case("xlam-name", "macro / encrypted", "加载项.XLAM", _bytes(valid_xlsx())),
        Case("vba-project-inside", "macro / encrypted", "台账.xlsx",
             _xlsx_with({"xl/vbaProject.bin": OLE2[:520]})),
        Case("macro-content-type", "macro / encrypted", "台账.xlsx", _xlsx_with({TYPES: content_types(
            main="application/vnd.ms-excel.sheet.macroEnabled.main+xml")})),
        Case("ole2-encrypted-xlsx", "macro / encrypted", "台账.xlsx", _bytes(OLE2)),
        Case("ole2-legacy-xls", "macro / encrypted", "台账.xls", _bytes(OLE2)),
        Case("ole2-as-csv", "macro / encrypted", "台账.csv", _bytes(OLE2)),
        # --- the wrong type, whatever the name says ------------------------------------------------------
        Case("png-as-xlsx", "wrong type", "台账.xlsx", _bytes(PNG)),
        Case("pdf-as-xlsx", "wrong type", "台账.xlsx", _bytes(PDF)),
        Case("exe-as-xlsx", "wrong type", "台账.xlsx", _bytes(EXE)),
        Case("gzip-as-xlsx", "wrong type", "台账.xlsx", _bytes(GZIP)),
        Case("html-as-xls", "wrong type", "台账.xls", _csv_text("<html><table><tr><td>企业名称</td></tr></table>")),
        Case("png-as-csv", "wrong type", "台账.csv", _bytes(PNG)),
        Case("pdf-as-csv", "wrong type", "台账.csv", _bytes(PDF), expect="either"),
        Case("exe-as-csv", "wrong type", "台账.csv", _bytes(EXE)),
        Case("exe-named-exe", "wrong type", "setup.exe", _bytes(EXE)),
        Case("csv-named-nothing", "wrong type", "台账", _csv_text(ONE_FIRM)),
        Case("empty-xlsx", "wrong type", "台账.xlsx", _bytes(b"")),
        Case("empty-csv", "wrong type", "台账.csv", _bytes(b"")),
        # --- CSV -----------------------------------------------------------------------------------------
        Case("csv-million-rows", "csv", "百万行.csv", _lines(HEADER, "a\n", 1_000_000)),
        Case("csv-million-rows-over-size", "csv", "百万行大.csv", _lines(HEADER, "某某企业有限公司,\n", 1_000_000)),
        Case("csv-million-blank-lines", "csv", "空行.csv", _lines(ONE_FIRM, "\n", 1_000_000)),
        Case("csv-nul-bytes", "csv", "台账.csv", _csv_text(HEADER + "甲\x00企业,\x00\n" * 10)),
        Case("csv-utf16", "csv", "台账.csv", _csv_text(ONE_FIRM, "utf-16")),
        Case("csv-invalid-utf8", "csv", "台账.csv", _bytes(HEADER.encode() + bytes([0xff, 0xfe, 0x80, 0x81]) * 500)),
        Case("csv-gb18030-utf8-mix", "csv", "台账.csv",
             _bytes(HEADER.encode("gb18030") + "甲企业,\n".encode() + "乙企业,\n".encode("gb18030")), expect="either"),
        Case("csv-control-characters", "csv", "台账.csv", _csv_text(HEADER + "\x01\x02\x03\x1b[31m企业\x07,\n" * 200)),
        Case("csv-formula-cells", "csv", "公式.csv", _csv_text(
            HEADER + "=cmd|' /C calc'!A0,+1\n+SUM(1;2),-2+3\n@SUM(A1),\"\t=1+1\"\n\"\r=2\",=HYPERLINK(\"http://x\")\n"),
            expect="either"),
        Case("csv-10000-columns", "csv", "宽表.csv", _csv_text(
            ",".join(["企业名称"] + [f"列{i}" for i in range(9999)]) + "\n" + ",".join(["=1"] * 10000) + "\n")),
        Case("csv-long-line", "csv", "长行.csv", _csv_text(HEADER + "甲" * (3 * 1024 * 1024) + ",\n")),
        Case("csv-unbalanced-quote", "csv", "引号.csv", _csv_text(HEADER + '"甲企业,' + "乙" * 300_000 + "\n")),
        Case("csv-bom-only", "csv", "台账.csv", _bytes(b"\xef\xbb\xbf")),
        Case("csv-cr-only-lines", "csv", "台账.csv", _csv_text((HEADER + "甲企业,\n").replace("\n", "\r")),
             expect="either"),
        # --- odd but well-formed workbooks -------------------------------------------------------------
        Case("dimension-a1-xfd1048576", "xlsx content", "台账.xlsx", _xlsx_with({SHEET1: _sheet_rows(
            '<row r="2"><c r="A2" t="s"><v>2</v></c></row>', before='<dimension ref="A1:XFD1048576"/>')}),
            expect="either"),
        Case("cell-at-xfd1048576", "xlsx content", "台账.xlsx", _xlsx_with({SHEET1: _sheet_rows(
            '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>远</t></is></c></row>')})),
        Case("row-of-16384-cells", "xlsx content", "台账.xlsx", _xlsx_with({SHEET1: _sheet_rows(_cells_row(16384))})),
        Case("merges-30000", "xlsx content", "台账.xlsx", _xlsx_with({SHEET1: _sheet_rows("", after=(
            "<mergeCells>" + "".join(f'<mergeCell ref="A{i}:B{i}"/>' for i in range(3, 30003)) + "</mergeCells>"))})),
        Case("merge-whole-sheet", "xlsx content", "台账.xlsx", _xlsx_with({SHEET1: _sheet_rows(
            '<row r="2"><c r="A2" t="s"><v>2</v></c></row>',
            after='<mergeCells><mergeCell ref="A2:XFD1048576"/></mergeCells>')}), expect="either"),
        Case("sheets-200", "xlsx content", "台账.xlsx", _sheets(200), expect="either"),
        Case("shared-string-out-of-range", "xlsx content", "台账.xlsx",
             _xlsx_with({SHEET1: _sheet_rows('<row r="2"><c r="A2" t="s"><v>99999999</v></c></row>')})),
        Case("date-out-of-range", "xlsx content", "台账.xlsx", _xlsx_with({
            SHEET1: _sheet_rows('<row r="2"><c r="A2" t="inlineStr"><is><t>甲</t></is></c>'
                                '<c r="B2" s="1"><v>1e300</v></c></row>'),
            "xl/styles.xml": (f'<styleSheet xmlns="{NS}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" '
                              'applyNumberFormat="1"/></cellXfs></styleSheet>').encode()}), expect="either"),
        Case("malformed-sheet-xml", "xlsx content", "台账.xlsx",
             _xlsx_with({SHEET1: b"<worksheet><sheetData><row><c>"})),
        Case("formula-cells", "xlsx content", "公式.xlsx", _xlsx_with({SHEET1: _sheet_rows(
            '<row r="2"><c r="A2" t="str"><f>HYPERLINK("http://x","点我")</f><v>=cmd|\' /C calc\'!A0</v></c>'
            '<c r="B2" t="inlineStr"><is><t>@SUM(1)</t></is></c></row>')}), expect="either"),
        # --- size ----------------------------------------------------------------------------------------
        Case("over-max-bytes", "size", "大文件.xlsx", _bytes(b"PK\x03\x04" + b"\0" * (MAX_BYTES + 10))),
        Case("over-max-content-length", "size", "超大.csv",
             _lines(HEADER, "x" * 1023 + "\n", MAX_CONTENT_LENGTH // 1024 + 64)),
        # --- file names ----------------------------------------------------------------------------------
        Case("name-traversal", "file name", "../../etc/passwd.xlsx", _bytes(valid_xlsx()), expect="either"),
        Case("name-absolute", "file name", "/etc/cron.d/台账.csv", _csv_text(ONE_FIRM), expect="either"),
        Case("name-windows-traversal", "file name", "..\\..\\windows\\台账.xlsx", _bytes(valid_xlsx()),
             expect="either"),
        Case("name-control-characters", "file name", "台账\x1b[31m\x07\x08.csv", _csv_text(ONE_FIRM),
             expect="either"),
        Case("name-rtl-override", "file name", "台账\u202excod.csv", _csv_text(ONE_FIRM), expect="either"),
        Case("name-very-long", "file name", "长" * 600 + ".csv", _csv_text(ONE_FIRM), expect="either"),
    ]


# --- the service path, in a fresh process ----------------------------------------------------------
def _peak_mib() -> float:
    """This process's peak resident memory (Linux VmHWM).

    Not ``getrusage().ru_maxrss``: Linux carries the parent's peak into a child across fork and exec,
    so a child started from a large pytest process would report the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> bool:
    """Start a new peak (Linux ≥ 4.0: write 5 to clear_refs), so each file's own peak is measured."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def read_all(corpus: list[tuple[str, str, str]]) -> dict:
    """Run ``read_table`` on every (name, file name, path) as the upload view does; what happened and the
    peak memory of the process while reading each file. Runs in a spawned process, so the peak is the
    import code's alone (plus the interpreter and the app's modules: ``baseline_mib``)."""
    import time

    from crm.imports.reading import ImportRefused, read_table

    results = {"baseline_mib": _peak_mib(), "cases": {}, "per_file_peaks": _reset_peak()}
    for name, filename, path in corpus:
        _reset_peak()
        with open(path, "rb") as source:
            data = source.read(MAX_BYTES + 1)  # what the view reads of an upload
        started = time.perf_counter()
        try:
            table = read_table(data, filename, kind="enterprises", max_bytes=MAX_BYTES, max_rows=MAX_ROWS)
        except ImportRefused as refused:
            outcome, detail = "refused", refused.message
        except Exception as error:  # noqa: BLE001 - any other exception is the finding
            outcome, detail = "error", f"{type(error).__name__}: {error}"[:500]
        else:
            outcome, detail = "read", f"{len(table.rows)} rows"
            del table
        del data
        results["cases"][name] = {"outcome": outcome, "detail": detail, "seconds": time.perf_counter() - started,
                                  "peak_mib": _peak_mib()}
    return results
