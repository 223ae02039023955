"""A deterministic generator of realistic data, written straight into the database in bulk.

    python -m bench.generate --scale zone|city|province|tiny --database-url URL [--seed N] [--today D] [--reset]

Scales (enterprises / projects / visits): zone 10k / 2k / 20k in one zone; city 100k / 20k / 200k in
6 zones with 60 users; province 1M / 200k / 2M in 30 zones (run it on PostgreSQL). ``ledger10k`` and
``ledger100k`` are one-zone sets sized so that the zone's monthly ledger has about 10k and 100k rows.

The schema comes from the Alembic migrations and the chains from ``chains/data`` (the same code the
app runs); every other row is inserted with Core ``insert()`` executemany in chunks (SQLite) or COPY
(PostgreSQL), never the ORM row by row, so bulk rows are not audited — as with any data load.
Everything derives from one ``random.Random(seed)`` and the ``--today`` date, so a seed and a date
give the same database; the three are stored in the data set's ``bench_dataset`` table, where the
runner reads the date to measure as of (``pinned_clock``). Names, credit codes and people come from ``crm.demo``'s helpers and lists.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from bisect import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time as dtime, timedelta
from decimal import Decimal
from itertools import accumulate

from sqlalchemy import create_engine, func, select, text
from werkzeug.security import generate_password_hash

from crm import demo
from crm.ledger.models import CapitalIncrease, FundsInPlace, ZoneTarget
from crm.library.models import Enterprise
from crm.catalog.models import EnterpriseSegment, Segment
from crm.pipeline.models import Project, project_segments, StageEvent
from crm.accounts.models import User, user_zones
from crm.visits.models import Visit
from crm.visits.last_visit import refresh_last_visits
from crm.library.search_index import refresh_search_grams
from crm.accounts.zones import Zone
from crm.pipeline.models import PIPELINE_STAGES, PRIORITIES, PROJECT_SOURCES
from crm.visits.models import VISIT_KINDS
from crm.library.names import normalize_name, pinyin_keys


@dataclass(frozen=True)
class Scale:
    zones: int
    officers_per_zone: int
    viewers: int
    enterprises: int
    projects: int
    visits: int


SCALES = {
    "zone": Scale(zones=1, officers_per_zone=8, viewers=0, enterprises=10_000, projects=2_000, visits=20_000),
    # 1 admin + 6 chiefs + 48 officers + 5 viewers = 60 users.
    "city": Scale(zones=6, officers_per_zone=8, viewers=5, enterprises=100_000, projects=20_000, visits=200_000),
    "province": Scale(zones=30, officers_per_zone=8, viewers=20, enterprises=1_000_000, projects=200_000,
                      visits=2_000_000),
    # One zone whose monthly ledger (all five sheets) has ~10k / ~100k rows: see bench/README.md.
    "ledger10k": Scale(zones=1, officers_per_zone=8, viewers=0, enterprises=8_000, projects=5_200, visits=9_000),
    "ledger100k": Scale(zones=1, officers_per_zone=8, viewers=0, enterprises=40_000, projects=52_000,
                        visits=90_000),
    # `python -m bench --quick`: every page and floor once, in seconds (two zones, so the city views differ).
    "tiny": Scale(zones=2, officers_per_zone=3, viewers=1, enterprises=1_500, projects=400, visits=2_000),
}
# The date `make bench` generates its data sets as of, and measures them at (see pinned_clock).
BENCH_TODAY = date(2026, 11, 23)
# What the generator knows about a data set, in the data set itself: scale, seed, today.
FACTS_TABLE = "bench_dataset"
BENCH_PASSWORD = demo.DEMO_PASSWORD
CHUNK = 5_000

ZONE_SUFFIXES = ("经济技术开发区", "高新技术产业开发区", "绿色食品产业园", "新材料产业园", "临港经济开发区",
                 "医药健康产业园", "新能源产业园", "综合保税区", "先进制造业开发区", "现代农业产业园")
COUNTIES = ("临江", "青岚", "东湖", "西山", "南浦", "北塘", "梅林", "云溪", "石桥", "枫桥", "龙泉", "白沙",
            "金沙", "柳河", "桃源", "凤鸣")
LEVELS = ("国家级", "省级", "省级", "市级")
# Leading chains per zone, in turn: every chain led by at least one zone at city scale.
ZONE_CHAINS = (["aluminium", "nev"], ["photovoltaic", "lithium"], ["food"], ["pharma"], ["aluminium", "lithium"],
               ["nev", "photovoltaic"])
# GB/T 4754-2017 classes by chain (铝冶炼, 铝压延加工, 光伏设备及元器件, 锂离子电池, 新能源车整车, ...).
INDUSTRY = {
    "aluminium": (("3216", "铝冶炼"), ("3252", "铝压延加工"), ("3311", "金属结构制造"), ("3392", "有色金属铸造")),
    "photovoltaic": (("3825", "光伏设备及元器件制造"), ("3985", "电子专用材料制造"), ("2614", "有机化学原料制造")),
    "lithium": (("3841", "锂离子电池制造"), ("2613", "无机盐制造"), ("3985", "电子专用材料制造")),
    "nev": (("3612", "新能源车整车制造"), ("3670", "汽车零部件及配件制造"), ("3812", "电动机制造")),
    "food": (("1310", "谷物磨制"), ("1391", "淀粉及淀粉制品制造"), ("1441", "乳制品制造"), ("1520", "饮料制造")),
    "pharma": (("2710", "化学药品原料药制造"), ("2720", "化学药品制剂制造"), ("2740", "中成药生产"),
               ("2761", "生物药品制造")),
}
# Mean days a project stays in each stage before the next, and the spread (lognormal sigma).
STAGE_DAYS = {"线索": 25, "接洽": 30, "考察": 35, "洽谈": 60, "签约": 45, "注册": 90, "开工": 300, "投产": 365,
              "达产": 365}
# Where projects stand: a funnel, plus on hold and dropped.
STAGE_SHARE = (("线索", 30), ("接洽", 20), ("考察", 12), ("洽谈", 10), ("签约", 6), ("注册", 5), ("开工", 5),
               ("投产", 4), ("达产", 2), ("搁置", 4), ("终止", 2))
OUTCOMES = ("达成初步意向", "需进一步对接", "企业暂无投资计划", "同意来园考察")
PROJECT_SUFFIXES = ("生产基地", "扩产", "研发中心", "智能工厂", "二期", "总部")


def log(message: str) -> None:
    print(message, flush=True)


class Loader:
    """Bulk insert: Core executemany in chunks on SQLite, COPY on PostgreSQL."""

    def __init__(self, connection):
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.counts: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)

    def insert(self, table, rows) -> None:
        started = time.perf_counter()
        columns = [c.name for c in table.c]
        defaults = {}
        for column in table.c:
            default = column.default
            if default is not None and default.is_scalar:
                defaults[column.name] = default.arg
            else:
                defaults[column.name] = None
        chunk: list[dict] = []
        copy_cursor = None
        if self.postgres:
            raw = self.connection.connection.driver_connection
            copy_cursor = raw.cursor()
            names = ", ".join(f'"{c}"' for c in columns)
            copy_context = copy_cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN')
            copy = copy_context.__enter__()
        try:
            for row in rows:
                full = {**defaults, **row}
                if copy_cursor is not None:
                    copy.write_row([full[c] for c in columns])
                else:
                    chunk.append(full)
                    if len(chunk) >= CHUNK:
                        self.connection.execute(table.insert(), chunk)
                        chunk = []
                self.counts[table.name] += 1
            if chunk:
                self.connection.execute(table.insert(), chunk)
        finally:
            if copy_cursor is not None:
                copy_context.__exit__(*sys.exc_info())
                copy_cursor.close()
        self.seconds[table.name] += time.perf_counter() - started


def _weighted(rng: random.Random, cumulative: list[float]):
    return bisect(cumulative, rng.random() * cumulative[-1])


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, dtime(hour), UTC)


def _months(start: date, end: date):
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def generate(connection, scale_name: str, seed: int, today: date, segments: list[dict],
             chain_links: dict[str, list[str]]) -> dict:
    """Write one data set on ``connection`` (inside its transaction). ``segments``: rows of the
    loaded segments (id, code, chain, keywords, products, name); ``chain_links``: code → neighbours."""
    scale = SCALES[scale_name]
    rng = random.Random(seed)
    loader = Loader(connection)
    now = _at(today, 8)
    started = time.perf_counter()
    chains = sorted({s["chain"] for s in segments})

    # --- zones, users -----------------------------------------------------------------
    zones = []
    for index in range(scale.zones):
        if index < len(demo.ZONES):
            name, level, leading = demo.ZONES[index]
        else:
            name = f"江州{COUNTIES[(index - 3) % len(COUNTIES)]}{ZONE_SUFFIXES[index % len(ZONE_SUFFIXES)]}"
            if index >= 3 + len(COUNTIES):
                name = f"{name}{index}"
            level, leading = LEVELS[index % len(LEVELS)], ZONE_CHAINS[index % len(ZONE_CHAINS)]
        leading = [c for c in leading if c in chains]
        zones.append({"id": index + 1, "name": name, "level": level, "leading_chains": list(leading),
                      "stale_lead_days": 30, "min_investment_per_mu": Decimal(rng.choice((150, 200, 250, 300))),
                      "created_at": now, "updated_at": now})
    # Zones carry a JSON column: few rows, Core insert on every database.
    connection.execute(Zone.__table__.insert(), zones)
    loader.counts["zones"] = len(zones)

    password_hash = generate_password_hash(BENCH_PASSWORD, method=PASSWORD_METHOD)
    users, memberships = [], []

    def add_user(username, role, zone_ids):
        user_id = len(users) + 1
        users.append({"id": user_id, "username": username, "display_name": demo.person(rng),
                      "password_hash": password_hash, "role": role, "active": True, "session_version": 1,
                      "last_login_at": None, "created_at": now, "updated_at": now})
        memberships.extend({"user_id": user_id, "zone_id": z} for z in zone_ids)
        return user_id

    add_user("admin", "admin", [])
    staff: dict[int, list[int]] = {}
    officers: dict[int, list[int]] = {}
    for zone in zones:
        z = zone["id"]
        chief = add_user(f"chief{z}", "chief", [z])
        officers[z] = [add_user(f"officer{z}_{k + 1}", "officer", [z]) for k in range(scale.officers_per_zone)]
        staff[z] = officers[z] + [chief]
    for k in range(scale.viewers):
        add_user(f"viewer{k + 1}", "viewer", [zone["id"] for zone in zones])
    loader.insert(User.__table__, users)
    loader.insert(user_zones, memberships)

    # --- enterprises and their segments ---------------------------------------------
    by_chain: dict[str, list[int]] = defaultdict(list)
    for i, segment in enumerate(segments):
        by_chain[segment["chain"]].append(i)
    zones_of_chain: dict[str, list[int]] = defaultdict(list)
    for zone in zones:
        for chain in zone["leading_chains"]:
            zones_of_chain[chain].append(zone["id"])
    # Some segments are crowded, most are thin: a Zipf-like weight per segment.
    weights = [1.0 / math.sqrt(1 + rng.randrange(12)) for _ in segments]
    cumulative = list(accumulate(weights))
    city_regions = demo.REGIONS[:2]
    # Per enterprise, compactly: its primary segment, its zone (0 = a target elsewhere).
    firm_segment = [0] * (scale.enterprises + 1)
    firm_zone = [0] * (scale.enterprises + 1)
    firm_short = [""] * (scale.enterprises + 1)
    used_names: set[str] = set()
    used_codes: set[str] = set()
    mappings_left: list[dict] = []
    local_share = 0.3 if scale.zones > 1 else 0.25

    def firms():
        firm_id = 0
        while firm_id < scale.enterprises:
            index = _weighted(rng, cumulative)
            segment = segments[index]
            chain = segment["chain"]
            zone_id = 0
            region = rng.choice(demo.REGIONS)
            if zones_of_chain.get(chain) and rng.random() < local_share:
                zone_id = rng.choice(zones_of_chain[chain])
                region = rng.choice(city_regions)
            keyword = rng.choice(segment["keywords"]) if segment["keywords"] else "科技"
            name = (f"{region[2].removesuffix('市')}{rng.choice(demo.TRADE_NAMES)}{rng.choice(demo.TRADE_NAMES)}"
                    f"{keyword}{rng.choice(demo.FORMS)}")
            if name in used_names:
                continue
            code = demo.credit_code(rng, region[0])
            if code in used_codes:
                continue
            used_names.add(name)
            used_codes.add(code)
            firm_id += 1
            firm_segment[firm_id], firm_zone[firm_id] = index, zone_id
            short = normalize_name(name)
            firm_short[firm_id] = short
            revenue = Decimal(int(rng.lognormvariate(9, 1.3)))
            tags = [t for t, p in (("高新技术企业", 0.3), ("专精特新", 0.12), ("上市", 0.06), ("小巨人", 0.04),
                                   ("500强", 0.005)) if rng.random() < p]
            above = revenue >= 2000
            if above:
                tags.append("规上")
            leader = bool(zone_id) and above and rng.random() < 0.05
            if leader:
                tags.append("链主")
            created = now - timedelta(days=rng.randint(0, 1100), minutes=rng.randint(0, 600))
            industry = rng.choice(INDUSTRY.get(chain, (("", segment["name"]),)))
            mappings_left.append({"enterprise_id": firm_id, "segment_id": segment["id"], "is_primary": True,
                                  "is_leader": leader, "created_at": created, "updated_at": created})
            if rng.random() < 0.2 and chain_links.get(segment["code"]):
                other = chain_links[segment["code"]][rng.randrange(len(chain_links[segment["code"]]))]
                mappings_left.append({"enterprise_id": firm_id, "segment_id": other, "is_primary": False,
                                      "is_leader": False, "created_at": created, "updated_at": created})
            yield {
                "id": firm_id, "name": name, "uscc": code, "aliases": "", "name_normalized": short,
                "search_pinyin": pinyin_keys(name), "region_province": region[1], "region_city": region[2],
                "region_county": region[3],
                "address": f"{region[2]}{region[3]}{rng.choice(demo.TRADE_NAMES)}{rng.choice(('路', '大道', '街'))}"
                           f"{rng.randint(1, 300)}号",
                "industry_code": industry[0], "industry_name": industry[1],
                "main_products": "、".join(segment["products"][:2]),
                "registered_capital": Decimal(rng.choice((500, 1000, 2000, 5000, 10000, 50000))),
                "annual_revenue": revenue, "employees": rng.randint(20, 3000), "above_scale": above,
                "tags": ",".join(tags), "website": "", "notes": "", "zone_id": zone_id or None,
                "created_by_id": 1, "created_at": created, "updated_at": created, "deleted_at": None, "version": 1,
            }

    def flushed_mappings():
        # Mappings are written after their enterprises (foreign keys), in the same order.
        yield from mappings_left

    loader.insert(Enterprise.__table__, firms())
    loader.insert(EnterpriseSegment.__table__, flushed_mappings())
    mappings_left.clear()
    used_names.clear()
    log(f"  enterprises: {loader.counts['enterprises']:,} in {loader.seconds['enterprises']:.1f}s")

    # Targets to court: enterprises elsewhere, by chain, for each zone's projects.
    targets_by_chain: dict[str, list[int]] = defaultdict(list)
    all_targets = []
    for firm_id in range(1, scale.enterprises + 1):
        if firm_zone[firm_id] == 0:
            targets_by_chain[segments[firm_segment[firm_id]]["chain"]].append(firm_id)
            all_targets.append(firm_id)
    if not all_targets:
        all_targets = list(range(1, scale.enterprises + 1))

    # --- projects, their stages, funds -------------------------------------------------
    stage_cumulative = list(accumulate(share for _, share in STAGE_SHARE))
    # Per project, compactly: zone, owner, enterprise, first day and last day (ordinals).
    p_zone, p_owner, p_firm, p_first, p_last = [0], [0], [0], [0], [0]
    segment_rows, events, funds, increases = [], [], [], []
    event_id = [0]
    fund_id = [0]
    increase_id = [0]

    def projects():
        for project_id in range(1, scale.projects + 1):
            zone = zones[(project_id - 1) % len(zones)]
            z = zone["id"]
            # Chiefs own a few projects themselves; officers the rest.
            owner = staff[z][-1] if rng.random() < 0.08 else rng.choice(officers[z])
            leading = [c for c in zone["leading_chains"] if targets_by_chain.get(c)]
            pool = targets_by_chain[rng.choice(leading)] if leading and rng.random() < 0.8 else all_targets
            firm = pool[rng.randrange(len(pool))]
            stage = STAGE_SHARE[_weighted(rng, stage_cumulative)][0]
            if stage in PIPELINE_STAGES:
                path = list(PIPELINE_STAGES[: PIPELINE_STAGES.index(stage) + 1])
            else:
                path = list(PIPELINE_STAGES[: rng.randint(1, 5)]) + [stage]
            # Time in each passed stage, then how long it has sat in the current one.
            spent = [max(1, int(rng.lognormvariate(math.log(STAGE_DAYS.get(s, 60)), 0.6))) for s in path[:-1]]
            current_mean = STAGE_DAYS.get(path[-1], 120)
            age = max(0, int(rng.expovariate(1 / current_mean)))
            first = today - timedelta(days=sum(spent) + age)
            days, day = [], first
            for gap in spent:
                days.append(day)
                day += timedelta(days=gap)
            days.append(day)
            planned = Decimal(rng.choice((3000, 5000, 10000, 20000, 50000, 100000)))
            row = {
                "id": project_id, "zone_id": z, "enterprise_id": firm, "owner_id": owner,
                "name": f"{firm_short[firm]}{rng.choice(PROJECT_SUFFIXES)}项目",
                "stage": path[-1], "stage_changed_at": _at(days[-1]), "stage_reason": "",
                "planned_investment": planned, "land_area": Decimal(rng.choice((30, 50, 80, 120, 200))),
                "source": rng.choice(PROJECT_SOURCES), "priority": rng.choice(PRIORITIES),
                "confidential": rng.random() < 0.05, "description": "",
                "signed_date": None, "contract_investment": None, "annual_output_value": None, "annual_tax": None,
                "jobs": None, "due_registered": None, "due_started": None, "due_production": None,
                "due_full_production": None, "registered_date": None, "started_date": None,
                "production_date": None, "full_production_date": None, "local_enterprise_id": None,
                "created_at": _at(first, 9), "updated_at": _at(days[-1]), "deleted_at": None, "version": 1,
            }
            previous = None
            for step, day in zip(path, days):
                note = ""
                if step == "搁置":
                    note = row["stage_reason"] = "企业投资计划调整，暂缓推进"
                elif step == "终止":
                    note = row["stage_reason"] = "企业已在外省落地"
                event_id[0] += 1
                events.append({"id": event_id[0], "project_id": project_id, "actor_id": owner, "at": _at(day),
                               "from_stage": previous, "to_stage": step, "note": note})
                if step == "签约":
                    contract = planned * Decimal(rng.choice(("0.8", "1", "1", "1.2")))
                    row.update(signed_date=day, contract_investment=contract,
                               due_registered=day + timedelta(days=60), due_started=day + timedelta(days=180),
                               due_production=day + timedelta(days=540), due_full_production=day + timedelta(days=900),
                               annual_output_value=contract * Decimal("1.5"), annual_tax=contract * Decimal("0.06"),
                               jobs=rng.randint(50, 800))
                column = {"注册": "registered_date", "开工": "started_date", "投产": "production_date",
                          "达产": "full_production_date"}.get(step)
                if column:
                    row[column] = day
                previous = step
            segment_rows.append({"project_id": project_id, "segment_id": segments[firm_segment[firm]]["id"]})
            if row["signed_date"] and row["stage"] != "终止":
                share = Decimal(rng.choice(("0.02", "0.04", "0.06", "0.1")))
                for month in _months(row["signed_date"], today):
                    if rng.random() < 0.5:
                        fund_id[0] += 1
                        funds.append({"id": fund_id[0], "zone_id": z, "project_id": project_id, "month": month,
                                      "amount": (row["contract_investment"] * share).quantize(Decimal("0.01")),
                                      "note": "", "created_at": now, "updated_at": now, "deleted_at": None,
                                      "version": 1})
                if rng.random() < 0.1:
                    increase_id[0] += 1
                    increases.append({"id": increase_id[0], "zone_id": z, "project_id": project_id,
                                      "signed_date": min(today, row["signed_date"] + timedelta(days=120)),
                                      "amount": Decimal(5000), "note": "追加二期投资", "created_at": now,
                                      "updated_at": now, "deleted_at": None, "version": 1})
            p_zone.append(z)
            p_owner.append(owner)
            p_firm.append(firm)
            p_first.append(first.toordinal())
            p_last.append(days[-1].toordinal())
            yield row


    # Projects in chunks; after each chunk, what hangs off its projects (foreign keys).
    def write_children():
        for table, rows in ((StageEvent.__table__, events), (project_segments, segment_rows),
                            (FundsInPlace.__table__, funds), (CapitalIncrease.__table__, increases)):
            loader.insert(table, rows)
            rows.clear()

    project_rows = []
    for row in projects():
        project_rows.append(row)
        if len(project_rows) >= CHUNK:
            loader.insert(Project.__table__, project_rows)
            project_rows.clear()
            write_children()
    loader.insert(Project.__table__, project_rows)
    write_children()
    loader.insert(ZoneTarget.__table__, [
        {"id": zone["id"], "zone_id": zone["id"], "year": today.year, "signed_count": max(6, scale.projects // 100),
         "signed_amount": Decimal(max(6, scale.projects // 100) * 30000), "register_rate": Decimal("0.9"),
         "start_rate": Decimal("0.6"), "production_rate": Decimal("0.3"), "funds_rate": Decimal("0.2"),
         "created_at": now, "updated_at": now}
        for zone in zones
    ])
    log(f"  projects: {loader.counts['projects']:,}, stage events {loader.counts['stage_events']:,}, "
        f"funds {loader.counts['funds_in_place']:,} in {loader.seconds['projects'] + loader.seconds['stage_events']:.1f}s")

    # --- visits ---------------------------------------------------------------------------
    today_ordinal = today.toordinal()

    def visits():
        for visit_id in range(1, scale.visits + 1):
            if rng.random() < 0.8 and scale.projects:
                p = rng.randint(1, scale.projects)
                z, officer, firm = p_zone[p], p_owner[p], p_firm[p]
                last = min(today_ordinal, p_last[p] + 90)
                day = date.fromordinal(rng.randint(min(p_first[p], last), last))
                project_id = p
            else:
                z = zones[rng.randrange(len(zones))]["id"]
                officer = rng.choice(officers[z])
                firm = rng.randint(1, scale.enterprises)
                day = today - timedelta(days=rng.randint(0, 400))
                project_id = None
            has_next = rng.random() < 0.7
            done = has_next and (today - day).days > 60 and rng.random() < 0.9
            yield {
                "id": visit_id, "zone_id": z, "enterprise_id": firm, "project_id": project_id, "officer_id": officer,
                "kind": rng.choice(VISIT_KINDS), "visit_date": day,
                "our_people": f"{demo.person(rng)}、{demo.person(rng)}", "our_leader": rng.choice(demo.LEADERS),
                "their_people": f"{demo.person(rng)}（{rng.choice(demo.TITLES)}）",
                "summary": rng.choice(demo.SUMMARIES), "outcome": rng.choice(OUTCOMES),
                "next_step": rng.choice(demo.NEXT_STEPS) if has_next else "",
                "next_step_due": day + timedelta(days=rng.randint(3, 45)) if has_next else None,
                "next_step_done_at": _at(day + timedelta(days=10), 18) if done else None,
                "created_at": _at(day, 17), "updated_at": _at(day, 17), "deleted_at": None, "version": 1,
            }

    loader.insert(Visit.__table__, visits())
    log(f"  visits: {loader.counts['visits']:,} in {loader.seconds['visits']:.1f}s")
    return {"counts": dict(loader.counts), "seconds": round(time.perf_counter() - started, 1)}


PASSWORD_METHOD = "scrypt:131072:8:1"


def _reset(url: str) -> None:
    engine = create_engine(url)
    database = engine.url.database or ""
    if engine.dialect.name == "postgresql":
        if database in {"test", "postgres", "template0", "template1"}:
            raise SystemExit(f"refusing to reset the {database!r} database")
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        from pathlib import Path

        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)


def absolute_url(url: str) -> str:
    """SQLite paths made absolute (Flask-SQLAlchemy would read a relative one from instance/)."""
    from pathlib import Path

    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
        return prefix + str(Path(url[len(prefix):]).resolve())
    return url


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist yet."""
    engine = create_engine(url)
    if engine.dialect.name != "postgresql":
        return
    name = engine.url.database
    admin = create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine.dispose()


def dataset_facts(url: str) -> dict[str, str] | None:
    """The scale, seed and today the data set at ``url`` was generated with (None: not a bench data set)."""
    from sqlalchemy import inspect

    engine = create_engine(absolute_url(url))
    try:
        with engine.connect() as conn:
            if FACTS_TABLE not in inspect(conn).get_table_names():
                return None
            return dict(conn.execute(text(f"SELECT name, value FROM {FACTS_TABLE}")).all())
    finally:
        engine.dispose()


def dataset_today(url: str) -> date:
    facts = dataset_facts(url)
    if not facts or "today" not in facts:
        raise SystemExit(f"{url} holds no bench data set (no {FACTS_TABLE} table): generate it with bench.generate")
    return date.fromisoformat(facts["today"])


def pinned_clock(today: date):
    """A context manager in which the clock reads ``today`` at 12:00 UTC and ticks on from there.

    The app reads ``date.today()`` and ``datetime.now()`` in its views and services (我的工作's overdue
    steps and stale leads, the dashboard's overdue milestones and year, the ruling notices, the ledger's
    as-of date), so a page is measured as of the data set's today only if the clock says so.
    time-machine patches those C-level clocks for the whole process; ``time.perf_counter`` is left
    alone, so timings are real. Noon UTC is the same calendar day in every time zone from UTC-11 to +11."""
    try:
        import time_machine
    except ImportError:  # pragma: no cover - requirements-dev.txt pins it
        raise SystemExit("the bench pins the clock with time-machine: pip install -r requirements-dev.txt")
    return time_machine.travel(datetime.combine(today, dtime(12), UTC), tick=True)


def build(url: str, scale: str, seed: int = 2026, today: date | None = None, reset: bool = False) -> dict:
    """Migrate an empty database, load the chains, and generate ``scale``. Returns counts and timings."""
    from flask_migrate import upgrade

    from chains.definitions import load_all
    from crm import create_app
    from crm.audit.log import acting_as
    from crm.extensions import db
    from crm.catalog.service import sync_chains

    today = today or BENCH_TODAY
    url = absolute_url(url)
    ensure_postgres_database(url)
    if reset:
        _reset(url)
    timings = {}
    started = time.perf_counter()
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    # The ORM's own timestamps (the chains' created_at, …) as of today too.
    with pinned_clock(today), app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(Enterprise)):
            raise SystemExit(f"{url} already holds data: pass --reset to start again")
        with acting_as(db.session, None):
            sync_chains(load_all())
        db.session.commit()
        timings["schema_and_chains"] = round(time.perf_counter() - started, 1)
        rows = db.session.execute(select(Segment).order_by(Segment.code)).scalars().all()
        chain_of = {s.id: s.chain.code for s in rows}
        segments = [{"id": s.id, "code": s.code, "chain": chain_of[s.id], "name": s.name,
                     "keywords": list(s.keywords or []), "products": list(s.products or [])} for s in rows]
        from crm.catalog.models import SegmentLink

        by_id = {s["id"]: s for s in segments}
        links: dict[str, list[int]] = defaultdict(list)
        for link in db.session.scalars(select(SegmentLink)):
            source, target = by_id[link.from_segment_id], by_id[link.to_segment_id]
            links[source["code"]].append(target["id"])
            links[target["code"]].append(source["id"])
        db.session.remove()
        engine = db.engine
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.connection.dbapi_connection.execute("PRAGMA synchronous=OFF")
            with connection.begin():
                result = generate(connection, scale, seed, today, segments, dict(links))
                # The summaries the application keeps with its writes, which bulk rows bypass.
                summaries = time.perf_counter()
                refresh_last_visits(connection)
                refresh_search_grams(connection)
                timings["summaries"] = round(time.perf_counter() - summaries, 1)
                # Outside the app's schema (no model maps it): what the runner reads back.
                connection.execute(text(f"CREATE TABLE {FACTS_TABLE} (name VARCHAR(40) PRIMARY KEY, "
                                        "value VARCHAR(200) NOT NULL)"))
                connection.execute(text(f"INSERT INTO {FACTS_TABLE} (name, value) VALUES (:k, :v)"), [
                    {"k": "scale", "v": scale}, {"k": "seed", "v": str(seed)}, {"k": "today", "v": today.isoformat()}])
            loaded = time.perf_counter()
            if engine.dialect.name == "postgresql":
                for table in ("zones", "users", "enterprises", "projects", "stage_events", "funds_in_place",
                              "capital_increases", "zone_targets", "visits"):
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
                connection.commit()
        # Planner statistics, as a database that has lived with this data would have them.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        timings["analyze"] = round(time.perf_counter() - loaded, 1)
        engine.dispose()
    timings["rows"] = result["seconds"]
    timings["total"] = round(time.perf_counter() - started, 1)
    return {"scale": scale, "seed": seed, "today": today.isoformat(), "counts": result["counts"],
            "timings": timings}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", type=date.fromisoformat, default=BENCH_TODAY,
                        help=f"the data set's 'today' (ISO date; default {BENCH_TODAY}, the bench's pinned date)")
    parser.add_argument("--reset", action="store_true",
                        help="drop what the database holds first (SQLite: the file; PostgreSQL: schema public)")
    args = parser.parse_args(argv)
    log(f"generating {args.scale} (seed {args.seed}) into {args.database_url}")
    result = build(args.database_url, args.scale, args.seed, args.today, args.reset)
    total_rows = sum(result["counts"].values())
    log(f"done: {total_rows:,} rows in {result['timings']['total']}s "
        f"({total_rows / max(result['timings']['rows'], 0.001):,.0f} rows/s while loading)")
    for table, count in sorted(result["counts"].items()):
        log(f"  {table:20} {count:>10,}")
    log(f"  timings: {result['timings']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
