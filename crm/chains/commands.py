"""`flask --app wsgi chains gaps --chain CODE [--zone ZONE] [--json]`: the gap report on the command line.

The command reads what the city admin reads (one zone, or the whole city without --zone) and
prints the same numbers as the report page and its Excel export.
"""
from __future__ import annotations

import json
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from crm.audit.log import acting_as
from crm.extensions import db
from crm.formatting import local_datetime
from crm.catalog.models import Chain
from crm.accounts.zones import Zone
from crm.chains import gaps as analysis
from crm.inputs import id_or_none
from crm.permissions import SYSTEM
from crm.pipeline.service import fill_missing_segments


def _zone_id(zone: str | None) -> int | None:
    if zone is None or not zone.strip():
        return None
    zone = zone.strip()
    found = db.session.scalar(select(Zone).where(Zone.name == zone))
    if found is None and id_or_none(zone):
        found = db.session.get(Zone, id_or_none(zone))
    if found is None:
        names = "、".join(db.session.scalars(select(Zone.name).order_by(Zone.id)))
        raise click.ClickException(f"未知园区 {zone}（可用：{names or '无'}）")
    return found.id


@click.command("gaps")
@click.option("--chain", "chain_code", required=True, help="产业链代码，例如 aluminium")
@click.option("--zone", default=None, help="园区名称或 ID；省略则分析全市")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@with_appcontext
def gaps(chain_code: str, zone: str | None, as_json: bool) -> None:
    """Print the chain-gap report of one chain for a zone or the whole city."""
    operator = SYSTEM
    try:
        report = analysis.analyse_chain(operator, chain_code, _zone_id(zone))
    except analysis.NotFound as error:
        codes = "、".join(db.session.scalars(select(Chain.code).order_by(Chain.code)))
        raise click.ClickException(f"{error.message}（可用：{codes or '无，请先运行 flask chains load'}）") from error
    targets = analysis.report_targets(operator, report)
    data = analysis.report_dict(report, targets)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _print_text(report, data)


def _print_text(report: analysis.ChainReport, data: dict) -> None:
    kpis = report.kpis
    click.echo(f"{report.chain['name']}（{report.chain['code']}）产业链缺口报告 — {report.scope_label}")
    click.echo(f"数据日期 {local_datetime(report.generated_at)}；"
               f"企业环节映射最近更新 {local_datetime(report.mappings_updated_at) or '—'}")
    click.echo(
        f"环节 {kpis['total_segments']}，已有 {kpis['present_segments']}（覆盖率 {kpis['coverage']:.0%}）；"
        f"强 {kpis['by_status']['strong']} 弱 {kpis['by_status']['weak']} 缺 {kpis['by_status']['missing']}；"
        f"链主环节 {kpis['leader_count']}；本地产值 {kpis['total_output']:,.0f} 万元"
    )
    click.echo("")
    click.echo(f"{'排名':<4}{'优先级':>7}  {'现状':<3}{'建议':<4} 环节")
    for rank, record in enumerate(report.gaps, start=1):
        parts = " + ".join(f"{analysis.TERM_LABELS[k]} {v:.1f}" for k, v in record.contributions.items() if v > 0)
        click.echo(f"{rank:<6}{record.priority:>8.2f}  {analysis.STATUS_LABELS[record.status]:<4}"
                   f"{record.action or '—':<5}{record.name}（{record.code}）  {parts}")
    dominators = data["choke_points"]["dominators"]
    if dominators:
        click.echo("")
        click.echo("供给咽喉：")
        for row in dominators:
            click.echo(f"  {row['name']} → {'、'.join(d['name'] for d in row['dominates'])}")


@click.command("fill-project-segments")
@click.option("--dry-run", is_flag=True, help="只列出将补上的环节，不写入")
@with_appcontext
def fill_project_segments(dry_run: bool) -> None:
    """Give every project serving no segment its enterprise's primary segment (for projects made earlier)."""
    with acting_as(db.session, None):
        found = fill_missing_segments(SYSTEM)
    for project, segment in found:
        click.echo(f"#{project.id} {project.zone.name} {project.name} → {segment.name}（{segment.code}）")
    if dry_run:
        db.session.rollback()
        click.echo(f"试运行：{len(found)} 个项目将补上企业主环节，未写入")
        return
    db.session.commit()
    click.echo(f"已为 {len(found)} 个项目补上企业主环节")
