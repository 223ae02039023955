"""Helpers for the chain pages and services: segments by code, mapped enterprises, projects on segments."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.catalog.models import EnterpriseSegment, Segment
from tests import factories as f


def segment(code: str) -> Segment:
    return db.session.scalars(select(Segment).where(Segment.code == code)).one()


def mapped_enterprise(actor, code: str, *, zone=None, revenue=None, above_scale=False, leader=False,
                      primary=True, tags="", name=None):
    """An enterprise of the library mapped onto segment ``code`` (local to ``zone`` when given)."""
    data = {"above_scale": above_scale, "tags": tags, "zone_id": zone.id if zone else None}
    if revenue is not None:
        data["annual_revenue"] = Decimal(revenue)
    if name:
        data["name"] = name
    enterprise = f.make_enterprise(actor, **data)
    db.session.add(EnterpriseSegment(enterprise_id=enterprise.id, segment_id=segment(code).id,
                                     is_primary=primary, is_leader=leader))
    db.session.flush()
    return enterprise


def project_on(actor, code: str, stage: str = "线索", enterprise=None, name=None):
    """A project of the actor's zone serving segment ``code``, put straight into ``stage``."""
    data = {"segments": [segment(code)]}
    if name:
        data["name"] = name
    project = f.make_project(actor, enterprise, **data)
    project.stage = stage
    db.session.flush()
    return project


@pytest.fixture
def map_world(world):
    """The `world` with its enterprise on 电解铝 (AL-PRIMARY) and both zones' projects serving it."""
    primary = segment("AL-PRIMARY")
    db.session.add(EnterpriseSegment(enterprise_id=world.enterprise.id, segment_id=primary.id, is_primary=True))
    world.project_a.segments = [primary]
    world.project_b.segments = [primary]
    world.local_a = mapped_enterprise(world.admin, "AL-PRIMARY", zone=world.zone_a, revenue=12000,
                                      above_scale=True, name="甲园电解铝有限公司")
    world.local_b = mapped_enterprise(world.admin, "AL-PRIMARY", zone=world.zone_b, revenue=8000,
                                      above_scale=True, name="乙园电解铝有限公司")
    db.session.commit()
    return world
