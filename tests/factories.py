"""Build records through the same services the application uses, so they are valid and audited."""
from __future__ import annotations

import itertools
import random
from datetime import date

from stdnum.cn import uscc as uscc_lib

from crm.accounts.service import create_user
from crm.extensions import db
from crm.accounts.zones import Zone
from crm.library.service import create_enterprise
from crm.permissions import SYSTEM
from crm.pipeline.service import create_project
from crm.visits.service import create_visit

PASSWORD = "correct-horse-42"
_counter = itertools.count(1)


def valid_uscc(seed: int | None = None) -> str:
    rng = random.Random(seed if seed is not None else next(_counter) * 7919)
    partial = "91341200" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return partial + uscc_lib.calc_check_digit(partial)


def make_zone(name: str | None = None, **kwargs) -> Zone:
    zone = Zone(name=name or f"测试园区{next(_counter)}", level=kwargs.pop("level", "省级"), **kwargs)
    db.session.add(zone)
    db.session.flush()
    return zone


def make_user(role: str = "officer", zones: list[Zone] | None = None, username: str | None = None):
    n = next(_counter)
    return create_user(
        username=username or f"{role}{n}", display_name=f"{role}用户{n}", password=PASSWORD,
        role=role, zones=zones or [],
    )


def make_enterprise(actor=None, **data):
    n = next(_counter)
    data.setdefault("name", f"测试企业{n}有限公司")
    return create_enterprise(actor or SYSTEM, data)


def make_project(actor, enterprise=None, **data):
    enterprise = enterprise or make_enterprise(actor)
    data.setdefault("name", f"{enterprise.name}项目")
    return create_project(actor, enterprise, data)


def make_visit(actor, enterprise=None, project=None, **data):
    if enterprise is None:
        enterprise = project.enterprise if project else make_enterprise(actor)
    data.setdefault("kind", "上门拜访")
    data.setdefault("visit_date", date.today())
    data.setdefault("summary", "洽谈投资意向")
    return create_visit(actor, enterprise, data, project=project)
