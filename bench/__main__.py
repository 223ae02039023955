"""``make bench``: generate the data sets if needed, measure, print the table, write bench/RESULTS.md.

    python -m bench [--only pages,gap,export,import] [--runs N] [--today YYYY-MM-DD] [--output FILE]
    python -m bench --quick          # a tiny data set made fresh in a temp dir; every page and floor once or twice

Data sets are SQLite files under bench/out/ (made once, reused), unless BENCH_DATABASE_URL_ZONE,
BENCH_DATABASE_URL_CITY, BENCH_DATABASE_URL_LEDGER10K, BENCH_DATABASE_URL_LEDGER100K (and, for
--quick, BENCH_DATABASE_URL_TINY or --database-url) name PostgreSQL databases (generated there when
empty). Everything is measured as of the data sets' today (the generator's --today, stored in each
data set): the clock of every measured process is pinned there. The run exits 1 when a page, floor
or section fails. See bench/README.md.
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
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from bench import generate

OUT = Path(__file__).parent / "out"
RESULTS = Path(__file__).parent / "RESULTS.md"
DATASETS = ("zone", "city", "ledger10k", "ledger100k")
QUICK = "tiny"
SEED = 2026
NOTES_MARKER = "<!-- notes: kept across runs -->"
# Issue 12's targets: page ≤ 2× its floor; growth city/zone ≤ 2× (≤ 1.5× for the pages that show one
# page of rows: bench.pages.Page.growth_target); export ≤ 1.5× with memory flat; import ≤ 2× its read floor.
TARGETS = {"page": 2.0, "export": 1.5, "memory": 1.2, "import": 2.0}


def log(message: str = "") -> None:
    print(message, flush=True)


def dataset_url(name: str, directory: Path = OUT) -> str:
    return os.environ.get(f"BENCH_DATABASE_URL_{name.upper()}") or f"sqlite:///{directory / (name + '.db')}"


def _migration_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def ensure_dataset(name: str, today: date, url: str | None = None, fresh: bool = False) -> str:
    """The data set's URL, generated first when it is missing, empty, of an older schema, or of another
    scale, seed or today than asked (``fresh``: generated again whatever it holds)."""
    url = generate.absolute_url(url or dataset_url(name))
    generate.ensure_postgres_database(url)
    ready = False
    if not fresh:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                tables = inspect(conn).get_table_names()
                ready = ("enterprises" in tables and "alembic_version" in tables
                         and conn.scalar(text("SELECT version_num FROM alembic_version")) == _migration_head()
                         and conn.scalar(text("SELECT count(*) FROM enterprises")) > 0)
        finally:
            engine.dispose()
        wanted = {"scale": name, "seed": str(SEED), "today": today.isoformat()}
        facts = generate.dataset_facts(url) if ready else None
        ready = bool(facts) and all(facts.get(k) == v for k, v in wanted.items())
    if not ready:
        log(f"  generating {name} as of {today} into {url}")
        result = generate.build(url, name, seed=SEED, today=today, reset=True)
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


def bench_pages(urls: dict, scales: tuple[str, ...], runs: int, today: date, budget_s: float) -> dict:
    from bench.pages import measure_pages

    results = {}
    for scale in scales:
        log(f"  pages at {scale} scale ({urls[scale]})")
        results[scale] = measure_pages(urls[scale], today, runs=runs, budget_s=budget_s, log=log)
    return results


def profile_pages(url: str, keys: set[str], scale: str, today: date, directory: Path) -> dict[str, str]:
    """cProfile one request of each page that misses a target; the top of it goes to RESULTS.md."""
    import cProfile
    import io
    import pstats

    from bench.pages import PAGES, bench_app, context, signed_in_client

    profiles = {}
    with generate.pinned_clock(today):
        app = bench_app(url)
        ctx = context(app, today)
        users = {role: signed_in_client(app, ctx["users"][role].username) for role in ("chief", "admin", "officer")}
        directory.mkdir(parents=True, exist_ok=True)
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
            (directory / f"{scale}_{page.key}.txt").write_text(text_out)
            profiles[page.key] = _profile_summary(text_out)
        with app.app_context():
            from crm.extensions import db

            db.engine.dispose()
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


def bench_export(urls: dict, names: tuple[str, ...], runs: int) -> dict:
    """Each data set's ledger, the app and its floor alternately (app, floor, app, floor …), each in a
    fresh process; the median run of each, with all the runs' seconds kept for the spread."""
    out = {}
    for name in names:
        samples = {"app": [], "floor": []}
        for _ in range(runs):
            for mode in ("app", "floor"):
                samples[mode].append(_subprocess_json(["bench.export", "--url", urls[name], "--mode", mode]))
        for mode, runs_of_mode in samples.items():
            best = sorted(runs_of_mode, key=lambda s: s["seconds"])[len(runs_of_mode) // 2]
            out[(name, mode)] = {**best, "all_seconds": [s["seconds"] for s in runs_of_mode]}
            log(f"  export {name} {mode}: {best['seconds']:.2f}s, {best['rows']:,} rows of {best['month']}, "
                f"peak {best['peak_rss_kib'] / 1024:.0f} MiB (+{(best['peak_rss_kib'] - best['base_rss_kib']) / 1024:.0f})")
        out[(name, "pairs")] = [a["seconds"] / f["seconds"] for a, f in zip(samples["app"], samples["floor"])
                                if f["seconds"]]
    return out


def bench_import(url: str, directory: Path, rows: int) -> dict:
    # On a copy (SQLite) so the data set is never touched; the import rolls back anyway.
    if url.startswith("sqlite:///"):
        copy = directory / "import_copy.db"
        shutil.copyfile(url[len("sqlite:///"):], copy)
        url = f"sqlite:///{copy}"
    source = directory / ("import50k.xlsx" if rows == 50_000 else f"import{rows}.xlsx")
    common = ["--url", url, "--file", str(source), "--rows", str(rows)]
    floor = _subprocess_json(["bench.imports", *common, "--mode", "floor"])
    log(f"  import floor: {floor['seconds']:.1f}s for {floor['rows']:,} rows")
    app = _subprocess_json(["bench.imports", *common, "--mode", "app"])
    log(f"  import app: {app['seconds']:.1f}s {app['phases']}")
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
    return {"floor": floor, "app": app}


def bench_gap(urls: dict, scales: tuple[str, ...], runs: int, today: date) -> dict:
    from sqlalchemy import select

    from bench.pages import _median_ms, bench_app, context
    from chains.analysis import analyse_gaps
    from crm.extensions import db
    from crm.accounts.models import User
    from crm.chains import gaps as ca

    out = {}
    for scale in scales:
        with generate.pinned_clock(today):
            app = bench_app(urls[scale])
            ctx = context(app, today)
            with app.app_context():
                user = db.session.scalar(select(User).where(User.id == ctx["user_pk"]["chief"]))
                zone_ids, _ = ca.analysed_zones(user, None)
                graph = ca.chain_graph(ctx["chain"])
                codes = list(graph.nodes)
                own = [c for c in codes if not graph.nodes[c].get("external")]
                presence = ca.presence_for(codes, zone_ids, user=user)
                pipeline = ca.pipeline_for(own, zone_ids, user=user)
                pure = statistics.median(_median_ms(lambda: analyse_gaps(graph, presence, pipeline.weighted),
                                                    runs * 3, 10))
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


def _range(values: list[float], digits: int = 1) -> str:
    from bench.pages import spread

    if not values:
        return "—"
    s = spread(values)
    return f"{s['min']:.{digits}f}–{s['max']:.{digits}f} ({s['q1']:.{digits}f}–{s['q3']:.{digits}f})"


def _scale_text(name: str) -> str:
    scale = generate.SCALES[name]
    users = 1 + scale.zones * (1 + scale.officers_per_zone) + scale.viewers
    return (f"{name} = {scale.enterprises:,} enterprises / {scale.projects:,} projects / {scale.visits:,} visits "
            f"({scale.zones} zone{'s' if scale.zones > 1 else ''}, {users} users)")


def render(meta: dict, pages: dict | None, export: dict | None, imported: dict | None, gap: dict | None,
           profiles: dict, errors: list[str]) -> str:
    lines = [
        "# Benchmark results" + (" (quick: a smoke run, not figures)" if meta["quick"] else ""),
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        f"- database: {meta['database']}",
        f"- command: `{meta['command']}` (total {meta['seconds']:.0f} s)",
        f"- data: {'; '.join(_scale_text(n) for n in meta['scales'])}; seed {SEED}",
        f"- as of: {meta['today']} — the data sets' today (generator `--today`, kept in their `bench_dataset` "
        "table); every measured process's clock reads that day (time-machine), so 我的工作, overdue "
        "milestones, the dashboard's year and the ledger's month do not depend on the day of the run",
        "- timings: page and floor timed alternately (page, floor, page, floor …) after 2 warm-up pairs, N pairs; "
        "the table gives the medians; page = `app.test_client().get()` signed in (chief of zone 1, or the city "
        "admin); floor = the page's SQL hand-written with `text()` on the same one-connection pool, all rows "
        "fetched; spread = min–max (quartiles) of the runs, and of each page run over the floor run after it",
        "",
    ]
    if errors:
        lines += ["## Failures", ""] + [f"- {e}" for e in errors] + [""]
    if pages:
        scales = list(pages)
        grow = "zone" in pages and "city" in pages
        head = "| page |" + "".join(f" {s} page ms | {s} floor ms | {s} page/floor |" for s in scales)
        rule = "|---|" + "---:|---:|---:|" * len(scales)
        if grow:
            head += " growth city/zone (page) | growth (floor) |"
            rule += "---:|---:|"
        head += " queries | KB |"
        rule += "---:|---:|"
        title = "page/floor and growth (city/zone)" if grow else "page/floor"
        lines += [f"## Pages: {title}", "", head, rule]
        for rows in zip(*(pages[s] for s in scales)):
            page = rows[0].page
            cells = [f"{page.label} `{page.path}`"]
            for m in rows:
                if m.error:
                    cells += ["error", "error", "—"]
                else:
                    cells += [f"{m.page_ms:.1f}", f"{m.floor_ms:.1f}", f"{m.ratio:.2f} {ok(m.ratio, TARGETS['page'])}"]
            if grow:
                zone_m = rows[scales.index("zone")]
                city_m = rows[scales.index("city")]
                if zone_m.error or city_m.error:
                    cells += ["—", "—"]
                else:
                    growth = city_m.page_ms / zone_m.page_ms
                    cells += [f"{growth:.2f} {ok(growth, page.growth_target)} (≤{page.growth_target:g})",
                              f"{city_m.floor_ms / zone_m.floor_ms:.1f}"]
            last = rows[-1]
            cells += [str(last.queries), f"{last.bytes / 1024:.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "### Spread of the runs: min–max (quartiles)", "",
                  "| page | scale | pairs | page ms | floor ms | page/floor of each pair |", "|---|---|---:|---|---|---|"]
        for scale in scales:
            for m in pages[scale]:
                if m.error:
                    lines.append(f"| {m.page.label} | {scale} | 0 | error: {m.error} | | |")
                    continue
                lines.append(f"| {m.page.label} | {scale} | {m.runs} | {_range(m.page_samples)} | "
                             f"{_range(m.floor_samples)} | {_range(m.pair_ratios, 2)} |")
        lines.append("")
    if gap:
        lines += ["## Gap analysis (chief's zone, its leading chain)", "",
                  "| scale | segments | pure `analyse_gaps` ms | presence + pipeline queries ms | `analyse_chain` ms |",
                  "|---|---:|---:|---:|---:|"]
        for scale, row in gap.items():
            lines.append(f"| {scale} | {row['segments']} | {row['pure']:.2f} | {row['queries']:.1f} | {row['full']:.1f} |")
        lines.append("")
    if export:
        names = [name for name, mode in export if mode == "app"]
        lines += ["## Monthly ledger export (`export_ledger`) vs openpyxl write-only, plain values", "",
                  "| data set | month | rows | app s | floor s | app/floor | runs: app s, floor s, app/floor min–max | "
                  "app peak RSS MiB | app RSS growth MiB | floor peak RSS MiB |",
                  "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"]
        for name in names:
            app, floor = export[(name, "app")], export[(name, "floor")]
            ratio = app["seconds"] / floor["seconds"]
            pairs = export[(name, "pairs")]
            runs_text = (f"{min(app['all_seconds']):.2f}–{max(app['all_seconds']):.2f}, "
                         f"{min(floor['all_seconds']):.2f}–{max(floor['all_seconds']):.2f}, "
                         f"{min(pairs):.2f}–{max(pairs):.2f} ({len(pairs)} pairs)") if pairs else "—"
            lines.append(f"| {name} | {app['month']} | {app['rows']:,} | {app['seconds']:.2f} | {floor['seconds']:.2f} | "
                         f"{ratio:.2f} {ok(ratio, TARGETS['export'])} | {runs_text} | "
                         f"{app['peak_rss_kib'] / 1024:.0f} | "
                         f"{(app['peak_rss_kib'] - app['base_rss_kib']) / 1024:.0f} | {floor['peak_rss_kib'] / 1024:.0f} |")
        if ("ledger100k", "app") in export and ("ledger10k", "app") in export:
            big, small = export[("ledger100k", "app")], export[("ledger10k", "app")]
            peak = big["peak_rss_kib"] / small["peak_rss_kib"]
            growth = (big["peak_rss_kib"] - big["base_rss_kib"]) / max(1, small["peak_rss_kib"] - small["base_rss_kib"])
            lines += ["", f"Peak memory 100k/10k: whole process {peak:.2f} {ok(peak, TARGETS['memory'])}; "
                          f"what the export itself added {growth:.2f}. Memory = the worker process's own peak "
                          "resident set (Linux VmHWM, reset just before the export), and that less VmRSS just "
                          "before the export (see bench/export.py)."]
        lines.append("")
    if imported:
        app, floor = imported["app"], imported["floor"]
        ratio = app["seconds"] / floor["seconds"]
        lines += [f"## Import of {app['rows']:,} enterprise rows vs openpyxl read-only", "",
                  "| rows | file MB | app s (read / dry run / commit) | floor s | app/floor | read/floor |",
                  "|---:|---:|---|---:|---:|---:|",
                  f"| {app['rows']:,} | {app['file_bytes'] / 1e6:.1f} | {app['seconds']:.1f} "
                  f"({app['phases']['read']:.1f} / {app['phases']['dry_run']:.1f} / {app['phases']['commit']:.1f}) | "
                  f"{floor['seconds']:.1f} | {ratio:.1f} {ok(ratio, TARGETS['import'])} | "
                  f"{app['phases']['read'] / floor['seconds']:.1f} |", ""]
    if profiles:
        lines += [f"## Profiles of the misses ({meta['scales'][-1]} scale, one request, cumulative time)", ""]
        for key, summary in profiles.items():
            lines += [f"### {key}", "", "```", summary, "```", ""]
    return "\n".join(lines) + "\n"


def _section(errors: list[str], name: str, fn):
    """Run one part of the bench; a failure is logged and listed, and the run goes on (and exits 1)."""
    try:
        return fn()
    except Exception as error:  # noqa: BLE001
        message = f"{name}: {type(error).__name__}: {error}"
        log(f"  FAILED {message}")
        errors.append(message.splitlines()[0][:500])
        return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default="pages,export,import,gap")
    parser.add_argument("--runs", type=int, default=None, help="page/floor pairs per page (default 10; quick 2)")
    parser.add_argument("--export-runs", type=int, default=1, help="app/floor pairs per ledger")
    parser.add_argument("--scales", default="zone,city", help="pages and gap analysis at these scales (zone,city)")
    parser.add_argument("--today", type=date.fromisoformat, default=generate.BENCH_TODAY,
                        help=f"the data sets' today, to generate them as of and measure at (default {generate.BENCH_TODAY})")
    parser.add_argument("--output", default=None,
                        help="where to write the results (default bench/RESULTS.md; quick: a temp file)")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny data set generated fresh in a temp dir, every page and floor once or twice, "
                             "all sections; exits 1 on any failure; never writes bench/RESULTS.md")
    parser.add_argument("--database-url", default=None,
                        help="--quick only: generate the tiny data set there (its schema is dropped first) "
                             "instead of a temp SQLite file; or set BENCH_DATABASE_URL_TINY")
    args = parser.parse_args(argv)
    if args.database_url and not args.quick:
        parser.error("--database-url is for --quick; the full run reads BENCH_DATABASE_URL_<SET>")
    only = set(args.only.split(","))
    started = time.perf_counter()
    errors: list[str] = []
    today = args.today
    log(f"data sets (as of {today})")
    if args.quick:
        work = Path(tempfile.mkdtemp(prefix="bench-quick-"))
        url = args.database_url or os.environ.get("BENCH_DATABASE_URL_TINY") or f"sqlite:///{work / 'tiny.db'}"
        urls = {QUICK: ensure_dataset(QUICK, today, url, fresh=True)}
        page_scales, ledgers, import_url, import_rows = (QUICK,), (QUICK,), urls[QUICK], 300
        runs, budget_s, output = args.runs or 2, 5.0, Path(args.output or work / "RESULTS-quick.md")
    else:
        work = OUT
        OUT.mkdir(exist_ok=True)
        page_scales = tuple(s for s in ("zone", "city") if s in args.scales.split(","))
        needed = set(page_scales) if only & {"pages", "gap"} else set()
        needed |= {"zone"} if "import" in only else set()
        needed |= {"ledger10k", "ledger100k"} if "export" in only else set()
        urls = {name: ensure_dataset(name, today) for name in DATASETS if name in needed}
        ledgers, import_url, import_rows = ("ledger10k", "ledger100k"), urls.get("zone"), 50_000
        # A budget for the pairs of one page: the city dashboard's pair takes ~3 s on SQLite.
        runs, budget_s, output = args.runs or 10, 20.0, Path(args.output or RESULTS)
    pages = export = imported = gap = None
    profiles = {}
    if "pages" in only:
        log("pages")
        pages = _section(errors, "pages", lambda: bench_pages(urls, page_scales, runs, today, budget_s))
        if pages:
            errors += [f"page {m.page.key} at {scale}: {m.error}" for scale, rows in pages.items() for m in rows
                       if m.error]
            by_key = {}
            for scale, rows in pages.items():
                for m in rows:
                    by_key.setdefault(m.page.key, {})[scale] = m
            misses = set()
            for key, at in by_key.items():
                if any(m.error for m in at.values()):
                    continue
                if max(m.ratio for m in at.values()) > TARGETS["page"]:
                    misses.add(key)
                if "zone" in at and "city" in at and at["city"].page_ms / at["zone"].page_ms > at["city"].page.growth_target:
                    misses.add(key)
            last = page_scales[-1]
            profiles = _section(errors, "profiles", lambda: profile_pages(
                urls[last], misses, last, today, work / "profiles")) or {}
    if "gap" in only:
        log("gap analysis")
        gap = _section(errors, "gap analysis", lambda: bench_gap(urls, page_scales, 1 if args.quick else runs, today))
    if "export" in only:
        log("ledger export")
        export = _section(errors, "ledger export", lambda: bench_export(urls, ledgers, args.export_runs))
    if "import" in only:
        log("import")
        imported = _section(errors, "import", lambda: bench_import(import_url, work, import_rows))
    database = _database_label(next(iter(urls.values()))) if urls else "—"
    command = ("make bench" if argv is None and len(sys.argv) == 1
               else "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv))
    meta = {
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
                   f"Python {platform.python_version()}, load average at start {os.getloadavg()[0]:.1f}",
        "database": database,
        "command": command,
        "seconds": time.perf_counter() - started,
        "today": today.isoformat(),
        "quick": args.quick,
        "scales": list(urls),
    }
    report = render(meta, pages, export, imported, gap, profiles, errors)
    # The hand-written analysis below the marker survives a new run.
    if not args.quick and output.exists() and NOTES_MARKER in output.read_text():
        report += "\n" + NOTES_MARKER + output.read_text().split(NOTES_MARKER, 1)[1]
    log()
    log(report)
    output.write_text(report)
    log(f"written to {output}")
    if args.quick and not args.database_url:
        for leftover in work.glob("tiny.db*"):
            leftover.unlink()
    if errors:
        log(f"{len(errors)} failure(s):")
        for error in errors:
            log(f"  {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
