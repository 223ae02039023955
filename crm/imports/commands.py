"""`flask --app wsgi import FILE --kind enterprises|projects|visits --zone ZONE [--dry-run] [--as USER]`.

For scheduled loads. Prints every problem as ``第 N 行 [列]: 消息`` and exits 1 when any row is
refused (nothing is written); otherwise commits the whole file at once and prints a summary.
With ``--queue`` (and ``--as``) the file is stored and its dry run or commit queued as a job for the
workers (crm/jobs), owned by that user, who follows it in 我的任务; the command prints the job's number.
Without ``--as`` it acts as the system (the city admin's rights, no user: audit entries and the
batch show no user, and project/visit rows must name their 负责人/跟进人).
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from crm.audit.log import acting_as
from crm.extensions import db
from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.imports import service as import_service
from crm.errors import ServiceError
from crm.imports.reading import field_spec
from crm.imports.service import FIELD_LABELS, ImportRefused, KINDS, suggest_mapping
from crm.permissions import SYSTEM, can
from crm.inputs import id_or_none


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What the ledger holds.")
@click.option("--zone", "zone_ref", required=True, help="Zone name or id to import into.")
@click.option("--dry-run", is_flag=True, help="Check every row and print the problems; write nothing.")
@click.option("--as", "username", default=None, help="Act as this user (default: the system, admin rights).")
@click.option("--local", is_flag=True, help="Enterprises: import as local to the zone (在园企业).")
@click.option("--sheet", default=None, help="The workbook's sheet to read (default: the one whose headers fit --kind).")
@click.option("--map", "pairs", multiple=True, metavar="COLUMN=FIELD",
              help="Fix the column mapping: a header or column letter = a field name or its Chinese label "
                   "(empty to skip the column), e.g. --map 项目称谓=项目名称 --map E=")
@click.option("--queue", "queued", is_flag=True,
              help="Queue the dry run (--dry-run) or the commit as a job for the workers; needs --as.")
@with_appcontext
def import_command(file: Path, kind: str, zone_ref: str, dry_run: bool, username: str | None, local: bool,
                   sheet: str | None, pairs: tuple[str, ...], queued: bool) -> None:
    """Import a zone ledger (.xlsx or .csv): all rows or none."""
    zone = _zone(zone_ref)
    actor = _actor(username)
    settings = import_service.limits(current_app.config)
    if file.stat().st_size > settings["max_bytes"]:
        _fail(f"文件被拒绝：文件太大，上限为 {settings['max_bytes'] // 1024 // 1024} MB")
    if queued:
        _queue(file, kind, zone, actor, username, local=local, dry_run=dry_run, sheet=sheet, pairs=pairs)
        return
    with acting_as(db.session, actor):
        try:
            table = import_service.read_table(file.read_bytes(), file.name, kind=kind, sheet=sheet, **settings)
            mapping = _mapping(table, kind, pairs)
            plan = import_service.dry_run(actor, kind, table, mapping, zone, local=local, filename=file.name)
        except ImportRefused as refused:
            _fail(f"文件被拒绝：{refused.message}")
        for problem in plan.problems:
            where = f"第 {problem.row} 行" if problem.row is not None else "表头"
            click.echo(f"{where} [{problem.column}]: {problem.message}")
        if not plan.ok:
            rows = len(plan.refused_rows)
            _fail(f"{len(plan.problems)} 个问题" + (f"，{rows} 行被拒绝" if rows else "") + "；未写入任何数据")
        for action in plan.actions:  # matches with existing records and notices are reported, never silent
            if action.how or (action.enterprise and action.enterprise.enterprise_id) or action.notices:
                click.echo(f"第 {action.row} 行: {action.detail}")
        if dry_run:
            click.echo(f"检查通过（--dry-run，未写入）：{len(table.rows)} 行；{plan.summary()}")
            return
        try:
            # The plan just printed is written if no save has touched it since; on SQLite the write
            # lock is held only while the rows go in.
            batch = import_service.import_and_commit(actor, kind, table, mapping, zone, file.name, local=local)
        except (ServiceError, ImportRefused) as error:
            db.session.rollback()
            _fail(error.message)
        except Exception:
            db.session.rollback()
            raise
    click.echo(f"已导入批次 #{batch.id}（{zone.name}）：{len(table.rows)} 行；{plan.summary()}")


def _queue(file: Path, kind: str, zone: Zone, actor, username, *, local: bool, dry_run: bool, sheet, pairs) -> None:
    """Store the file and queue its dry run or commit as a job owned by ``--as``; print its number."""
    from crm.imports.uploads import save_upload
    from crm.jobs import service as jobs

    if username is None:
        raise click.BadParameter("排队执行需要指定用户（任务属于提交它的人）", param_hint="--as")
    if sheet or pairs:
        raise click.BadParameter("排队执行时按表头自动识别工作表和列；请去掉 --sheet/--map，或不用 --queue",
                                 param_hint="--queue")
    try:
        import_service.check_access(actor, zone)
    except ImportRefused as refused:
        _fail(f"文件被拒绝：{refused.message}")
    with acting_as(db.session, actor):
        upload = save_upload(actor, zone, kind, file.name, file.read_bytes(), local=local)
        job = jobs.create_job(actor, "import_dry_run" if dry_run else "import_commit", {"upload_id": upload.id},
                              title=f"{'导入检查' if dry_run else '导入'}：{file.name}", zone_id=zone.id)
        if dry_run:
            upload.plan_job_id = job.id
        db.session.commit()
        jobs.start(job)
    db.session.refresh(job)
    click.echo(f"已提交任务 #{job.id}（{job.state_label}）：{job.title}；进度和结果见“我的任务” /jobs/{job.id}")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise SystemExit(1)


def _mapping(table, kind: str, pairs: tuple[str, ...]) -> dict[int, str] | None:
    """The recognised mapping with the ``--map`` corrections applied; None when there are none."""
    if not pairs:
        return None
    mapping = suggest_mapping(table.headers, kind)
    # A field by its name, its label with the unit (协议投资额（万元）) or without it (协议投资额).
    by_label = {field_spec(kind, name).label: name for name in FIELD_LABELS[kind]}
    by_label.update({label: name for name, label in FIELD_LABELS[kind].items()})
    for pair in pairs:
        column, _, target = (part.strip() for part in pair.partition("="))
        name = target if target in FIELD_LABELS[kind] else by_label.get(target)
        if target and name is None:
            raise click.BadParameter(f"“{target}”不是可导入的字段：{'、'.join(FIELD_LABELS[kind].values())}",
                                     param_hint="--map")
        index = next((i for i, header in enumerate(table.headers) if header == column), None)
        if index is None and column.isalpha() and column.isascii():
            index = next((i for i in range(len(table.headers)) if table.letter(i) == column.upper()), None)
        if index is None:
            raise click.BadParameter(f"文件中没有“{column}”列", param_hint="--map")
        mapping = {i: f for i, f in mapping.items() if f != name and i != index}
        if name:
            mapping[index] = name
    return mapping


def _zone(ref: str) -> Zone:
    zone = db.session.get(Zone, id_or_none(ref)) if id_or_none(ref) else None
    zone = zone or db.session.scalar(select(Zone).where(Zone.name == ref.strip()))
    if zone is None:
        raise click.BadParameter(f"没有名为或编号为“{ref}”的园区", param_hint="--zone")
    return zone


def _actor(username: str | None):
    if username is None:
        return SYSTEM
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not can(user, "zone.write"):
        raise click.BadParameter(f"“{username}”不是可写入数据的有效用户", param_hint="--as")
    return user
