"""`flask import FILE --kind ... --zone ...`: problems by row and exit 1, or one commit and exit 0."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.imports.commands import import_command
from crm.audit.models import AuditEntry
from crm.library.models import Enterprise
from crm.imports.models import ImportBatch
from crm.pipeline.models import Project
from tests import factories as f
from tests.imports.builders import csv_bytes, xlsx
from tests.imports.conftest import count

ROWS = [["项目名称", "企业名称", "阶段", "协议投资额（万元）", "签约日期", "负责人"],
        ["命令行项目甲", "命令行企业甲有限公司", "洽谈", None, None, "officer_b"],
        ["命令行项目乙", "命令行企业乙有限公司", "签约", None, "2024-03-05", "officer_b"],
        ["命令行项目丙", "命令行企业丙有限公司", "线索", None, None, "nobody"]]


@pytest.fixture
def runner(app, world):
    cli = app.test_cli_runner()
    return lambda *args: cli.invoke(import_command, [str(a) for a in args])


@pytest.fixture
def ledger(tmp_path):
    def write(rows, name="台账.xlsx"):
        path = tmp_path / name
        path.write_bytes(csv_bytes(rows, "gb18030") if name.endswith(".csv") else xlsx(rows))
        return path
    return write


def test_problems_are_printed_by_row_and_the_exit_code_is_1(runner, ledger, world):
    projects = count(Project)
    result = runner(ledger(ROWS), "--kind", "projects", "--zone", world.zone_b.name)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert "第 3 行 [协议投资额（万元）]: 签约须填写协议投资额（万元，大于 0）" in lines
    assert any(line.startswith("第 4 行 [负责人]: ") and "nobody" in line for line in lines)
    assert "2 行被拒绝" in result.output and "未写入任何数据" in result.output
    assert count(Project) == projects and count(ImportBatch) == 0


def test_a_clean_file_commits_once_and_exits_0(runner, ledger, world):
    rows = [row[:] for row in ROWS[:3]]
    rows[2][3] = "5000"
    dry = runner(ledger(rows), "--kind", "projects", "--zone", str(world.zone_b.id), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "检查通过" in dry.output and count(ImportBatch) == 0

    result = runner(ledger(rows), "--kind", "projects", "--zone", str(world.zone_b.id))
    assert result.exit_code == 0, result.output
    batch = db.session.scalars(select(ImportBatch)).one()
    assert f"已导入批次 #{batch.id}（乙园区）" in result.output and "新建项目 2 条" in result.output
    assert batch.actor_id is None and batch.zone_id == world.zone_b.id  # acted as the system
    projects = db.session.scalars(select(Project).where(Project.name.startswith("命令行项目"))).all()
    assert {(p.name, p.stage, p.owner_id) for p in projects} == {
        ("命令行项目甲", "洽谈", world.officer_b.id), ("命令行项目乙", "签约", world.officer_b.id)}
    ids = [str(p.id) for p in projects]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "Project",
                                                          AuditEntry.entity_id.in_(ids))).all()
    assert entries and all(entry.actor_id is None for entry in entries)


def test_acting_as_a_user_and_enterprises_from_gb18030_csv(runner, ledger, world):
    path = ledger([["企业名称", "统一社会信用代码", "员工人数"], ["命令行企业有限公司", f.valid_uscc(801), "１２０"]],
                  "企业.csv")
    result = runner(path, "--kind", "enterprises", "--zone", world.zone_a.name, "--as", "officer_a", "--local")
    assert result.exit_code == 0, result.output
    enterprise = db.session.scalars(select(Enterprise).where(Enterprise.name == "命令行企业有限公司")).one()
    assert (enterprise.employees, enterprise.zone_id, enterprise.created_by_id) == (120, world.zone_a.id,
                                                                                    world.officer_a.id)
    assert db.session.scalars(select(ImportBatch)).one().actor_id == world.officer_a.id


def test_an_officer_cannot_load_into_another_zone_from_the_cli_either(runner, ledger, world):
    result = runner(ledger(ROWS[:2]), "--kind", "projects", "--zone", world.zone_b.name, "--as", "officer_a")
    assert result.exit_code == 1 and "无权向“乙园区”导入数据" in result.output


def test_a_refused_file_exits_1_with_the_reason(runner, tmp_path, world):
    fake = tmp_path / "ledger.xlsx"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    result = runner(fake, "--kind", "enterprises", "--zone", world.zone_a.name)
    assert result.exit_code == 1 and "文件被拒绝：文件内容不是有效的 Excel" in result.output


def test_unknown_zone_or_user_is_a_usage_error(runner, ledger, world):
    assert runner(ledger(ROWS), "--kind", "projects", "--zone", "不存在的园区").exit_code == 2
    assert runner(ledger(ROWS), "--kind", "projects", "--zone", "乙园区", "--as", "viewer_a").exit_code == 2


def test_the_mapping_can_be_fixed_from_the_command_line(runner, ledger, world):
    rows = [["项目称谓", "企业名称", "签约时间（预计）", "负责人"],
            ["映射项目", "映射企业有限公司", "下半年", "officer_b"]]
    refused = runner(ledger(rows), "--kind", "projects", "--zone", "乙园区")
    assert refused.exit_code == 1 and "缺少必填列“项目名称”" in refused.output and "第 2 行 [签约时间（预计）]" in refused.output
    result = runner(ledger(rows), "--kind", "projects", "--zone", "乙园区", "--map", "项目称谓=项目名称", "--map", "C=")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(Project).where(Project.name == "映射项目")).one().zone_id == world.zone_b.id
    assert runner(ledger(rows), "--kind", "projects", "--zone", "乙园区", "--map", "项目称谓=别的").exit_code == 2


def test_a_dry_run_prints_the_notice_of_each_row_that_takes_the_one_investment_column(runner, ledger, world):
    rows = [["项目名称", "企业名称", "阶段", "总投资（亿元）", "签约日期", "负责人"],
            ["命令行签约项目", "命令行签约企业有限公司", "签约", 2, "2024-03-05", "officer_b"],
            ["命令行洽谈项目", "命令行洽谈企业有限公司", "洽谈", 1, None, "officer_b"]]
    result = runner(ledger(rows), "--kind", "projects", "--zone", world.zone_b.name, "--dry-run",
                    "--map", "总投资（亿元）=计划投资额")
    assert result.exit_code == 0, result.output
    notices = [line for line in result.output.splitlines() if "提示：" in line]
    assert len(notices) == 1 and notices[0].startswith("第 2 行: ")
    assert "签约项目的协议投资额按该列计 20000.00 万元" in notices[0]
