"""Importing an enterprise ledger: a messy real-world sheet, upserts, duplicates, all or nothing, revert."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.audit.models import AuditEntry
from crm.library.models import Enterprise
from crm.imports.models import ImportBatch
from crm.imports import service as import_service
from crm.errors import ServiceError
from crm.imports.service import ImportFailed, ImportHasProblems
from tests import factories as f
from tests.imports.conftest import commit, count, plan_for, problems_of, table_of

HEADER_MERGES = ("A1:J1", "A2:A3", "B2:B3", "C2:C3", "D2:E2", "F2:F3", "G2:G3", "H2:H3", "I2:I3", "J2:J3")


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def messy_ledger(*, fixed: bool = False) -> list[list]:
    """A ledger as zones keep it: a title, a two-level merged header, blank rows, full-width digits,
    amounts in 亿元 and 万元 with separators, dates of every kind, a totals row. Row 7 has a bad credit
    code and row 9 a negative amount, unless ``fixed``."""
    bad_code = f.valid_uscc(503) if fixed else "91341200MA2N0000X"
    return [
        ["江州经开区重点企业台账（2024年）"] + [None] * 9,                                               # 1
        ["序号", "企业名称", "统一社会信用代码", "经营情况", None, "员工人数", "所属行业", "标签", "成立日期", "在园"],  # 2
        [None, None, None, "注册资本（万元）", "年营收", None, None, None, None, None],                        # 3
        [1, "江州宏远铝材有限公司", fullwidth(f.valid_uscc(501)), "5,000", "1.5亿元", "１２０", "铝压延加工",
         "专精特新、高企", datetime(2019, 5, 1), "是"],                                                  # 4
        [],                                                                                          # 5
        [2, "安徽瑞丰新能源科技有限公司", f.valid_uscc(502), "3000万元", "８，０００", 300, "锂离子电池制造", None,
         "2018年3月5日", "否"],                                                                       # 6
        [3, "江州恒泰食品有限公司", bad_code, 800, 2000, 50, "食品制造", None, "2020.3.5", "是"],          # 7
        [None] * 10,                                                                                 # 8
        [4, "江州德昌医药有限公司", f.valid_uscc(504), "200" if fixed else "-200", "1,234.5", 40, "医药制造", None,
         None, "是"],                                                                                # 9
        ["合计", None, None, 9000, None, 510, None, None, None, None],                                  # 10
    ]


def test_messy_ledger_reports_exactly_the_bad_rows_then_imports_every_row(world):
    plan = plan_for(world.officer_a, "enterprises", messy_ledger(), world.zone_a, merges=HEADER_MERGES)
    assert problems_of(plan) == [(7, "统一社会信用代码"), (9, "注册资本（万元）")]
    assert "校验位" in plan.problems[0].message or "无效" in plan.problems[0].message
    assert plan.problems[1].message == "金额不能为负数" and plan.problems[1].value == "-200"
    assert plan.skipped_rows == [(10, "合计行，未导入")]
    before = count(Enterprise)
    with pytest.raises(ImportHasProblems):
        import_service.commit_import(world.officer_a, "enterprises", table_of(messy_ledger(), merges=HEADER_MERGES),
                                     None, world.zone_a, "台账.xlsx")
    db.session.rollback()
    assert count(Enterprise) == before and count(ImportBatch) == 0

    batch = commit(world.officer_a, "enterprises", messy_ledger(fixed=True), world.zone_a, merges=HEADER_MERGES)
    assert batch.row_count == 4 and batch.kind == "enterprises" and batch.zone_id == world.zone_a.id
    created = db.session.scalars(select(Enterprise).where(Enterprise.id.in_(batch.changes["created"]["Enterprise"]))
                                 .order_by(Enterprise.id)).all()
    assert [e.name for e in created] == ["江州宏远铝材有限公司", "安徽瑞丰新能源科技有限公司", "江州恒泰食品有限公司",
                                         "江州德昌医药有限公司"]
    hongyuan, ruifeng, hengtai, dechang = created
    assert hongyuan.uscc == f.valid_uscc(501)  # full-width code normalised
    assert (hongyuan.registered_capital, hongyuan.annual_revenue, hongyuan.employees) == (
        Decimal("5000.00"), Decimal("15000.00"), 120)
    assert hongyuan.tags == "专精特新,高新技术企业" and hongyuan.industry_name == "铝压延加工"
    assert (ruifeng.registered_capital, ruifeng.annual_revenue) == (Decimal("3000.00"), Decimal("8000.00"))
    assert dechang.annual_revenue == Decimal("1234.50")
    # 在园 says which are local to the zone and which are targets elsewhere
    assert [e.zone_id for e in created] == [world.zone_a.id, None, world.zone_a.id, world.zone_a.id]
    assert hengtai.uscc == f.valid_uscc(503)
    # every imported row went through the ORM and is in the audit log, attributed to the importer
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "Enterprise", AuditEntry.action == "create",
        AuditEntry.entity_id.in_([str(e.id) for e in created]))).all()
    assert len(entries) == 4


def test_upsert_by_credit_code_then_by_normalised_name_is_reported(world):
    no_code = f.make_enterprise(world.admin, name="安徽恒通新材料有限公司")
    db.session.commit()
    rows = [["企业名称", "统一社会信用代码", "注册资本（万元）", "员工人数"],
            ["宏达铝业（江苏）有限公司", world.enterprise.uscc, 12000, 800],
            ["恒通新材料有限公司", f.valid_uscc(611), None, 150],
            ["全新科技有限公司", None, 100, None]]
    plan = plan_for(world.chief_a, "enterprises", rows, world.zone_a)
    assert plan.ok, plan.problems
    by_row = {a.row: a for a in plan.actions}
    assert by_row[2].action == "update" and by_row[2].how == "uscc" and by_row[2].target_id == world.enterprise.id
    assert "按统一社会信用代码匹配到已有企业“江苏宏达铝业有限公司”" in by_row[2].detail
    assert "注册资本" in by_row[2].detail and "员工人数" in by_row[2].detail
    assert by_row[3].action == "update" and by_row[3].how == "name" and by_row[3].target_id == no_code.id
    assert "按名称匹配到已有企业“安徽恒通新材料有限公司”" in by_row[3].detail and "统一社会信用代码" in by_row[3].detail
    assert by_row[4].action == "create"

    batch = commit(world.chief_a, "enterprises", rows, world.zone_a)
    db.session.expire_all()
    hongda = db.session.get(Enterprise, world.enterprise.id)
    assert hongda.name == "江苏宏达铝业有限公司"  # the library keeps its name; the ledger's is an alias
    assert "宏达铝业（江苏）有限公司" in hongda.aliases.split(",")
    assert (hongda.registered_capital, hongda.employees) == (Decimal("12000.00"), 800)
    assert db.session.get(Enterprise, no_code.id).uscc == f.valid_uscc(611)
    assert {(m["row"], m["how"]) for m in batch.changes["matches"]} == {(2, "uscc"), (3, "name")}
    assert set(batch.changes["updated"]["Enterprise"]) == {str(world.enterprise.id), str(no_code.id)}
    assert batch.changes["updated"]["Enterprise"][str(no_code.id)]["uscc"] is None


def test_same_name_with_a_different_credit_code_is_another_firm_and_says_so(world):
    rows = [["企业名称", "统一社会信用代码"], ["安徽宏达铝业有限公司", f.valid_uscc(612)]]
    plan = plan_for(world.officer_a, "enterprises", rows, world.zone_a)
    assert plan.ok
    assert plan.actions[0].action == "create"
    assert "江苏宏达铝业有限公司" in plan.actions[0].detail and "信用代码不同" in plan.actions[0].detail


def test_an_ambiguous_name_is_a_problem_not_a_guess(world):
    f.make_enterprise(world.admin, name="江苏同名科技有限公司")
    f.make_enterprise(world.admin, name="浙江同名科技有限公司")
    db.session.commit()
    plan = plan_for(world.officer_a, "enterprises", [["企业名称"], ["同名科技有限公司"]], world.zone_a)
    assert problems_of(plan) == [(2, "企业名称")]
    assert "多家已有企业" in plan.problems[0].message


def test_duplicates_inside_the_file_are_problems(world):
    code = f.valid_uscc(620)
    rows = [["企业名称", "统一社会信用代码"],
            ["甲科技有限公司", code],
            ["乙科技有限公司", code],
            ["丙材料有限公司", None],
            ["江苏丙材料有限公司", None],
            ["江苏宏达铝业有限公司", None],
            ["宏达铝业有限公司", world.enterprise.uscc]]
    plan = plan_for(world.officer_a, "enterprises", rows, world.zone_a)
    assert problems_of(plan) == [(3, "统一社会信用代码"), (5, "企业名称"), (7, "企业名称")]
    assert "与第 2 行的统一社会信用代码重复" in plan.problems[0].message
    assert "与第 4 行是同一家企业" in plan.problems[1].message
    assert "第 6 行" in plan.problems[2].message


def test_a_deleted_firm_holding_the_code_is_reported(world):
    from crm.records import soft_delete

    soft_delete(world.admin, world.enterprise)
    db.session.commit()
    plan = plan_for(world.officer_a, "enterprises", [["企业名称", "信用代码"], ["宏达", world.enterprise.uscc]],
                    world.zone_a)
    assert problems_of(plan) == [(2, "信用代码")] and "回收站" in plan.problems[0].message


def test_local_option_and_a_firm_local_to_another_zone(world):
    other = f.make_enterprise(world.admin, name="乙园在园企业有限公司", zone_id=world.zone_b.id)
    db.session.commit()
    plan = plan_for(world.officer_a, "enterprises", [["企业名称"], ["新到企业有限公司"], ["乙园在园企业有限公司"]],
                    world.zone_a, local=True)
    assert problems_of(plan) == [(3, "在园企业")] and "乙园区" in plan.problems[0].message
    assert other.zone_id == world.zone_b.id


def test_a_crash_midway_leaves_no_rows_and_no_batch(world, monkeypatch):
    rows = [["企业名称"]] + [[f"批量导入企业{i}有限公司"] for i in range(5)]
    calls = []
    real = import_service.new_enterprise

    def failing_on_third(actor, data, **options):
        calls.append(data["name"])
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(actor, data, **options)

    monkeypatch.setattr(import_service, "new_enterprise", failing_on_third)
    enterprises, audits = count(Enterprise), count(AuditEntry)
    with pytest.raises(RuntimeError):
        import_service.commit_import(world.officer_a, "enterprises", table_of(rows), None, world.zone_a, "t.xlsx")
    db.session.rollback()
    assert len(calls) == 3
    assert count(Enterprise) == enterprises and count(ImportBatch) == 0 and count(AuditEntry) == audits


def test_a_service_refusal_midway_names_the_row_and_writes_nothing(world, monkeypatch):
    rows = [["企业名称"]] + [[f"服务拒绝企业{i}有限公司"] for i in range(4)]
    real = import_service.new_enterprise

    def refusing(actor, data, **options):
        if data["name"].startswith("服务拒绝企业2"):
            raise ServiceError("名称包含不允许的字符")
        return real(actor, data, **options)

    monkeypatch.setattr(import_service, "new_enterprise", refusing)
    before = count(Enterprise)
    with pytest.raises(ImportFailed) as failed:
        import_service.commit_import(world.officer_a, "enterprises", table_of(rows), None, world.zone_a, "t.xlsx")
    db.session.rollback()
    assert failed.value.row == 4 and "第 4 行" in failed.value.message
    assert count(Enterprise) == before and count(ImportBatch) == 0


def test_revert_soft_deletes_what_was_created_and_restores_what_was_changed(world):
    rows = [["企业名称", "统一社会信用代码", "注册资本（万元）", "标签"],
            ["江苏宏达铝业有限公司", world.enterprise.uscc, 9999, "上市"],
            ["撤销测试新企业有限公司", f.valid_uscc(630), 10, None]]
    batch = commit(world.officer_a, "enterprises", rows, world.zone_a)
    created_id = batch.changes["created"]["Enterprise"][0]
    assert db.session.get(Enterprise, world.enterprise.id).registered_capital == Decimal("9999.00")

    with pytest.raises(ServiceError, match="管理员"):
        import_service.revert_batch(world.officer_a, batch)
    import_service.revert_batch(world.admin, batch)
    db.session.commit()
    db.session.expire_all()
    hongda = db.session.get(Enterprise, world.enterprise.id)
    assert hongda.registered_capital is None and hongda.tags == "" and hongda.deleted_at is None
    created = db.session.get(Enterprise, created_id)
    assert created.deleted_at is not None and created.uscc is None  # the code is free for a corrected re-import
    assert db.session.get(ImportBatch, batch.id).status == "reverted"
    restored = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "Enterprise", AuditEntry.entity_id == str(world.enterprise.id),
        AuditEntry.action == "update").order_by(AuditEntry.id.desc())).first()
    assert restored.after["registered_capital"] is None and restored.before["registered_capital"] == "9999.00"
    with pytest.raises(ServiceError, match="已撤销"):
        import_service.revert_batch(world.admin, batch)
    # the corrected file imports again
    assert plan_for(world.officer_a, "enterprises", rows, world.zone_a).ok


def test_revert_refuses_when_a_record_changed_after_the_import(world):
    from crm.library.service import update_enterprise

    batch = commit(world.officer_a, "enterprises", [["企业名称"], ["后来被改的企业有限公司"]], world.zone_a)
    created = db.session.get(Enterprise, batch.changes["created"]["Enterprise"][0])
    update_enterprise(world.officer_a, created, {"address": "江州大道 1 号"})
    db.session.commit()
    with pytest.raises(ServiceError, match="后来被改的企业有限公司.*导入后已被修改"):
        import_service.revert_batch(world.admin, batch)
    db.session.rollback()
    assert db.session.get(Enterprise, created.id).deleted_at is None
    assert db.session.get(ImportBatch, batch.id).status == "committed"


def test_revert_refuses_when_later_work_hangs_off_a_created_firm(world):
    batch = commit(world.officer_a, "enterprises", [["企业名称"], ["后来有项目的企业有限公司"]], world.zone_a)
    created = db.session.get(Enterprise, batch.changes["created"]["Enterprise"][0])
    f.make_project(world.officer_a, created, name="后来的项目")
    db.session.commit()
    with pytest.raises(ServiceError, match="后来有项目的企业有限公司.*新的项目"):
        import_service.revert_batch(world.admin, batch)


def test_the_备注_column_writes_a_note_of_the_importing_zone(world):
    """备注 is the zone's own: a note of the importing zone, not a shared field; importing the same
    text again adds nothing, and another zone never sees it."""
    from crm.library.models import EnterpriseNote
    from crm.library.service import notes_of

    rows = [["企业名称", "统一社会信用代码", "备注"],
            ["江州备注新企业有限公司", f.valid_uscc(611), "新企业：老板下月回国"],
            [world.enterprise.name, world.enterprise.uscc, "已有企业：关注扩产"]]
    commit(world.officer_a, "enterprises", rows, world.zone_a)
    notes = db.session.scalars(select(EnterpriseNote).order_by(EnterpriseNote.id)).all()
    assert [(n.text, n.zone_id, n.author_id) for n in notes] == [
        ("新企业：老板下月回国", world.zone_a.id, world.officer_a.id),
        ("已有企业：关注扩产", world.zone_a.id, world.officer_a.id)]
    assert [n.text for n in notes_of(world.officer_b, world.enterprise)] == []
    plan = plan_for(world.officer_a, "enterprises", rows, world.zone_a)
    assert [a.action for a in plan.actions] == ["unchanged", "unchanged"]
    commit(world.officer_a, "enterprises", rows, world.zone_a)
    assert count(EnterpriseNote) == 2
