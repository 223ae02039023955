"""Command-line tools: `flask --app wsgi <command>`. They call the same services as the views."""
from __future__ import annotations

import getpass
import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from crm.audit.log import acting_as
from crm.extensions import db
from crm.inputs import id_or_none


def register(app: Flask) -> None:
    from crm.chains.commands import fill_project_segments, gaps
    from crm.imports.commands import import_command
    from crm.jobs.commands import jobs_group

    chains_group.add_command(gaps)
    chains_group.add_command(fill_project_segments)
    app.cli.add_command(import_command)
    app.cli.add_command(jobs_group)
    app.cli.add_command(create_admin)
    app.cli.add_command(load_demo_command)
    app.cli.add_command(setup_command)
    app.cli.add_command(chains_group)
    app.cli.add_command(ledger_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(rotate_totp_keys)
    app.cli.add_command(refresh_summaries_command)


@click.command("rotate-totp-keys")
@with_appcontext
def rotate_totp_keys() -> None:
    """Re-encrypt every stored two-factor secret with the first of TOTP_ENCRYPTION_KEYS."""
    from sqlalchemy import text

    from crm.accounts import crypto

    cipher = crypto.cipher()
    rows = db.session.execute(text("SELECT id, totp_secret, totp_pending_secret FROM users")).all()
    rotated = 0
    for user_id, *tokens in rows:
        values = [cipher.rotate(t.encode("ascii")).decode("ascii") if t else None for t in tokens]
        if any(tokens):
            db.session.execute(text("UPDATE users SET totp_secret = :a, totp_pending_secret = :b WHERE id = :id"),
                               {"a": values[0], "b": values[1], "id": user_id})
            rotated += 1
    db.session.commit()
    click.echo(f"已用新密钥重新加密 {rotated} 个账号的两步验证密钥")


@click.command("create-admin")
@with_appcontext
@click.option("--username", required=True)
@click.option("--name", "display_name", default="管理员")
@click.option("--password", envvar="LIANZHAO_ADMIN_PASSWORD", default=None,
              help="Read from LIANZHAO_ADMIN_PASSWORD, or asked for when omitted.")
def create_admin(username: str, display_name: str, password: str | None) -> None:
    """Create a city admin account."""
    from crm.accounts.service import create_user, UserError

    if not password:
        password = getpass.getpass("密码: ")
    try:
        with acting_as(db.session, None):
            create_user(username=username, display_name=display_name, password=password, role="admin", zones=[])
    except UserError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"created admin {username}")


@click.command("load-demo")
@with_appcontext
@click.option("--seed", default=2026, show_default=True)
def load_demo_command(seed: int) -> None:
    """Load the demo city into an empty database."""
    _load_demo(seed)


def _load_demo(seed: int) -> None:
    from crm.demo import DEMO_PASSWORD, USERS, load_demo
    from crm.accounts.zones import Zone

    if db.session.scalar(select(func.count()).select_from(Zone)):
        raise click.ClickException("the database already holds zones; demo data goes into an empty database only")
    counts = load_demo(seed)
    db.session.commit()
    click.echo("demo data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"demo sign-ins (password {DEMO_PASSWORD}):")
    for username, name, role, _ in USERS:
        click.echo(f"  {username:10} {role:8} {name}")


@click.command("setup")
@with_appcontext
@click.option("--demo/--no-demo", default=True, help="Load the demo city when the database is empty.")
def setup_command(demo: bool) -> None:
    """Migrate, load the chain definitions, and load the demo city if the database is empty."""
    from crm.accounts.zones import Zone

    upgrade()
    _load_chains()
    if demo and not db.session.scalar(select(func.count()).select_from(Zone)):
        _load_demo(2026)
    else:
        from crm.demo import DEMO_PASSWORD, USERS

        if demo:
            click.echo(f"database already set up; demo sign-ins (password {DEMO_PASSWORD}): "
                       + ", ".join(u[0] for u in USERS))


@click.group("chains")
def chains_group() -> None:
    """Industrial-chain definitions and analysis."""


@chains_group.command("load")
@with_appcontext
@click.option("--dir", "directory", default=None, help="Directory of chain YAML files (default chains/data).")
def chains_load(directory: str | None) -> None:
    """Validate the chain files and load them into the database (idempotent)."""
    _load_chains(directory)


@chains_group.command("layout-report")
def chains_layout_report() -> None:
    """Crossing arrows per chain map: the simple layout (before) against the layered one (after)."""
    from chains.definitions import load_all
    from chains.layout import layout_report

    click.echo(f"{'chain':<14}{'segments':>9}{'links':>7}{'before':>8}{'after':>7}")
    for row in layout_report(load_all()):
        click.echo(f"{row['chain']:<14}{row['nodes']:>9}{row['edges']:>7}{row['before']:>8}{row['after']:>7}")


def _load_chains(directory: str | None = None) -> None:
    from chains.definitions import DEFAULT_DATA_DIR, DefinitionError, load_all
    from crm.catalog.service import format_kept, sync_chains

    try:
        definitions = load_all(directory or DEFAULT_DATA_DIR)
    except DefinitionError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    with acting_as(db.session, None):
        stats = sync_chains(definitions)
    db.session.commit()
    click.echo(f"chains loaded: {len(definitions)} chains; changed {stats['chains']} chains, "
               f"{stats['segments']} segments, {stats['links']} new links")
    for kept in stats["kept"]:
        click.echo(format_kept(*kept))


@click.group("ledger")
def ledger_group() -> None:
    """The monthly pipeline ledger (月度招商项目台账)."""


@ledger_group.command("export")
@with_appcontext
@click.option("--zone", "zone_ref", default=None, help="Zone name or id; omit for every zone.")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False))
def ledger_export(zone_ref: str | None, month: str, output: str) -> None:
    """Write one month's ledger workbook, for scheduled runs. Acts with the city admin's view."""
    from crm.accounts.models import User
    from crm.inputs import month_bounds
    from crm.ledger.export import export_ledger

    try:
        month_bounds(month)
    except ValueError as error:
        raise click.BadParameter("month must look like 2026-03", param_hint="--month") from error
    zone = _zone_by_ref(zone_ref) if zone_ref else None
    system = User(id=None, role="admin", username="system", display_name="系统")
    with open(output, "wb") as out:
        counts = export_ledger(system, month, out, zone_id=zone.id if zone else None)
    click.echo(f"wrote {output}: " + ", ".join(f"{sheet} {n}" for sheet, n in counts.items()))


def _zone_by_ref(ref: str):
    from crm.accounts.zones import Zone

    zone_id = id_or_none(ref)
    stmt = select(Zone).where(Zone.id == zone_id) if zone_id else select(Zone).where(Zone.name == ref)
    zone = db.session.scalar(stmt)
    if zone is None:
        raise click.BadParameter(f"no zone {ref!r}", param_hint="--zone")
    return zone


@click.command("refresh-summaries")
@with_appcontext
def refresh_summaries_command() -> None:
    """Recompute every summary the listeners keep (projects' last visit, the enterprise search index)
    from the facts: after a bulk load that bypassed the ORM, or to check them."""
    from crm.library.search_index import refresh_search_grams
    from crm.visits.last_visit import refresh_last_visits

    connection = db.session.connection()
    refresh_last_visits(connection)
    refresh_search_grams(connection)
    db.session.commit()
    click.echo("summaries recomputed: projects.last_visit_at, enterprise_search_grams")


@click.command("backup")
@with_appcontext
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Target file (default instance/backups/lianzhao-<UTC time>.<sqlite|dump>).")
def backup_command(output: str | None) -> None:
    """Write a consistent copy of the database (safe while the app runs)."""
    from datetime import UTC, datetime

    from flask import current_app

    from crm.backup import BackupError, backup

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if output is None:
        suffix = "sqlite" if url.startswith("sqlite") else "dump"
        output = f"{current_app.instance_path}/backups/lianzhao-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.{suffix}"
    db.session.remove()
    try:
        path = backup(url, output)
    except (BackupError, OSError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {path}")


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: str, yes: bool) -> None:
    """Replace the database's contents with a backup made by `backup`."""
    from flask import current_app

    from crm.backup import BackupError, restore

    if not yes:
        click.confirm("这会用备份覆盖当前数据库中的全部数据，确定继续？", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    except (BackupError, OSError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored from {source}")
