"""`flask --app wsgi import FILE --kind enterprises|projects|visits --zone ZONE [--dry-run] [--as USER]`.

For scheduled loads. Prints every problem as ``第 N 行 [列]: 消息`` and exits 1 when any row is
refused (nothing is written); otherwise commits the whole file at once and prints a summary.
Without ``--as`` it acts as the system (the city admin's rights, no user: audit entries and the
batch show no user, and project/visit rows must name their 负责人/跟进人).
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from crm.audit import acting_as
from crm.extensions import db
from crm.models import User, Zone
from crm.services import imports as import_service
from crm.services.errors import ServiceError
from crm.services.imports import KINDS, SYSTEM_ACTOR, ImportRefused


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What the ledger holds.")
@click.option("--zone", "zone_ref", required=True, help="Zone name or id to import into.")
@click.option("--dry-run", is_flag=True, help="Check every row and print the problems; write nothing.")
@click.option("--as", "username", default=None, help="Act as this user (default: the system, admin rights).")
@click.option("--local", is_flag=True, help="Enterprises: import as local to the zone (在园企业).")
@with_appcontext
def import_command(file: Path, kind: str, zone_ref: str, dry_run: bool, username: str | None, local: bool) -> None:
    """Import a zone ledger (.xlsx or .csv): all rows or none."""
    zone = _zone(zone_ref)
    actor = _actor(username)
    settings = import_service.limits(current_app.config)
    if file.stat().st_size > settings["max_bytes"]:
        _fail(f"文件被拒绝：文件太大，上限为 {settings['max_bytes'] // 1024 // 1024} MB")
    with acting_as(db.session, actor):
        try:
            table = import_service.read_table(file.read_bytes(), file.name, **settings)
            plan = import_service.dry_run(actor, kind, table, None, zone, local=local, filename=file.name)
        except ImportRefused as refused:
            _fail(f"文件被拒绝：{refused.message}")
        for problem in plan.problems:
            where = f"第 {problem.row} 行" if problem.row is not None else "表头"
            click.echo(f"{where} [{problem.column}]: {problem.message}")
        if not plan.ok:
            rows = len(plan.refused_rows)
            _fail(f"{len(plan.problems)} 个问题" + (f"，{rows} 行被拒绝" if rows else "") + "；未写入任何数据")
        for action in plan.actions:
            if action.how:
                click.echo(f"第 {action.row} 行: {action.detail}")
        if dry_run:
            click.echo(f"检查通过（--dry-run，未写入）：{len(table.rows)} 行；{plan.summary()}")
            return
        try:
            batch = import_service.commit_import(actor, kind, table, None, zone, file.name, local=local)
            db.session.commit()
        except (ServiceError, ImportRefused) as error:
            db.session.rollback()
            _fail(error.message)
        except Exception:
            db.session.rollback()
            raise
    click.echo(f"已导入批次 #{batch.id}（{zone.name}）：{len(table.rows)} 行；{plan.summary()}")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise SystemExit(1)


def _zone(ref: str) -> Zone:
    zone = db.session.get(Zone, int(ref)) if ref.isdigit() else None
    zone = zone or db.session.scalar(select(Zone).where(Zone.name == ref.strip()))
    if zone is None:
        raise click.BadParameter(f"没有名为或编号为“{ref}”的园区", param_hint="--zone")
    return zone


def _actor(username: str | None):
    if username is None:
        return SYSTEM_ACTOR
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.can_write:
        raise click.BadParameter(f"“{username}”不是可写入数据的有效用户", param_hint="--as")
    return user
