"""What each job does: it calls the feature's own service functions, unchanged, and hands back an Outcome.

- ``import_dry_run``: read the upload and plan it (``imports.service.dry_run``); store the plan once.
- ``import_commit``: read the upload and import it (``imports.service.commit_import``); drop the upload.
- ``ledger_export``: the monthly ledger workbook (``ledger.export.export_ledger``).
- ``gaps_export``: a chain's gap report workbook (``chains.gaps`` + ``chains.export.report_workbook``).

Each runs as the job's owner, with the owner's rights checked again by the services (a job queued
yesterday by someone who lost a zone since cannot read it today).
"""
from __future__ import annotations

from io import BytesIO

from flask import current_app

from crm.accounts.zones import Zone
from crm.chains import gaps as analysis
from crm.chains.export import report_workbook
from crm.extensions import db
from crm.imports import service as import_service
from crm.imports.models import ImportUpload
from crm.imports.reading import ImportRefused
from crm.imports.uploads import get_upload, mapping_of, store_plan
from crm.inputs import download_name
from crm.jobs.service import JobFailed, Outcome, job_kind
from crm.ledger.export import export_ledger, ledger_title
from crm.permissions import can

GONE = "上传的文件已过期或已放弃，请重新上传"


def _upload(job, *, lock: bool = False) -> ImportUpload:
    upload = get_upload(job.params["upload_id"], lock=lock)
    if upload is None:
        raise JobFailed(GONE)
    return upload


def _table(upload: ImportUpload, progress):
    progress(0, 0, "读取文件")
    try:
        return import_service.read_table(upload.data, upload.filename, kind=upload.kind,
                                         **import_service.limits(current_app.config))
    except ImportRefused as refused:
        raise JobFailed(f"文件被拒绝：{refused.message}") from refused


@job_kind("import_dry_run", "导入检查")
def import_dry_run(job, actor, progress) -> Outcome:
    upload = _upload(job)
    table = _table(upload, progress)
    zone = db.session.get(Zone, upload.zone_id)
    try:
        plan = import_service.dry_run(actor, upload.kind, table, mapping_of(upload), zone, local=upload.local,
                                      filename=upload.filename, progress=progress)
    except ImportRefused as refused:
        raise JobFailed(refused.message) from refused
    progress(len(table.rows), len(table.rows), "保存检查结果")
    upload_id, token, filename = upload.id, upload.token, upload.filename

    def keep_the_plan() -> None:  # once, for every preview to read
        fresh = db.session.get(ImportUpload, upload_id)
        if fresh is None:
            raise JobFailed(GONE)
        store_plan(fresh, table, plan)
        fresh.plan_job_id = job.id

    verdict = f"检查通过：{plan.summary()}" if plan.ok else f"发现 {len(plan.problems)} 个问题"
    return Outcome(message=f"“{filename}”共 {len(table.rows)} 行，{verdict}",
                   page=("imports.preview", {"token": token}), apply=keep_the_plan)


@job_kind("import_commit", "导入", writes=True)
def import_commit(job, actor, progress) -> Outcome:
    # Locked (PostgreSQL) until this job commits: a second commit of the same upload waits, then finds
    # it gone with the first import, instead of importing the file twice.
    upload = _upload(job, lock=True)
    table = _table(upload, progress)
    zone = db.session.get(Zone, upload.zone_id)
    try:
        batch = import_service.commit_import(actor, upload.kind, table, mapping_of(upload), zone, upload.filename,
                                             local=upload.local, progress=progress)
    except import_service.ImportHasProblems as error:
        raise JobFailed(error.message + "，请按问题清单修改后重新上传") from error
    except ImportRefused as refused:
        raise JobFailed(refused.message) from refused
    db.session.delete(upload)  # gone with the import, in the same transaction
    return Outcome(message=f"已导入“{upload.filename}”共 {batch.row_count} 行，批次 #{batch.id}",
                   page=("imports.batch", {"batch_id": batch.id}))


@job_kind("ledger_export", "月度台账")
def ledger_export(job, actor, progress) -> Outcome:
    month, zone_id = job.params["month"], job.params.get("zone_id")
    if zone_id and not can(actor, "reports.read", zone_id):
        raise JobFailed("无权导出该园区的台账")
    progress(0, 0, "生成台账")
    buffer = BytesIO()
    export_ledger(actor, month, buffer, zone_id=zone_id)
    zone = db.session.get(Zone, zone_id) if zone_id else None
    name = f"{ledger_title(actor, zone, month)}.xlsx"
    return Outcome(message=f"{name} 已生成", filename=download_name(name), content=buffer.getvalue())


@job_kind("gaps_export", "缺口报告")
def gaps_export(job, actor, progress) -> Outcome:
    code, zone_id = job.params["code"], job.params.get("zone_id")
    progress(0, 0, "分析产业链缺口")
    try:
        report = analysis.analyse_chain(actor, code, zone_id)
    except analysis.NotFound as error:
        raise JobFailed("产业链或园区不存在，或无权查看") from error
    progress(0, 0, "生成工作簿")
    content = report_workbook(report, analysis.report_targets(actor, report))
    name = f"{report.chain['name']}产业链缺口报告-{report.scope_label}-{report.generated_at:%Y%m%d}.xlsx"
    return Outcome(message=f"{name} 已生成", filename=download_name(name), content=content)
