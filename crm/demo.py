"""A demo city, generated from a fixed seed: 3 zones, 10 users, ~300 enterprises, ~80 projects, ~300 visits.

Names and places look real but are made up. Every demo account shares DEMO_PASSWORD, which exists
only in this demo data set: production databases get their admin from `create-admin`.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from stdnum.cn import uscc as uscc_lib

from crm.audit.log import acting_as
from crm.accounts.service import create_user
from crm.extensions import db
from crm.ledger.models import CapitalIncrease, FundsInPlace, ZoneTarget
from crm.library.models import Enterprise
from crm.catalog.models import EnterpriseSegment, Segment
from crm.pipeline.models import Project, StageEvent
from crm.visits.models import Visit
from crm.accounts.zones import Zone
from crm.pipeline.models import MILESTONE_COLUMNS, PIPELINE_STAGES, PROJECT_SOURCES
from crm.visits.models import VISIT_KINDS
from crm.library.names import normalize_name, pinyin_keys

DEMO_PASSWORD = "Lianzhao-demo-2026"
CITY = ("安徽省", "江州市")
ZONES = (
    ("江州经济技术开发区", "国家级", ["aluminium", "nev", "carbon", "mining"]),
    ("江州高新技术产业开发区", "省级", ["photovoltaic", "lithium", "pharma", "electronics"]),
    ("青岚绿色食品产业园", "市级", ["food"]),
)
USERS = (
    ("admin", "周海峰", "admin", None),
    ("chief1", "李建国", "chief", 0),
    ("officer1", "王晓明", "officer", 0),
    ("officer2", "陈静", "officer", 0),
    ("chief2", "赵志强", "chief", 1),
    ("officer3", "刘洋", "officer", 1),
    ("officer4", "孙丽娟", "officer", 1),
    ("chief3", "吴德华", "chief", 2),
    ("officer5", "郑凯", "officer", 2),
    ("viewer", "黄书记", "viewer", (0, 1, 2)),
)
# Region code prefixes (行政区划) and where they are, for credit codes and addresses.
REGIONS = (
    ("341200", "安徽省", "江州市", "临江区"), ("341202", "安徽省", "江州市", "青岚县"),
    ("320500", "江苏省", "苏州市", "吴江区"), ("330200", "浙江省", "宁波市", "北仑区"),
    ("370600", "山东省", "烟台市", "龙口市"), ("440300", "广东省", "深圳市", "宝安区"),
    ("350900", "福建省", "宁德市", "蕉城区"), ("510100", "四川省", "成都市", "新都区"),
    ("420100", "湖北省", "武汉市", "东西湖区"), ("610100", "陕西省", "西安市", "高陵区"),
    ("410100", "河南省", "郑州市", "中牟县"), ("310100", "上海市", "上海市", "嘉定区"),
)
TRADE_NAMES = "华宏瑞恒鑫达盛泰润丰金诚远博通德昌隆兴安永信源佳宇辰启航凯新锦天正同和"
FORMS = ("有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚", "桂英")
TITLES = ("董事长", "总经理", "副总经理", "投资总监", "战略部部长", "项目经理")
LEADERS = ("管委会主任", "管委会副主任", "招商局局长", "分管副市长", "招商局副局长")
SUMMARIES = (
    "介绍园区产业基础和配套政策，企业有意在华东布局新产能。",
    "企业来园考察标准厂房及周边配套，关注用地指标和能耗指标。",
    "就投资规模、用地和设备补贴进行洽谈，双方原则同意推进。",
    "视频沟通项目可研进展，企业需总部决策后答复。",
    "在推介会上对接，企业对产业基金参股有兴趣。",
    "电话跟进协议条款，企业法务提出修改意见。",
)
NEXT_STEPS = ("寄送园区政策汇编", "安排现场考察", "提交项目可研报告", "约谈企业董事长", "起草投资协议", "对接产业基金")


def credit_code(rng: random.Random, region: str) -> str:
    """A valid 统一社会信用代码: 9 1 + region + organisation code (with its GB 11714 check) + check."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(c) * w for c, w in zip(body, weights)) % 11
    org = body + {10: "X", 11: "0"}.get(check, str(check))
    partial = "91" + region + org
    return partial + uscc_lib.calc_check_digit(partial)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def load_demo(seed: int = 2026, enterprises: int = 300, projects: int = 80, visits: int = 300) -> dict:
    rng = random.Random(seed)
    with acting_as(db.session, None):
        zones = [Zone(name=name, level=level, leading_chains=chains) for name, level, chains in ZONES]
        db.session.add_all(zones)
        db.session.flush()
        users = [
            create_user(
                username=username, display_name=name, password=DEMO_PASSWORD, role=role,
                zones=[] if where is None else [zones[i] for i in (where if isinstance(where, tuple) else (where,))],
            )
            for username, name, role, where in USERS
        ]
        segments = db.session.scalars(select(Segment).order_by(Segment.code)).all()
        firms, primary_segment = _enterprises(rng, enterprises, zones, segments)
        deals = _projects(rng, projects, zones, users, firms, primary_segment)
        _visits(rng, visits, users, firms, deals)
        _ledger(rng, zones, deals)
    db.session.flush()
    return {"zones": len(zones), "users": len(users), "enterprises": len(firms),
            "projects": len(deals), "visits": visits}


def _enterprises(rng, count, zones, segments) -> list[Enterprise]:
    firms, mappings, used_names = [], [], set()
    chain_zone = {chain: zone for zone in zones for chain in zone.leading_chains}
    while len(firms) < count:
        segment = rng.choice(segments) if segments else None
        region = rng.choice(REGIONS)
        local_zone = chain_zone.get(segment.chain.code) if segment and rng.random() < 0.3 else None
        if local_zone is not None:
            region = REGIONS[0]
        keyword = rng.choice(segment.keywords) if segment and segment.keywords else "科技"
        name = f"{region[2].removesuffix('市')}{rng.choice(TRADE_NAMES)}{rng.choice(TRADE_NAMES)}{keyword}{rng.choice(FORMS)}"
        if name in used_names:
            continue
        used_names.add(name)
        revenue = Decimal(int(rng.lognormvariate(9, 1.3)))
        tags = [t for t, p in (("高新技术企业", 0.3), ("专精特新", 0.12), ("上市", 0.06), ("小巨人", 0.04)) if rng.random() < p]
        firm = Enterprise(
            name=name, uscc=credit_code(rng, region[0]), region_province=region[1], region_city=region[2],
            region_county=region[3], address=f"{region[2]}{region[3]}{rng.choice(TRADE_NAMES)}{rng.randint(1, 300)}号",
            industry_name=segment.name if segment else "", main_products="、".join((segment.products or [])[:2]) if segment else "",
            registered_capital=Decimal(rng.choice((500, 1000, 2000, 5000, 10000, 50000))),
            annual_revenue=revenue, employees=rng.randint(20, 3000), above_scale=revenue >= 2000,
            tags=",".join(tags), zone_id=local_zone.id if local_zone else None,
        )
        firm.name_normalized = normalize_name(name)
        firm.search_pinyin = pinyin_keys(name)
        db.session.add(firm)
        firms.append(firm)
        if segment:
            mappings.append((firm, segment, local_zone is not None and rng.random() < 0.08))
    db.session.flush()
    db.session.add_all(
        EnterpriseSegment(enterprise_id=firm.id, segment_id=segment.id, is_primary=True, is_leader=leader)
        for firm, segment, leader in mappings
    )
    db.session.flush()
    return firms, {firm.id: segment for firm, segment, _ in mappings}


def _projects(rng, count, zones, users, firms, primary_segment) -> list[Project]:
    today = date.today()
    targets = [f for f in firms if f.zone_id is None]
    staff = {zone.id: [u for u in users if u.role in {"officer", "chief"} and zone in u.zones] for zone in zones}
    deals = []
    stages = PIPELINE_STAGES + ("搁置", "终止")
    for i in range(count):
        zone = zones[i % len(zones)]
        owner = rng.choice(staff[zone.id])
        firm = targets[i % len(targets)]
        stage = stages[i % len(stages)] if i < len(stages) * 2 else rng.choice(stages)
        started = today - timedelta(days=rng.randint(60, 720))
        project = Project(
            zone_id=zone.id, enterprise_id=firm.id, owner_id=owner.id,
            name=f"{normalize_name(firm.name)}{rng.choice(('生产基地', '扩产', '研发中心', '智能工厂'))}项目",
            planned_investment=Decimal(rng.choice((3000, 5000, 10000, 20000, 50000, 100000))),
            land_area=Decimal(rng.choice((30, 50, 80, 120, 200))), source=rng.choice(PROJECT_SOURCES),
            priority=rng.choice(("高", "中", "低")), stage="线索",
            segments=[primary_segment[firm.id]] if firm.id in primary_segment else [],
            created_at=datetime.combine(started, time(9), UTC),
        )
        db.session.add(project)
        db.session.flush()
        _walk_stages(rng, project, stage, started, owner)
        deals.append(project)
    return deals


def _walk_stages(rng, project, stage, started, owner) -> None:
    """Record the stage events a real project would have passed through to reach ``stage``."""
    path = list(PIPELINE_STAGES[: PIPELINE_STAGES.index(stage) + 1]) if stage in PIPELINE_STAGES \
        else list(PIPELINE_STAGES[: rng.randint(1, 4)]) + [stage]
    days = max((date.today() - started).days, len(path))
    step = days // len(path)
    previous = None
    for n, current in enumerate(path):
        day = started + timedelta(days=n * step)
        note = "企业投资计划调整，暂缓推进" if current == "搁置" else ("企业已在外省落地" if current == "终止" else "")
        db.session.add(StageEvent(project_id=project.id, actor_id=owner.id, from_stage=previous, to_stage=current,
                                  note=note, at=datetime.combine(day, time(10), UTC)))
        if current == "签约":
            project.contract_investment = project.planned_investment
            project.due_registered = day + timedelta(days=60)
            project.due_started = day + timedelta(days=180)
            project.due_production = day + timedelta(days=540)
            project.due_full_production = day + timedelta(days=900)
            project.annual_output_value = project.planned_investment * Decimal("1.5")
            project.annual_tax = project.planned_investment * Decimal("0.06")
            project.jobs = rng.randint(50, 800)
        column = MILESTONE_COLUMNS.get(current)
        if column:
            setattr(project, column, day)
        previous = current
    project.stage = path[-1]
    project.stage_reason = note
    project.stage_changed_at = datetime.combine(started + timedelta(days=(len(path) - 1) * step), time(10), UTC)


def _visits(rng, count, users, firms, deals) -> None:
    today = date.today()
    for i in range(count):
        project = deals[i % len(deals)] if rng.random() < 0.8 else None
        if project is not None:
            firm_id, zone_id = project.enterprise_id, project.zone_id
            officer_id = project.owner_id
        else:
            officer = rng.choice([u for u in users if u.role == "officer"])
            firm_id, zone_id, officer_id = rng.choice(firms).id, officer.zones[0].id, officer.id
        visit_date = today - timedelta(days=rng.randint(0, 400))
        has_next = rng.random() < 0.7
        db.session.add(Visit(
            zone_id=zone_id, enterprise_id=firm_id, project_id=project.id if project else None,
            officer_id=officer_id, kind=rng.choice(VISIT_KINDS), visit_date=visit_date,
            our_leader=rng.choice(LEADERS), our_people=f"{person(rng)}、{person(rng)}",
            their_people=f"{person(rng)}（{rng.choice(TITLES)}）", summary=rng.choice(SUMMARIES),
            outcome=rng.choice(("达成初步意向", "需进一步对接", "企业暂无投资计划", "同意来园考察")),
            next_step=rng.choice(NEXT_STEPS) if has_next else "",
            next_step_due=visit_date + timedelta(days=rng.randint(3, 45)) if has_next else None,
            # Officers close most older next steps; a few are left overdue, as in real ledgers.
            next_step_done_at=datetime.combine(visit_date + timedelta(days=10), time(18), UTC)
            if has_next and (today - visit_date).days > 60 and rng.random() < 0.9 else None,
        ))


def _ledger(rng, zones, deals) -> None:
    """Yearly targets, the 亩均 threshold, monthly funds in place and a capital increase."""
    today = date.today()
    for zone, (count, amount, per_mu) in zip(zones, ((12, 600000, 300), (10, 500000, 250), (6, 150000, 150))):
        zone.min_investment_per_mu = Decimal(per_mu)
        db.session.add(ZoneTarget(zone_id=zone.id, year=today.year, signed_count=count, signed_amount=Decimal(amount)))
    for project in deals:
        if project.signed_date is None or project.stage == "终止":
            continue
        month = project.signed_date.replace(day=1)
        share = Decimal(rng.choice(("0.02", "0.04", "0.06", "0.1")))
        while month <= today.replace(day=1):
            if rng.random() < 0.6:
                db.session.add(FundsInPlace(zone_id=project.zone_id, project_id=project.id, month=month,
                                            amount=(project.contract_investment * share).quantize(Decimal("0.01"))))
            month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        if rng.random() < 0.15:
            db.session.add(CapitalIncrease(zone_id=project.zone_id, project_id=project.id, amount=Decimal(5000),
                                           signed_date=min(today, project.signed_date + timedelta(days=120)),
                                           note="追加二期投资"))
