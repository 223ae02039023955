"""Importing 50,000 enterprise rows against openpyxl read-only reading the same file.

``python -m bench.imports --url URL --mode floor|app`` prints one JSON line. The file (Chinese
headers, valid credit codes, names from ``crm.demo``'s lists, none already in the library) is
made once from a fixed seed. ``app`` times the three steps the import page runs — read and check
the file (``read_table``), the dry run, and the commit through the services (each row validated
and audited) — then rolls back, so the database is left as it was.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from pathlib import Path

from sqlalchemy import select

HEADERS = ["序号", "企业名称", "统一社会信用代码", "省份", "城市", "区县", "所属行业", "主营产品", "营业收入（万元）",
           "员工人数", "企业标签", "备注"]
TAGS = ("高新技术企业", "专精特新", "上市", "小巨人", "")


def make_file(path: Path, rows: int = 50_000, seed: int = 7) -> Path:
    from openpyxl import Workbook

    from crm import demo

    if path.exists():
        return path
    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业台账")
    sheet.append(["2026年重点招商企业名录"])
    sheet.append(HEADERS)
    names, codes = set(), set()
    number = 0
    while number < rows:
        region = rng.choice(demo.REGIONS)
        # "导入" words keep these names apart from the generated library's.
        name = (f"{region[2].removesuffix('市')}{rng.choice(demo.TRADE_NAMES)}{rng.choice(demo.TRADE_NAMES)}"
                f"{rng.choice(demo.TRADE_NAMES)}{rng.choice(('新材料', '智能装备', '精密制造', '生物科技', '能源科技'))}"
                f"{rng.choice(demo.FORMS)}")
        code = demo.credit_code(rng, region[0])
        if name in names or code in codes:
            continue
        names.add(name)
        codes.add(code)
        number += 1
        sheet.append([number, name, code, region[1], region[2], region[3], "制造业", "铝型材、铝板带",
                      rng.randint(100, 500000), rng.randint(10, 5000), rng.choice(TAGS), ""])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def floor(data: bytes) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = 0
    for _ in workbook.worksheets[0].iter_rows(values_only=True):
        count += 1
    workbook.close()
    return count


def app_import(url: str, data: bytes, username: str) -> dict:
    from crm import create_app
    from crm.audit.log import acting_as
    from crm.extensions import db
    from crm.accounts.models import User
    from crm.accounts.zones import Zone
    from crm.imports import service as imports

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        zone = db.session.get(Zone, user.zone_ids[0])
        limits = imports.limits(app.config)
        phases = {}
        started = time.perf_counter()
        table = imports.read_table(data, "企业台账.xlsx", **limits)
        phases["read"] = time.perf_counter() - started
        mark = time.perf_counter()
        plan = imports.dry_run(user, "enterprises", table, None, zone, filename="企业台账.xlsx")
        phases["dry_run"] = time.perf_counter() - mark
        if not plan.ok:
            raise SystemExit(f"the bench file has problems: {plan.problems[:5]}")
        mark = time.perf_counter()
        with acting_as(db.session, user):
            batch = imports.commit_import(user, "enterprises", table, None, zone, "企业台账.xlsx")
            db.session.flush()
        phases["commit"] = time.perf_counter() - mark
        total = time.perf_counter() - started
        rows = len(table.rows)
        created = len(batch.changes.get("created", {}).get("Enterprise", []))
        db.session.rollback()
    return {"mode": "app", "seconds": round(total, 3), "rows": rows, "created": created,
            "phases": {k: round(v, 3) for k, v in phases.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=("app", "floor"), required=True)
    parser.add_argument("--file", default=str(Path(__file__).parent / "out" / "import50k.xlsx"))
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--user", default="chief1")
    args = parser.parse_args(argv)
    data = make_file(Path(args.file), args.rows).read_bytes()
    if args.mode == "floor":
        started = time.perf_counter()
        rows = floor(data)
        result = {"mode": "floor", "seconds": round(time.perf_counter() - started, 3), "rows": rows}
    else:
        from bench.generate import dataset_today, pinned_clock

        # The import checks dates against today: the data set's.
        with pinned_clock(dataset_today(args.url)):
            result = app_import(args.url, data, args.user)
    result["file_bytes"] = len(data)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
