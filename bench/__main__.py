"""``make bench``: generate the data sets if needed, measure, print the table, write bench/RESULTS.md.

    python -m bench [--only pages,growth,export,import,gap] [--runs N] [--quick]

Data sets are SQLite files under bench/out/ (made once, reused), unless BENCH_DATABASE_URL_ZONE,
BENCH_DATABASE_URL_CITY, BENCH_DATABASE_URL_LEDGER10K, BENCH_DATABASE_URL_LEDGER100K name
PostgreSQL databases (generated there when empty). See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from bench import generate

OUT = Path(__file__).parent / "out"
RESULTS = Path(__file__).parent / "RESULTS.md"
DATASETS = ("zone", "city", "ledger10k", "ledger100k")
NOTES_MARKER = "<!-- notes: kept across runs -->"
TARGETS = {"page": 3.0, "growth": 2.0, "export": 1.5, "memory": 1.2, "import": 3.0}


def log(message: str = "") -> None:
    print(message, flush=True)


def dataset_url(name: str) -> str:
    return os.environ.get(f"BENCH_DATABASE_URL_{name.upper()}") or f"sqlite:///{OUT / (name + '.db')}"


def _migration_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def ensure_dataset(name: str) -> str:
    """The data set's URL, generated first when it is missing, empty or of an older schema."""
    url = dataset_url(name)
    generate.ensure_postgres_database(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            ready = ("enterprises" in tables and "alembic_version" in tables
                     and conn.scalar(text("SELECT version_num FROM alembic_version")) == _migration_head()
                     and conn.scalar(text("SELECT count(*) FROM enterprises")) > 0)
    finally:
        engine.dispose()
    if not ready:
        log(f"  generating {name} into {url}")
        result = generate.build(url, name, reset=True)
        log(f"  {name}: {sum(result['counts'].values()):,} rows in {result['timings']['total']}s")
    return url


def _subprocess_json(args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(lines[-1])


def _database_label(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return f"SQLite {conn.exec_driver_sql('select sqlite_version()').scalar()} (WAL, file)"
            return conn.exec_driver_sql("show server_version").scalar().split()[0].join(("PostgreSQL ", ""))
    finally:
        engine.dispose()


def bench_pages(urls: dict, runs: int) -> dict:
    from bench.pages import measure_pages

    results = {}
    for scale in ("zone", "city"):
        log(f"  pages at {scale} scale ({urls[scale]})")
        results[scale] = measure_pages(urls[scale], runs=runs, log=log)
    return results


def profile_pages(url: str, keys: set[str], scale: str) -> dict[str, str]:
    """cProfile one request of each page that misses a target; the top of it goes to RESULTS.md."""
    import cProfile
    import io
    import pstats

    from bench.pages import PAGES, bench_app, context, signed_in_client

    app = bench_app(url)
    ctx = context(app)
    users = {role: signed_in_client(app, ctx["users"][role].username) for role in ("chief", "admin", "officer")}
    profiles = {}
    (OUT / "profiles").mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        if page.key not in keys:
            continue
        client = users[page.role]
        path = page.path.format(**ctx)
        client.get(path)
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(path)
        profiler.disable()
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(r"crm/|templating|jinja2/environment|sqlalchemy/orm/loading|"
                                                   r"engine/base.py.*_execute_context|cursor.py.*fetch", 14)
        text_out = stream.getvalue()
        (OUT / "profiles" / f"{scale}_{page.key}.txt").write_text(text_out)
        profiles[page.key] = _profile_summary(text_out)
    return profiles


def _profile_summary(text_out: str) -> str:
    import re

    row = re.compile(r"^\s*([\d/]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(.*)$")
    lines = []
    for line in text_out.splitlines():
        match = row.match(line)
        if match:
            where = match.group(6).replace(str(Path(__file__).resolve().parent.parent) + "/", "")
            where = where.split("site-packages/")[-1]
            lines.append(f"{float(match.group(4)) * 1000:8.1f} ms  {where}")
    return "\n".join(lines[:12])


def bench_export(urls: dict, runs: int) -> dict:
    out = {}
    for name in ("ledger10k", "ledger100k"):
        for mode in ("floor", "app"):
            samples = [_subprocess_json(["bench.export", "--url", urls[name], "--mode", mode])
                       for _ in range(runs)]
            best = sorted(samples, key=lambda s: s["seconds"])[len(samples) // 2]
            out[(name, mode)] = best
            log(f"  export {name} {mode}: {best['seconds']:.2f}s, {best['rows']:,} rows, "
                f"peak {best['peak_rss_kib'] / 1024:.0f} MiB (+{(best['peak_rss_kib'] - best['base_rss_kib']) / 1024:.0f})")
    return out


def bench_import(url: str) -> dict:
    # On a copy (SQLite) so the zone data set is never touched; the import rolls back anyway.
    if url.startswith("sqlite:///"):
        copy = OUT / "import_zone.db"
        shutil.copyfile(url[len("sqlite:///"):], copy)
        url = f"sqlite:///{copy}"
    floor = _subprocess_json(["bench.imports", "--url", url, "--mode", "floor"])
    log(f"  import floor: {floor['seconds']:.1f}s for {floor['rows']:,} rows")
    app = _subprocess_json(["bench.imports", "--url", url, "--mode", "app"])
    log(f"  import app: {app['seconds']:.1f}s {app['phases']}")
    return {"floor": floor, "app": app}


def bench_gap(urls: dict, runs: int) -> dict:
    from sqlalchemy import select

    from bench.pages import _median_ms, bench_app, context
    from chains.analysis import analyse_gaps
    from crm.extensions import db
    from crm.accounts.models import User
    from crm.chains import gaps as ca

    out = {}
    for scale in ("zone", "city"):
        app = bench_app(urls[scale])
        ctx = context(app)
        with app.app_context():
            user = db.session.scalar(select(User).where(User.id == ctx["user_pk"]["chief"]))
            zone_ids, _ = ca.analysed_zones(user, None)
            graph = ca.chain_graph(ctx["chain"])
            codes = list(graph.nodes)
            own = [c for c in codes if not graph.nodes[c].get("external")]
            presence = ca.presence_for(codes, zone_ids, user=user)
            pipeline = ca.pipeline_for(own, zone_ids, user=user)
            pure = statistics.median(_median_ms(lambda: analyse_gaps(graph, presence, pipeline.weighted), runs * 3, 10))
            queries = statistics.median(_median_ms(
                lambda: (ca.presence_for(codes, zone_ids, user=user), ca.pipeline_for(own, zone_ids, user=user)),
                runs, 10))
            full = statistics.median(_median_ms(lambda: ca.analyse_chain(user, ctx["chain"], None), runs, 10))
            db.session.remove()
            out[scale] = {"pure": pure, "queries": queries, "full": full, "segments": len(codes)}
            log(f"  gap {scale}: pure {pure:.1f} ms, presence+pipeline queries {queries:.1f} ms, "
                f"analyse_chain {full:.1f} ms ({len(codes)} segments)")
        with app.app_context():
            db.engine.dispose()
    return out


def ok(value: float, target: float) -> str:
    return "✅" if value <= target else "❌"


def render(meta: dict, pages: dict | None, export: dict | None, imported: dict | None, gap: dict | None,
           profiles: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        f"- database: {meta['database']}",
        f"- command: `{meta['command']}` (total {meta['seconds']:.0f} s)",
        f"- data: zone = 10k enterprises / 2k projects / 20k visits (1 zone, 10 users); "
        f"city = 100k / 20k / 200k (6 zones, 60 users); seed {generate_seed()}",
        "- timings: median of N runs after 2 warm-up runs (`time.perf_counter`); page = `app.test_client().get()` "
        "signed in (chief of zone 1, or the city admin); floor = the page's SQL hand-written with `text()` on the "
        "same pooled connection, all rows fetched",
        "",
    ]
    if pages:
        lines += ["## Pages: page/floor and growth (city/zone)", "",
                  "| page | zone page ms | zone floor ms | zone page/floor | city page ms | city floor ms | "
                  "city page/floor | growth city/zone (page) | growth (floor) | queries | KB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for zone_m, city_m in zip(pages["zone"], pages["city"]):
            growth = city_m.page_ms / zone_m.page_ms
            floor_growth = city_m.floor_ms / zone_m.floor_ms
            lines.append(
                f"| {zone_m.page.label} `{zone_m.page.path}` | {zone_m.page_ms:.1f} | {zone_m.floor_ms:.1f} | "
                f"{zone_m.ratio:.1f} {ok(zone_m.ratio, TARGETS['page'])} | {city_m.page_ms:.1f} | "
                f"{city_m.floor_ms:.1f} | {city_m.ratio:.1f} {ok(city_m.ratio, TARGETS['page'])} | "
                f"{growth:.1f} {ok(growth, TARGETS['growth'])} | {floor_growth:.1f} | "
                f"{city_m.queries} | {city_m.bytes / 1024:.0f} |")
        lines.append("")
    if gap:
        lines += ["## Gap analysis (chief's zone, its leading chain)", "",
                  "| scale | segments | pure `analyse_gaps` ms | presence + pipeline queries ms | `analyse_chain` ms |",
                  "|---|---:|---:|---:|---:|"]
        for scale, row in gap.items():
            lines.append(f"| {scale} | {row['segments']} | {row['pure']:.2f} | {row['queries']:.1f} | {row['full']:.1f} |")
        lines.append("")
    if export:
        lines += ["## Monthly ledger export (`export_ledger`) vs openpyxl write-only, plain values", "",
                  "| data set | rows | app s | floor s | app/floor | app peak RSS MiB | app RSS growth MiB | "
                  "floor peak RSS MiB |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name in ("ledger10k", "ledger100k"):
            app, floor = export[(name, "app")], export[(name, "floor")]
            ratio = app["seconds"] / floor["seconds"]
            lines.append(f"| {name} | {app['rows']:,} | {app['seconds']:.2f} | {floor['seconds']:.2f} | {ratio:.1f} "
                         f"{ok(ratio, TARGETS['export'])} | {app['peak_rss_kib'] / 1024:.0f} | "
                         f"{(app['peak_rss_kib'] - app['base_rss_kib']) / 1024:.0f} | {floor['peak_rss_kib'] / 1024:.0f} |")
        big, small = export[("ledger100k", "app")], export[("ledger10k", "app")]
        peak = big["peak_rss_kib"] / small["peak_rss_kib"]
        growth = (big["peak_rss_kib"] - big["base_rss_kib"]) / max(1, small["peak_rss_kib"] - small["base_rss_kib"])
        lines += ["", f"Peak memory 100k/10k: whole process {peak:.2f} {ok(peak, TARGETS['memory'])}; "
                      f"what the export itself added {growth:.2f}. Memory = the worker process's own peak "
                      "resident set (Linux VmHWM, reset just before the export), and that less VmRSS just "
                      "before the export (see bench/export.py).", ""]
    if imported:
        app, floor = imported["app"], imported["floor"]
        ratio = app["seconds"] / floor["seconds"]
        lines += ["## Import of 50,000 enterprise rows vs openpyxl read-only", "",
                  "| rows | file MB | app s (read / dry run / commit) | floor s | app/floor | read/floor |",
                  "|---:|---:|---|---:|---:|---:|",
                  f"| {app['rows']:,} | {app['file_bytes'] / 1e6:.1f} | {app['seconds']:.1f} "
                  f"({app['phases']['read']:.1f} / {app['phases']['dry_run']:.1f} / {app['phases']['commit']:.1f}) | "
                  f"{floor['seconds']:.1f} | {ratio:.1f} {ok(ratio, TARGETS['import'])} | "
                  f"{app['phases']['read'] / floor['seconds']:.1f} |", ""]
    if profiles:
        lines += ["## Profiles of the misses (city scale, one request, cumulative time)", ""]
        for key, summary in profiles.items():
            lines += [f"### {key}", "", "```", summary, "```", ""]
    return "\n".join(lines) + "\n"


def generate_seed() -> int:
    return 2026


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default="pages,export,import,gap")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--export-runs", type=int, default=1)
    parser.add_argument("--output", default=str(RESULTS), help="where to write the results (Markdown)")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    started = time.perf_counter()
    OUT.mkdir(exist_ok=True)
    log("data sets")
    needed = {"zone", "city"} if only & {"pages", "gap", "import"} else set()
    if "export" in only:
        needed |= {"ledger10k", "ledger100k"}
    urls = {name: ensure_dataset(name) for name in DATASETS if name in needed}
    pages = export = imported = gap = None
    profiles = {}
    if "pages" in only:
        log("pages")
        pages = bench_pages(urls, args.runs)
        misses = {z.page.key for z, c in zip(pages["zone"], pages["city"])
                  if max(z.ratio, c.ratio) > TARGETS["page"] or c.page_ms / z.page_ms > TARGETS["growth"]}
        profiles = profile_pages(urls["city"], misses, "city")
    if "gap" in only:
        log("gap analysis")
        gap = bench_gap(urls, args.runs)
    if "export" in only:
        log("ledger export")
        export = bench_export(urls, args.export_runs)
    if "import" in only:
        log("import")
        imported = bench_import(urls["zone"])
    database = _database_label(next(iter(urls.values()))) if urls else "—"
    meta = {
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
                   f"Python {platform.python_version()}, load average at start {os.getloadavg()[0]:.1f}",
        "database": database,
        "command": "make bench" if argv is None and len(sys.argv) == 1 else "python -m bench " + " ".join(sys.argv[1:]),
        "seconds": time.perf_counter() - started,
    }
    report = render(meta, pages, export, imported, gap, profiles)
    # The hand-written analysis below the marker survives a new run.
    output = Path(args.output)
    if output.exists() and NOTES_MARKER in output.read_text():
        report += "\n" + NOTES_MARKER + output.read_text().split(NOTES_MARKER, 1)[1]
    log()
    log(report)
    output.write_text(report)
    log(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
