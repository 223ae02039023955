"""The monthly ledger export against its floor: the same workbook written by hand with XlsxWriter.

    python -m bench.export --runs 3                       # ledger10k and ledger100k, the table
    python -m bench.export --url URL --mode app|floor     # one measurement, one JSON line

The floor writes what ``export_ledger`` writes with the same library in the same mode (XlsxWriter,
``constant_memory``) and the same formats — the six sheets, title and subtitle rows, the styled header,
every column's number format and width, the bold totals row, frozen header, A4 landscape print set-up
and footer — from hand-written SQL of the same shape run with ``text()``: the 汇总's two periods as
aggregate queries, then each sheet's rows (joins, filters, ordering) fetched 500 at a time as the export does and written
as they come. What it leaves out is the application's own work: masking, the figures computed per row
by ``crm.ledger.figures`` (the floor's rates are SQL divisions and its 预警 column is empty), and the
checks every text cell passes (``crm.excel``).

The month is the data set's own: its ``--today`` (``bench.generate.dataset_today``, from the data set's
``bench_dataset`` table), and the process's clock is pinned there (``pinned_clock``), so the ledger is
that month's, printed on that day — the same rows whenever the benchmark runs.

Each measurement runs in a fresh process, which prints seconds, rows, bytes and memory. Memory is the
process's own peak resident set: Linux's VmHWM from /proc/self/status, reset (``/proc/self/clear_refs``)
just before the export starts and read when it ends; and VmRSS just before it starts (imports, the app
and the signed-in user loaded). Their difference is what the export itself held at its peak — XlsxWriter's
and SQLite's buffers included, which tracemalloc would not see. (``getrusage`` is not used: its
``ru_maxrss`` carries over the high-water mark of the parent the process was forked from, the benchmark
runner, so every child would report the runner's size.) Both write to a temporary file, as the CLI does,
so the workbook's own bytes are not counted as memory.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, select, text

from bench.generate import dataset_today, pinned_clock
from crm.inputs import month_bounds

OUT = Path(__file__).parent / "out"
DATASETS = ("ledger10k", "ledger100k")
TARGET_RATIO = 1.5  # issue 12, point 5
TARGET_MEMORY = 1.2  # peak at 100k ÷ peak at 10k


def _status_kib(field: str) -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


# --- the floor ------------------------------------------------------------------------------------------

MONEY, INTEGER, DATE, PERCENT = "#,##0.00", "#,##0", "yyyy-mm-dd", "0.0%"
# Per sheet: its SQL, then each column as (header, kind, number format, width, summed). Kinds: s text,
# n number, d date (SQLite hands dates back as text). The headers and widths are the export's.
COUNTED = "p.deleted_at IS NULL AND p.zone_id IN :zones AND p.signed_date <= :end AND p.stage != '终止'"
SUMS = """LEFT JOIN (SELECT project_id, sum(amount) AS total FROM funds_in_place WHERE deleted_at IS NULL
                   AND month <= :end GROUP BY project_id) f ON f.project_id = p.id
        LEFT JOIN (SELECT project_id, sum(amount) AS total FROM capital_increases WHERE deleted_at IS NULL
                   AND signed_date <= :end GROUP BY project_id) i ON i.project_id = p.id"""
FLOOR_SHEETS = {
    "在谈项目": ("""SELECT z.name, p.name, e.name, e.uscc, p.stage, p.planned_investment, p.land_area, p.source,
        u.display_name, {stage_day} FROM projects p JOIN zones z ON z.id = p.zone_id
        JOIN enterprises e ON e.id = p.enterprise_id JOIN users u ON u.id = p.owner_id
        WHERE p.deleted_at IS NULL AND p.zone_id IN :zones AND p.stage IN :stages AND p.created_at <= :end_ts
        ORDER BY p.zone_id, p.stage, p.id""",
                 [("园区", "s", None, 20, False), ("项目名称", "s", None, 30, False), ("企业名称", "s", None, 30, False),
                  ("统一社会信用代码", "s", None, 20, False), ("阶段", "s", None, 6, False),
                  ("计划投资额（万元）", "n", MONEY, 14, True), ("用地（亩）", "n", MONEY, 10, True),
                  ("来源", "s", None, 10, False), ("负责人", "s", None, 8, False), ("进入阶段日期", "d", DATE, 12, False)]),
    "签约项目": (f"""SELECT z.name, p.name, e.name, e.uscc, p.stage, p.signed_date, p.planned_investment,
        p.contract_investment, p.land_area, p.contract_investment / NULLIF(p.land_area, 0), p.annual_output_value,
        p.annual_tax, p.jobs, coalesce(i.total, 0), coalesce(f.total, 0),
        coalesce(f.total, 0) / NULLIF(p.contract_investment + coalesce(i.total, 0), 0), p.source, u.display_name
        FROM projects p JOIN zones z ON z.id = p.zone_id
        JOIN enterprises e ON e.id = p.enterprise_id JOIN users u ON u.id = p.owner_id {SUMS}
        WHERE {COUNTED} ORDER BY p.zone_id, p.signed_date, p.id""",
                 [("园区", "s", None, 20, False), ("项目名称", "s", None, 30, False), ("企业名称", "s", None, 30, False),
                  ("统一社会信用代码", "s", None, 20, False), ("阶段", "s", None, 6, False), ("签约日期", "d", DATE, 12, False),
                  ("计划投资额（万元）", "n", MONEY, 14, True), ("协议投资额（万元）", "n", MONEY, 16, True),
                  ("用地（亩）", "n", MONEY, 10, True), ("亩均投资强度（万元/亩）", "n", MONEY, 14, False),
                  ("达产年产值（万元）", "n", MONEY, 14, True), ("达产年税收（万元）", "n", MONEY, 14, True),
                  ("新增就业（人）", "n", INTEGER, 10, True), ("增资（万元）", "n", MONEY, 12, True),
                  ("累计到资（万元）", "n", MONEY, 14, True), ("到资率", "n", PERCENT, 8, False),
                  ("来源", "s", None, 10, False), ("负责人", "s", None, 8, False)]),
    "节点与预警": (f"""SELECT z.name, p.name, p.stage, p.signed_date, p.due_registered, p.registered_date,
        p.due_started, p.started_date, p.due_production, p.production_date, p.due_full_production,
        p.full_production_date, NULL FROM projects p JOIN zones z ON z.id = p.zone_id
        JOIN enterprises e ON e.id = p.enterprise_id JOIN users u ON u.id = p.owner_id {SUMS}
        WHERE {COUNTED} ORDER BY p.zone_id, p.signed_date, p.id""",
                  [("园区", "s", None, 20, False), ("项目名称", "s", None, 30, False), ("阶段", "s", None, 6, False),
                   *((h, "d", DATE, 12, False) for h in ("签约日期", "约定注册", "实际注册", "约定开工", "实际开工",
                                                          "约定投产", "实际投产", "约定达产", "实际达产")),
                   ("预警", "s", None, 40, False)]),
    "本月到资": (f"""SELECT z.name, p.name, x.month, x.amount, coalesce(f.total, 0),
        p.contract_investment + coalesce(i.total, 0),
        coalesce(f.total, 0) / NULLIF(p.contract_investment + coalesce(i.total, 0), 0), x.note
        FROM funds_in_place x JOIN projects p ON p.id = x.project_id JOIN zones z ON z.id = p.zone_id {SUMS}
        WHERE x.deleted_at IS NULL AND x.zone_id IN :zones AND x.month BETWEEN :start AND :end AND {COUNTED}
        ORDER BY x.zone_id, x.project_id""",
                 [("园区", "s", None, 20, False), ("项目名称", "s", None, 30, False), ("月份", "m", None, 8, False),
                  ("本月到资（万元）", "n", MONEY, 14, True), ("累计到资（万元）", "n", MONEY, 14, False),
                  ("协议投资额（含增资）（万元）", "n", MONEY, 16, False), ("到资率", "n", PERCENT, 8, False),
                  ("备注", "s", None, 20, False)]),
    "本月走访": ("""SELECT v.visit_date, e.name, p.name, v.kind, v.our_leader, v.our_people, v.their_people,
        v.summary, v.outcome, v.next_step, v.next_step_due, u.display_name FROM visits v
        JOIN enterprises e ON e.id = v.enterprise_id LEFT JOIN projects p ON p.id = v.project_id
        JOIN users u ON u.id = v.officer_id
        WHERE v.deleted_at IS NULL AND v.zone_id IN :zones AND v.visit_date BETWEEN :start AND :end
        ORDER BY v.visit_date, v.id""",
                 [("日期", "d", DATE, 12, False), ("企业名称", "s", None, 30, False), ("项目名称", "s", None, 30, False),
                  ("方式", "s", None, 10, False), ("我方带队领导", "s", None, 12, False), ("我方人员", "s", None, 16, False),
                  ("对方人员", "s", None, 16, False), ("洽谈内容", "s", None, 40, False), ("成果", "s", None, 20, False),
                  ("下一步", "s", None, 20, False), ("期限", "d", DATE, 12, False), ("记录人", "s", None, 8, False)]),
}
# The 汇总's figures of one period (start–end) as one aggregate: signings, amounts, funds, milestones.
FLOOR_SUMMARY = f"""SELECT
    sum(CASE WHEN p.signed_date >= :start THEN 1 ELSE 0 END),
    sum(CASE WHEN p.signed_date >= :start THEN p.contract_investment ELSE 0 END),
    (SELECT coalesce(sum(c.amount), 0) FROM capital_increases c JOIN projects q ON q.id = c.project_id
     WHERE c.deleted_at IS NULL AND c.zone_id IN :zones AND c.signed_date BETWEEN :start AND :end
     AND q.deleted_at IS NULL AND q.stage != '终止'),
    (SELECT coalesce(sum(x.amount), 0) FROM funds_in_place x JOIN projects q ON q.id = x.project_id
     WHERE x.deleted_at IS NULL AND x.zone_id IN :zones AND x.month BETWEEN :start AND :end
     AND q.deleted_at IS NULL AND q.signed_date <= :end AND q.stage != '终止'),
    sum(CASE WHEN p.signed_date >= :start AND p.registered_date <= :end THEN 1 ELSE 0 END),
    sum(CASE WHEN p.signed_date >= :start AND p.started_date <= :end THEN 1 ELSE 0 END),
    sum(CASE WHEN p.signed_date >= :start AND p.production_date <= :end THEN 1 ELSE 0 END),
    sum(CASE WHEN p.signed_date >= :start THEN coalesce(f.total, 0) ELSE 0 END),
    sum(CASE WHEN p.signed_date >= :start THEN p.contract_investment + coalesce(i.total, 0) ELSE 0 END)
    FROM projects p {SUMS} WHERE {COUNTED}"""
SUMMARY_LABELS = (("新签约项目（个）", INTEGER), ("新签协议投资额（万元）", MONEY), ("增资（万元）", MONEY),
                  ("签约额合计（万元，含增资）", MONEY), ("到资（万元）", MONEY), ("注册率", PERCENT), ("开工率", PERCENT),
                  ("投产率", PERCENT), ("到资率", PERCENT))


def _as_date(value):
    if isinstance(value, str):  # SQLite
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def floor_export(conn, zones: list[int], month: str, out, today: date) -> int:
    """The ledger's workbook written by hand: the same sheets, cells and formats; the queries included."""
    import xlsxwriter

    from crm.formatting import LOCAL_TZ

    start, end = month_bounds(month)
    as_of = min(end, today)
    end_ts = datetime.combine(end + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    params = {"zones": zones, "stages": ["线索", "接洽", "考察", "洽谈", "搁置"], "start": start, "end": end,
              "end_ts": end_ts}
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False})
    title_format = book.add_format({"bold": True, "font_size": 14})
    header_format = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "border_color": "#999999",
                                     "align": "center", "valign": "vcenter", "text_wrap": True})
    formats, bold = {}, {}
    for number_format in (None, MONEY, INTEGER, DATE, PERCENT):
        formats[number_format] = book.add_format({"num_format": number_format}) if number_format else None
        bold[number_format] = book.add_format({"bold": True, **({"num_format": number_format} if number_format else {})})
    title = f"园区 {start.year}年{start.month}月招商项目台账"
    subtitle = f"统计截至 {as_of.isoformat()}，打印于 {today.isoformat()} 18:00"

    # The app writes the day a project entered its stage (PostgreSQL's timestamptz, which XlsxWriter refuses).
    stage_day = "CAST(p.stage_changed_at AS DATE)" if conn.dialect.name == "postgresql" else "date(p.stage_changed_at)"

    def statement(sql):
        sql = sql.replace("{stage_day}", stage_day)
        stmt = text(sql).bindparams(bindparam("zones", expanding=True))
        if ":stages" in sql:
            stmt = stmt.bindparams(bindparam("stages", expanding=True))
        return stmt, {k: v for k, v in params.items() if f":{k}" in sql}

    def sheet(name, headers, widths):
        ws = book.add_worksheet(name)
        ws.freeze_panes(3, 0)
        ws.repeat_rows(2, 2)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_footer("&C第 &P 页，共 &N 页")
        for index, width in enumerate(widths):
            ws.set_column(index, index, width + 2)
        ws.write_string(0, 0, f"{title} · {name}", title_format)
        ws.write_string(1, 0, subtitle)
        for index, heading in enumerate(headers):
            ws.write_string(2, index, heading, header_format)
        return ws

    ws = sheet("汇总", ["指标", "本月", "本年累计", "年度目标", "完成/差距"], [26, 16, 16, 16, 16])
    periods = []
    for first in (start, date(start.year, 1, 1)):
        stmt, used = statement(FLOOR_SUMMARY)
        signed, contract, increases, funds, registered, started, produced, funded, committed = (
            conn.execute(stmt, {**used, "start": first}).one())
        signed = signed or 0
        periods.append((signed, contract or 0, increases, (contract or 0) + increases, funds,
                        registered / signed if signed else None, started / signed if signed else None,
                        produced / signed if signed else None, funded / committed if committed else None))
    target = conn.execute(text("SELECT sum(signed_count), sum(signed_amount) FROM zone_targets WHERE year = :y "
                               "AND zone_id IN :zones").bindparams(bindparam("zones", expanding=True)),
                          {"y": start.year, "zones": zones}).one()
    for index, (label, number_format) in enumerate(SUMMARY_LABELS):
        ws.write_string(3 + index, 0, label)
        for col, period in ((1, periods[0]), (2, periods[1])):
            if period[index] is not None:
                ws.write_number(3 + index, col, float(period[index]), formats[number_format])
        goal = target[0] if index == 0 else target[1] if index == 3 else None
        if goal:
            ws.write_number(3 + index, 3, float(goal), formats[number_format])
            ws.write_number(3 + index, 4, float(periods[1][index]) / float(goal), formats[PERCENT])
    ws.write_string(3 + len(SUMMARY_LABELS), 0, "注：新签约按首次签约日期计……")

    rows = 0
    for name, (sql, columns) in FLOOR_SHEETS.items():
        ws = sheet(name, [c[0] for c in columns], [c[3] for c in columns])
        kinds = [(index, kind, formats[number_format]) for index, (_, kind, number_format, _, _) in enumerate(columns)]
        summed = [index for index, column in enumerate(columns) if column[4]]
        totals = [0.0] * len(columns)
        stmt, used = statement(sql)
        row_index = 3
        for row in conn.execute(stmt, used, execution_options={"yield_per": 500}):  # this query only
            for index, kind, fmt in kinds:
                value = row[index]
                if value is None:
                    continue
                if kind == "s":
                    ws.write_string(row_index, index, value, fmt)
                elif kind == "n":
                    ws.write_number(row_index, index, float(value), fmt)
                elif kind == "m":
                    ws.write_string(row_index, index, str(value)[:7], fmt)
                else:
                    ws.write_datetime(row_index, index, _as_date(value), fmt)
            for index in summed:
                if row[index] is not None:
                    totals[index] += float(row[index])
            row_index += 1
        ws.write_string(row_index, 0, f"合计（{row_index - 3} 项）", bold[columns[0][2]])
        for index in range(1, len(columns)):
            if columns[index][4]:
                ws.write_number(row_index, index, totals[index], bold[columns[index][2]])
            else:
                ws.write_blank(row_index, index, None, bold[columns[index][2]])
        rows += row_index - 3
    book.close()
    return rows


# --- one measurement, in its own process ----------------------------------------------------------------

def worker(url: str, mode: str, month: str | None, username: str) -> dict:
    from crm import create_app
    from crm.accounts.models import User
    from crm.extensions import db
    from crm.formatting import LOCAL_TZ

    today = dataset_today(url)
    month = month or today.strftime("%Y-%m")
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), tempfile.TemporaryDirectory() as scratch:
        user = db.session.scalar(select(User).where(User.username == username))
        zones = user.zone_ids
        db.session.execute(text("SELECT 1"))
        path = os.path.join(scratch, "ledger.xlsx")
        with open(path, "wb") as out:
            base = _status_kib("VmRSS")
            _reset_peak()
            started = time.perf_counter()
            if mode == "app":
                from crm.ledger.export import export_ledger

                counts = export_ledger(user, month, out, printed_at=datetime.combine(today, dtime(18), LOCAL_TZ))
                rows = sum(v for k, v in counts.items() if k != "汇总")
            else:
                with db.engine.connect() as conn:
                    rows = floor_export(conn, zones, month, out, today)
            seconds = time.perf_counter() - started
            peak = _status_kib("VmHWM")
        return {"mode": mode, "month": month, "seconds": round(seconds, 3), "rows": rows,
                "bytes": os.path.getsize(path), "base_rss_kib": base, "peak_rss_kib": peak}


def _measure(url: str, mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "bench.export", "--url", url, "--mode", mode],
                          capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"bench.export {mode} {url} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(lines[-1])


def compare(urls: dict[str, str], runs: int, log=print) -> dict:
    """Floor and app alternately, ``runs`` times each per data set: medians, the spread of the ratio."""
    results = {}
    for name, url in urls.items():
        samples = {"floor": [], "app": []}
        for _ in range(runs):
            for mode in ("floor", "app"):
                samples[mode].append(_measure(url, mode))
        pairs = [a["seconds"] / f["seconds"] for f, a in zip(samples["floor"], samples["app"])]
        app = {key: statistics.median(s[key] for s in samples["app"])
               for key in ("seconds", "peak_rss_kib", "base_rss_kib")}
        floor = {key: statistics.median(s[key] for s in samples["floor"])
                 for key in ("seconds", "peak_rss_kib", "base_rss_kib")}
        # The ratio is the median of each pair's (a floor run and the app run right after it), so that
        # a shared machine's load drifting between runs moves both sides of a pair alike.
        results[name] = {"month": samples["app"][0]["month"], "rows": samples["app"][0]["rows"],
                         "floor_rows": samples["floor"][0]["rows"], "app": app, "floor": floor,
                         "ratio": statistics.median(pairs), "pair_ratios": pairs}
        log(f"{name} ({results[name]['month']}, {results[name]['rows']:,} rows): app {app['seconds']:.2f}s, "
            f"floor {floor['seconds']:.2f}s (medians), app/floor {results[name]['ratio']:.2f} "
            f"(median of the pairs {', '.join(f'{p:.2f}' for p in pairs)}); "
            f"peak RSS app {app['peak_rss_kib'] / 1024:.0f} MiB "
            f"(+{(app['peak_rss_kib'] - app['base_rss_kib']) / 1024:.0f} over its start), "
            f"floor {floor['peak_rss_kib'] / 1024:.0f} MiB (+{(floor['peak_rss_kib'] - floor['base_rss_kib']) / 1024:.0f})")
    if {"ledger10k", "ledger100k"} <= set(results):
        big, small = results["ledger100k"]["app"], results["ledger10k"]["app"]
        peak = big["peak_rss_kib"] / small["peak_rss_kib"]
        added = (big["peak_rss_kib"] - big["base_rss_kib"]) / max(1, small["peak_rss_kib"] - small["base_rss_kib"])
        verdict = "within" if results["ledger100k"]["ratio"] <= TARGET_RATIO and peak <= TARGET_MEMORY else "MISSES"
        log(f"peak memory 100k/10k: {peak:.2f} (what the export added: {added:.2f}); "
            f"100k app/floor {results['ledger100k']['ratio']:.2f} — {verdict} the targets "
            f"({TARGET_RATIO}× the floor, {TARGET_MEMORY}× the memory)")
        results["memory_growth"] = {"peak": peak, "added": added}
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export")
    parser.add_argument("--url", help="one data set (with --mode); default: bench/out/ledger10k.db and ledger100k.db")
    parser.add_argument("--mode", choices=("app", "floor"))
    parser.add_argument("--month", default=None, help="YYYY-MM; default: the month of the data set's --today")
    parser.add_argument("--user", default="chief1")
    parser.add_argument("--runs", type=int, default=3, help="without --mode: floor/app pairs per data set")
    args = parser.parse_args(argv)
    if args.mode:
        if not args.url:
            parser.error("--mode needs --url")
        with pinned_clock(dataset_today(args.url)):
            print(json.dumps(worker(args.url, args.mode, args.month, args.user)))
        return 0
    urls = {args.url: args.url} if args.url else {
        name: os.environ.get(f"BENCH_DATABASE_URL_{name.upper()}") or f"sqlite:///{OUT / (name + '.db')}"
        for name in DATASETS}
    compare(urls, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
