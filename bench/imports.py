"""Importing 50,000 enterprise rows against openpyxl read-only reading the same file.

``python -m bench.imports --url URL --mode floor|app|all [--runs N]`` prints one JSON line. The file
(Chinese headers, valid credit codes, names from ``crm.demo``'s lists, none already in the library)
is made once from a fixed seed. ``floor`` is openpyxl's read-only iteration of the file. ``app``
times the three steps the import runs — read and check the file (``read_table``), the dry run, and
the commit (every row's rules, then the bulk writes with their audit entries; the commit takes the
dry run's plan as the commit page does, both being in one transaction) — and the part of the commit
that writes (on SQLite the only part that holds the write lock under ``import_and_commit``), then
rolls back, so the database is left as it was. ``all`` runs floor and app alternately ``--runs``
times in one process and reports the medians: read floor, read, dry run, commit, write, total,
total ÷ floor and rows per second.
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


def app_import(url: str, data: bytes, username: str, app=None) -> dict:
    from crm import create_app
    from crm.audit.log import acting_as
    from crm.extensions import db
    from crm.accounts.models import User
    from crm.accounts.zones import Zone
    from crm.imports import service as imports

    app = app or create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    writing, writing_cpu = [], []
    real_write = imports._write_staged

    def timed_write(*args, **kwargs):
        mark, cpu_mark = time.perf_counter(), time.process_time()
        try:
            return real_write(*args, **kwargs)
        finally:
            writing.append(time.perf_counter() - mark)
            writing_cpu.append(time.process_time() - cpu_mark)

    imports._write_staged = timed_write
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        zone = db.session.get(Zone, user.zone_ids[0])
        limits = imports.limits(app.config)
        phases, cpu = {}, {}
        started, cpu_started = time.perf_counter(), time.process_time()
        table = imports.read_table(data, "企业台账.xlsx", **limits)
        phases["read"], cpu["read"] = time.perf_counter() - started, time.process_time() - cpu_started
        mark, cpu_mark = time.perf_counter(), time.process_time()
        plan = imports.dry_run(user, "enterprises", table, None, zone, filename="企业台账.xlsx")
        phases["dry_run"], cpu["dry_run"] = time.perf_counter() - mark, time.process_time() - cpu_mark
        if not plan.ok:
            raise SystemExit(f"the bench file has problems: {plan.problems[:5]}")
        mark, cpu_mark = time.perf_counter(), time.process_time()
        with acting_as(db.session, user):
            batch = imports.commit_import(user, "enterprises", table, None, zone, "企业台账.xlsx")
            db.session.flush()
        phases["commit"], cpu["commit"] = time.perf_counter() - mark, time.process_time() - cpu_mark
        total = time.perf_counter() - started
        cpu["total"] = time.process_time() - cpu_started
        phases["write"], cpu["write"] = sum(writing), sum(writing_cpu)
        rows = len(table.rows)
        created = len(batch.changes.get("created", {}).get("Enterprise", []))
        db.session.rollback()
        db.session.remove()
    imports._write_staged = real_write
    return {"mode": "app", "seconds": round(total, 3), "rows": rows, "created": created,
            "phases": {k: round(v, 3) for k, v in phases.items()},
            "cpu": {k: round(v, 3) for k, v in cpu.items()}}


def interleaved(url: str, data: bytes, username: str, runs: int) -> dict:
    """Floor and app alternately, ``runs`` times each, in one process: medians, so that a shared
    machine's load weighs on both alike."""
    from statistics import median

    from crm import create_app

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    floors, floor_cpus, apps = [], [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        rows = floor(data)
        floors.append(time.perf_counter() - started)
        floor_cpus.append(time.process_time() - cpu_started)
        apps.append(app_import(url, data, username, app=app))
    phases = {k: median(a["phases"][k] for a in apps) for k in apps[0]["phases"]}
    total = median(a["seconds"] for a in apps)
    floor_s = median(floors)
    return {"mode": "all", "runs": runs, "rows": rows - 2, "floor_s": round(floor_s, 3),
            "read_s": round(phases["read"], 3), "dry_run_s": round(phases["dry_run"], 3),
            "commit_s": round(phases["commit"], 3), "write_s": round(phases["write"], 3),
            "total_s": round(total, 3), "ratio": round(total / floor_s, 2),
            "read_ratio": round(phases["read"] / floor_s, 2),
            "rows_per_s": round(apps[0]["rows"] / total), "created": apps[0]["created"],
            # CPU seconds of this process (SQLite runs in it): what a shared machine's load does not inflate.
            "cpu_floor_s": round(median(floor_cpus), 3),
            "cpu_total_s": round(median(a["cpu"]["total"] for a in apps), 3),
            "cpu_ratio": round(median(a["cpu"]["total"] for a in apps) / median(floor_cpus), 2),
            "cpu_phases": {k: round(median(a["cpu"][k] for a in apps), 3) for k in apps[0]["cpu"]},
            "floors": [round(f, 3) for f in floors], "totals": [a["seconds"] for a in apps]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=("app", "floor", "all"), required=True)
    parser.add_argument("--runs", type=int, default=1, help="--mode all: floor/app pairs, medians reported")
    parser.add_argument("--file", default=str(Path(__file__).parent / "out" / "import50k.xlsx"))
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--user", default="chief1")
    args = parser.parse_args(argv)
    data = make_file(Path(args.file), args.rows).read_bytes()
    if args.mode == "floor":
        started = time.perf_counter()
        rows = floor(data)
        result = {"mode": "floor", "seconds": round(time.perf_counter() - started, 3), "rows": rows}
    elif args.mode == "all":
        result = interleaved(args.url, data, args.user, args.runs)
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
