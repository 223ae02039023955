"""Exports never carry a formula and always open: hostile text stored in records comes out of the ledger
(/reports/ledger.xlsx) and the gap report (/chains/<code>/gaps.xlsx) as plain text.

Hypothesis makes the text: a leading = + - @ tab, carriage return or NUL, the C0 control characters,
right-to-left marks and overrides, very long strings, and anything else. Every exported workbook must
open with openpyxl, hold no formula cell (``data_type == "f"``) and no character openpyxl refuses;
each record's marker (appended after the hostile text) must be in it, so the rows were really exported.

Lone surrogates cannot be stored (the database drivers refuse to encode them, and neither the web
forms nor the importers can produce them), so they are tried on ``crm.excel.cell`` directly; so are
U+FFFE and U+FFFF, which can be stored and which XML does not allow.
"""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # the characters openpyxl refuses to write
from sqlalchemy import select

from crm.excel import Book, cell, style
from crm.extensions import db
from tests import factories as f
from tests.security import figures
from tests.security.routes import CHAIN
from tests.exports import fetch

TODAY = date.today()
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
# What XML 1.0 cannot carry at all; a workbook holding one does not open (in openpyxl, nor in Excel).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
RTL = ("\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
       "\u2069", "\u061c", "\ufeff")
NONCHARACTERS = ("\ufffe", "\uffff")

def hostile_text(*, long: bool = True, extra: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    controls = st.characters(min_codepoint=0, max_codepoint=0x1F)
    pieces = [
        st.tuples(st.sampled_from(FORMULA_STARTS), st.text(max_size=30)).map("".join),
        st.text(alphabet=controls, min_size=1, max_size=12),
        st.tuples(st.sampled_from(FORMULA_STARTS), st.text(alphabet=controls, max_size=4),
                  st.sampled_from(["=1+1", "HYPERLINK(\"http://x\")", "cmd|' /C calc'!A0", "SUM(A1:A9)"])).map("".join),
        st.text(alphabet=st.sampled_from(RTL + ("=", "a", "甲", "\t") + extra), min_size=1, max_size=16),
        st.text(max_size=40),
    ]
    if long:
        pieces.append(st.text(alphabet=st.sampled_from("=甲a\x01\u202e "), min_size=2000, max_size=6000))
    return st.one_of(pieces)


def _workbook_text(workbook) -> list[str]:
    return [c.value for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row
            if isinstance(c.value, str)]


def check_workbook(data: bytes, where: str) -> list[str]:
    """Open the export; no formula, no refused character. Its text cells, for further checks."""
    workbook = load_workbook(io.BytesIO(data))  # raises on a workbook that is not well-formed
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for item in row:
                assert item.data_type != "f", f"{where} {sheet.title}!{item.coordinate} is a formula: {item.value!r}"
                if isinstance(item.value, str):
                    assert not ILLEGAL_CHARACTERS_RE.search(item.value), f"{where} {item.coordinate}: {item.value!r}"
                    assert not XML_ILLEGAL.search(item.value), f"{where} {item.coordinate}: {item.value!r}"
    return _workbook_text(workbook)


def _cells_roundtrip(values: list[str]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("导出")
    for value in values:
        sheet.append([cell(sheet, value)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_roundtrip(values: list[str]) -> bytes:
    """The writer every export uses (XlsxWriter, constant memory), one value a row, plain and formatted."""
    buffer = io.BytesIO()
    book = Book(buffer)
    sheet = book.sheet("导出", header_row=0)
    for index, value in enumerate(values):
        sheet.append([value, value], [None, book.format("#,##0.00") if index % 2 else book.format(look=style(bold=True))])
    book.close()
    return buffer.getvalue()


COUNTS = {"cell": 0, "writer": 0, "records": 0, "exports": 0}


# --- crm.excel.cell, the one way every export writes text ---------------------------------------------
@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(values=st.lists(hostile_text(long=False), min_size=1, max_size=8))
def test_a_cell_holds_hostile_text_as_text(values):
    texts = check_workbook(_cells_roundtrip(values), "cell()")
    assert len(texts) <= len(values)
    COUNTS["cell"] += 1


@settings(max_examples=50, derandomize=True, deadline=None, database=None)
@given(values=st.lists(hostile_text(long=False, extra=NONCHARACTERS + ("\ud800", "\udfff")), min_size=1,
                       max_size=8))
def test_a_cell_drops_what_xml_cannot_carry(values):
    check_workbook(_cells_roundtrip(values), "cell()")


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(values=st.lists(hostile_text(long=False, extra=NONCHARACTERS + ("\ud800", "\udfff")), min_size=1,
                       max_size=8))
def test_the_export_writer_holds_hostile_text_as_text(values):
    data = _sheet_roundtrip(values)
    texts = check_workbook(data, "crm.excel.Sheet")
    assert len(texts) <= 2 * len(values)
    # What reads as a formula start was written as a string with Excel's quote prefix (shown as typed).
    book = load_workbook(io.BytesIO(data))
    assert all(c.quotePrefix for row in book.active.iter_rows() for c in row
               if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS))
    COUNTS["writer"] += 1


# --- records exported through the pages ---------------------------------------------------------------
SURROGATES = re.compile("[\ud800-\udfff]")


def _storable(text: str, limit: int | None, dialect: str) -> str:
    text = SURROGATES.sub("", text)  # no driver encodes a lone surrogate
    if dialect == "postgresql":
        text = text.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    return text[:limit] if limit else text


def _segment(code_index: int = 0):
    from crm.catalog.models import Chain, Segment

    return db.session.scalars(select(Segment).join(Chain, Segment.chain_id == Chain.id)
                              .where(Chain.code == CHAIN).order_by(Segment.sort_order)).all()[code_index]


def _make_records(ids: dict, enterprise_name: str, project_name: str, summary: str, next_step: str):
    """A target firm mapped to a segment, a 甲园区 project on it (same segment), a visit this month."""
    from crm.accounts.models import User
    from crm.library.segments import set_enterprise_segments
    from crm.visits.service import create_visit

    admin, officer = db.session.get(User, ids["admin"]), db.session.get(User, ids["officer"])
    segment = _segment()
    enterprise = f.make_enterprise(admin, name=enterprise_name)
    set_enterprise_segments(admin, enterprise, [segment.id], [segment.id], [])
    project = f.make_project(officer, enterprise, name=project_name, segments=[segment])
    create_visit(officer, enterprise, {"kind": "上门拜访", "visit_date": TODAY, "summary": summary,
                                       "next_step": next_step, "next_step_due": TODAY}, project=project)
    db.session.commit()
    return enterprise, project


@pytest.fixture
def exporters(world, app, login_as):
    from tests.conftest import FreshContextClient

    clients = {}
    for who in ("chief_a", "admin"):
        client = FreshContextClient(app, app.response_class, use_cookies=True)
        with client.session_transaction() as session:
            session["_user_id"] = getattr(world, who).get_id()
            session["_fresh"] = True
        clients[who] = client
    return clients, {"admin": world.admin.id, "officer": world.officer_a.id}


def test_ledger_and_gap_exports_of_hostile_records_open_and_hold_no_formula(exporters, pytestconfig):
    clients, ids = exporters
    connection = db.engines[None]
    dialect = connection.dialect.name
    month = TODAY.strftime("%Y-%m")
    names = hostile_text(long=False)

    @settings(max_examples=30, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(enterprise_name=names, project_name=names, summary=hostile_text(), next_step=names)
    def case(enterprise_name, project_name, summary, next_step):
        n = COUNTS["records"]
        marker = f"⟦{n}⟧"
        values = {
            "enterprise": _storable(enterprise_name, 190, dialect) + f"企业{marker}",
            "project": _storable(project_name, 190, dialect) + f"项目{marker}",
            "summary": _storable(summary, None, dialect) + f"洽谈{marker}",
            "next_step": _storable(next_step, 480, dialect) + f"下一步{marker}",
        }
        db.session.remove()
        savepoint = connection.begin_nested()
        try:
            _make_records(ids, values["enterprise"], values["project"], values["summary"], values["next_step"])
            exports = {
                "ledger (chief_a)": fetch(clients["chief_a"], f"/reports/ledger.xlsx?month={month}"),
                "ledger (admin)": fetch(clients["admin"], f"/reports/ledger.xlsx?month={month}"),
                "gaps.xlsx (admin)": fetch(clients["admin"], f"/chains/{CHAIN}/gaps.xlsx"),
                "gaps.xlsx (chief_a)": fetch(clients["chief_a"], f"/chains/{CHAIN}/gaps.xlsx"),
            }
            for where, response in exports.items():
                assert response.status_code == 200, f"{where}: HTTP {response.status_code}"
                texts = check_workbook(response.data, where)
                COUNTS["exports"] += 1
                joined = "\n".join(texts)
                if where.startswith("ledger"):
                    for key in ("enterprise", "project", "summary", "next_step"):
                        assert f"{key_label(key)}{marker}" in joined, f"{where}: the {key} row is missing"
                else:
                    assert f"企业{marker}" in joined, f"{where}: the target firm is missing"
        finally:
            db.session.remove()
            savepoint.rollback()
        COUNTS["records"] += 1

    case()
    figures.record(pytestconfig, "export fuzz", "crm.excel.cell workbooks (hypothesis)", COUNTS["cell"])
    figures.record(pytestconfig, "export fuzz", "crm.excel.Sheet workbooks (hypothesis)", COUNTS["writer"])
    figures.record(pytestconfig, "export fuzz", "hostile record sets exported (hypothesis)", COUNTS["records"])
    figures.record(pytestconfig, "export fuzz", "exported workbooks checked", COUNTS["exports"])


def key_label(key: str) -> str:
    return {"enterprise": "企业", "project": "项目", "summary": "洽谈", "next_step": "下一步"}[key]


@pytest.mark.parametrize("character", NONCHARACTERS)
def test_a_noncharacter_in_a_stored_name_does_not_break_the_ledger(character, world, login_as):
    """U+FFFE/U+FFFF are valid UTF-8: a form or a CSV import stores them. The ledger must still open."""
    project = f.make_project(world.officer_a, world.enterprise, name=f"粘贴来的项目{character}名称")
    db.session.commit()
    response = fetch(login_as(world.chief_a), f"/reports/ledger.xlsx?month={TODAY:%Y-%m}")
    assert response.status_code == 200
    texts = check_workbook(response.data, "ledger")
    assert any("粘贴来的项目" in text for text in texts) and project.id
