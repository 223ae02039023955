"""Round trip: export a month's ledger, import it into an empty database, get the same projects."""
from datetime import date
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from crm import create_app
from crm.audit.log import acting_as
from crm.accounts.service import create_user
from crm.extensions import db
from crm.pipeline.models import Project
from crm.accounts.zones import Zone
from crm.ledger.export import export_ledger
from crm.pipeline.service import change_stage
from tests import factories as f

TODAY = date.today()
MONTH = f"{TODAY.year}-{TODAY.month:02d}"


def _signature(projects):
    return sorted(
        (p.name, p.enterprise.name, p.enterprise.uscc, p.stage, p.planned_investment,
         p.contract_investment, p.signed_date, p.owner.display_name, p.source)
        for p in projects
    )


def test_exported_month_imports_into_an_empty_database_as_the_same_projects(world, app, scratch_database_url, tmp_path):
    from crm.imports.commands import import_command

    signed = world.project_a
    signed.planned_investment = Decimal("30000")
    signed.source = "以商招商"
    for stage in ("接洽", "考察", "洽谈"):
        change_stage(world.officer_a, signed, stage)
    change_stage(world.officer_a, signed, "签约", on_date=TODAY, contract_investment=Decimal("28000"))
    talking = f.make_project(world.officer_a, f.make_enterprise(world.admin, name="宁波瑞丰新能源科技有限公司",
                                                                   uscc=f.valid_uscc(808)),
                             name="瑞丰储能项目", planned_investment=Decimal("5000"), source="展会")
    change_stage(world.officer_a, talking, "考察")
    db.session.commit()
    expected = _signature(db.session.scalars(select(Project).where(Project.zone_id == world.zone_a.id)))
    ledger = tmp_path / "ledger.xlsx"
    with open(ledger, "wb") as out:
        export_ledger(world.chief_a, MONTH, out)
    staff = [(u.username, u.display_name, u.role) for u in (world.officer_a, world.chief_a)]

    empty = create_app("testing", {"SQLALCHEMY_DATABASE_URI": scratch_database_url})
    with empty.app_context():
        upgrade()
        with acting_as(db.session, None):
            zone = Zone(name=world.zone_a.name)
            db.session.add(zone)
            db.session.flush()
            for username, display_name, role in staff:
                create_user(username=username, display_name=display_name, password=f.PASSWORD, role=role, zones=[zone])
        db.session.commit()
        runner = empty.test_cli_runner()
        for sheet in ("签约项目", "在谈项目"):
            result = runner.invoke(import_command, [str(ledger), "--kind", "projects", "--zone", zone.name,
                                                    "--sheet", sheet, "--as", world.chief_a.username])
            assert result.exit_code == 0, result.output
        assert _signature(db.session.scalars(select(Project))) == expected
        db.session.remove()
        db.engine.dispose()
