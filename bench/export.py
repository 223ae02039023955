"""The monthly ledger export against openpyxl write-only writing the same rows with no formatting.

Each measurement runs in a fresh process (``python -m bench.export --url … --mode app|floor``)
that prints one JSON line: seconds, rows, bytes, and memory. The month is the data set's today's
(``bench_dataset``, written by the generator) unless ``--month`` names one, and the process's clock
reads that today, so the rows do not depend on the day the bench runs. Memory is the process's own peak
resident set: Linux's VmHWM from /proc/self/status, reset (``/proc/self/clear_refs``) just before
the export starts, read when it ends; and VmRSS just before it starts (imports, the app and the
signed-in user loaded). Their difference is what the export itself held at its peak — the XML
writer's and SQLite's buffers included, which tracemalloc would not see. (``getrusage`` is not
used: its ``ru_maxrss`` carries over the high-water mark of the parent the process was forked
from, the benchmark runner, so every child would report the runner's size.)
"""
from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, text

from crm.inputs import month_bounds


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


FLOOR_SHEETS = {
    "在谈项目": """SELECT z.name, p.name, e.name, e.uscc, p.stage, p.planned_investment, p.land_area, p.source,
        u.display_name, {stage_day} FROM projects p JOIN zones z ON z.id = p.zone_id
        JOIN enterprises e ON e.id = p.enterprise_id JOIN users u ON u.id = p.owner_id
        WHERE p.deleted_at IS NULL AND p.zone_id IN :zones AND p.stage IN :stages AND p.created_at <= :end_ts
        ORDER BY p.zone_id, p.stage, p.id""",
    "签约项目": """SELECT z.name, p.name, e.name, e.uscc, p.stage, p.signed_date, p.contract_investment, p.land_area,
        p.contract_investment / p.land_area, p.annual_output_value, p.annual_tax, p.jobs, f.total,
        f.total / p.contract_investment, u.display_name FROM projects p JOIN zones z ON z.id = p.zone_id
        JOIN enterprises e ON e.id = p.enterprise_id JOIN users u ON u.id = p.owner_id
        LEFT JOIN (SELECT project_id, sum(amount) AS total FROM funds_in_place WHERE deleted_at IS NULL
                   AND month <= :end GROUP BY project_id) f ON f.project_id = p.id
        WHERE p.deleted_at IS NULL AND p.zone_id IN :zones AND p.signed_date <= :end AND p.stage != '终止'
        ORDER BY p.zone_id, p.signed_date, p.id""",
    "节点与预警": """SELECT z.name, p.name, p.stage, p.signed_date, p.due_registered, p.registered_date,
        p.due_started, p.started_date, p.due_production, p.production_date, p.due_full_production,
        p.full_production_date FROM projects p JOIN zones z ON z.id = p.zone_id
        WHERE p.deleted_at IS NULL AND p.zone_id IN :zones AND p.signed_date <= :end AND p.stage != '终止'
        ORDER BY p.zone_id, p.signed_date, p.id""",
    "本月到资": """SELECT z.name, p.name, f.month, f.amount, p.contract_investment, f.note FROM funds_in_place f
        JOIN projects p ON p.id = f.project_id JOIN zones z ON z.id = p.zone_id
        WHERE f.deleted_at IS NULL AND f.zone_id IN :zones AND f.month BETWEEN :start AND :end
        ORDER BY f.zone_id, f.project_id""",
    "本月走访": """SELECT v.visit_date, e.name, p.name, v.kind, v.our_leader, v.our_people, v.their_people, v.summary,
        v.outcome, v.next_step, v.next_step_due, u.display_name FROM visits v
        JOIN enterprises e ON e.id = v.enterprise_id LEFT JOIN projects p ON p.id = v.project_id
        JOIN users u ON u.id = v.officer_id
        WHERE v.deleted_at IS NULL AND v.zone_id IN :zones AND v.visit_date BETWEEN :start AND :end
        ORDER BY v.visit_date, v.id""",
}


def floor_export(conn, zones: list[int], month: str, out) -> int:
    """The same rows, plain values, one write-only sheet each; the query included."""
    from openpyxl import Workbook

    start, end = month_bounds(month)
    from crm.formatting import LOCAL_TZ

    end_ts = datetime.combine(end + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    params = {"zones": zones, "stages": ["线索", "接洽", "考察", "洽谈", "搁置"], "start": start, "end": end,
              "end_ts": end_ts}
    # The app writes the day a project entered its stage; a timestamptz cell is refused by openpyxl anyway.
    stage_day = "CAST(p.stage_changed_at AS DATE)" if conn.dialect.name == "postgresql" else "date(p.stage_changed_at)"
    workbook = Workbook(write_only=True)
    rows = 0
    for name, sql in FLOOR_SHEETS.items():
        sheet = workbook.create_sheet(name)
        used = {k: v for k, v in params.items() if f":{k}" in sql}
        statement = text(sql.replace("{stage_day}", stage_day)).bindparams(bindparam("zones", expanding=True))
        if ":stages" in sql:
            statement = statement.bindparams(bindparam("stages", expanding=True))
        result = conn.execute(statement, used, execution_options={"yield_per": 1000})
        for row in result:
            sheet.append(list(row))
            rows += 1
    workbook.save(out)
    return rows


def worker(url: str, mode: str, month: str, username: str) -> dict:
    from crm import create_app
    from crm.extensions import db
    from crm.accounts.models import User

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        zones = user.zone_ids
        db.session.execute(text("SELECT 1"))
        out = io.BytesIO()
        base = _status_kib("VmRSS")
        _reset_peak()
        started = time.perf_counter()
        if mode == "app":
            from crm.ledger.export import export_ledger

            counts = export_ledger(user, month, out)
            rows = sum(v for k, v in counts.items() if k != "汇总")
        else:
            with db.engine.connect() as conn:
                rows = floor_export(conn, zones, month, out)
        seconds = time.perf_counter() - started
        return {"mode": mode, "seconds": round(seconds, 3), "rows": rows, "bytes": out.tell(),
                "base_rss_kib": base, "peak_rss_kib": _status_kib("VmHWM")}


def main(argv=None) -> int:
    from bench.generate import dataset_today, pinned_clock

    parser = argparse.ArgumentParser(prog="python -m bench.export")
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=("app", "floor"), required=True)
    parser.add_argument("--month", default=None, help="YYYY-MM (default: the month of the data set's today)")
    parser.add_argument("--user", default="chief1")
    args = parser.parse_args(argv)
    # As of the data set's today: its month by default, and the clock (the ledger's as-of date) pinned there.
    today = dataset_today(args.url)
    month = args.month or today.strftime("%Y-%m")
    with pinned_clock(today):
        result = worker(args.url, args.mode, month, args.user)
    print(json.dumps({**result, "month": month, "today": today.isoformat()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
