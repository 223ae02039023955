from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.extensions import db
from crm.pipeline.service import change_stage


def sign(actor, project, *, days_ago=100, amount=Decimal("10000"), land=Decimal("50")):
    """Walk a project to 签约 ``days_ago`` days ago with the given commitment."""
    for stage in ("接洽", "考察", "洽谈"):
        change_stage(actor, project, stage)
    project.land_area = land
    change_stage(actor, project, "签约", on_date=date.today() - timedelta(days=days_ago),
                 contract_investment=amount)
    db.session.flush()
    return project


@pytest.fixture
def signed_a(world):
    project = sign(world.officer_a, world.project_a)
    db.session.commit()  # a later rollback in the test returns here, not to an unsigned project
    return project
