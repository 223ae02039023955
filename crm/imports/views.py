"""Import pages: upload → preview (column mapping, dry-run problems, error report) → commit; batches.

The uploaded file waits in the database (``ImportUpload``, crm/imports/uploads.py) under a random
token: only the uploader can open it, and it expires after a day; any app process or worker reads it.
The dry run and the commit are jobs (crm/jobs): the upload queues the dry run, whose plan is stored once
and shown by every preview; a new mapping queues a new dry run; the commit is a job whose page shows
its progress and then the batch. Where a job finishes before the page is answered (a small file, the
tests' immediate queue), the page goes straight to its result.
"""
from __future__ import annotations

import io
import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from crm.extensions import db
from crm.inputs import download_name
from crm.imports.forms import ConfirmForm, UploadForm, mapping_form, mapping_from
from crm.imports.models import ImportBatch
from crm.imports import uploads
from crm.accounts.zones import Zone
from crm.permissions import allowed, can, get_scoped_or_404, writable_zone_ids
from crm.imports import dictionary, service as import_service
from crm.errors import ServiceError
from crm.imports.service import column_name, ENTITY_LABELS, FIELD_LABELS, ImportRefused, KIND_LABELS, limits, REQUIRED
from crm.jobs import service as jobs
from crm.jobs.models import CANCELLED, DONE, FAILED, Job
from crm.jobs.web import result_redirect
from crm.views import page_of, zone_choices

bp = Blueprint("imports", __name__, url_prefix="/imports", template_folder="templates")

PREVIEW_LIMIT = uploads.PREVIEW_LIMIT
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@bp.before_request
@allowed("import.run")
def writers_only():
    """Importing is for officers, chiefs and the city admin; viewers get 403."""


def _load_upload(token: str):
    """The caller's unexpired upload; 404 otherwise (another person's upload is as good as missing)."""
    if not _TOKEN.match(token):
        abort(404)
    upload = uploads.find_upload(token, current_user.id)
    if upload is None or upload.kind not in KIND_LABELS:  # another kind's upload (亩均效益: crm/efficiency)
        abort(404)
    return upload


def _queue_dry_run(upload) -> Job:
    job = jobs.create_job(current_user, "import_dry_run", {"upload_id": upload.id},
                          title=f"导入检查：{upload.filename}", zone_id=upload.zone_id)
    upload.plan, upload.report, upload.plan_job_id = None, None, job.id
    db.session.commit()
    jobs.start(job)
    return job


# ----- the steps -----------------------------------------------------------------------------
@bp.route("/", methods=["GET", "POST"])
def index():
    form = UploadForm()
    form.zone_id.choices = zone_choices(current_user)
    if not can(current_user, "city.all_zones"):
        del form.zone_id
    if form.validate_on_submit():
        zone = _zone_for(form)
        upload = form.file.data
        settings = limits(current_app.config)
        data = upload.read(settings["max_bytes"] + 1)
        filename = _display_name(upload.filename)
        try:
            import_service.check_access(current_user, zone)
            if len(data) > settings["max_bytes"]:
                raise ImportRefused(f"文件太大，上限为 {settings['max_bytes'] // 1024 // 1024 or 1} MB"
                                    if settings["max_bytes"] >= 1024 * 1024 else
                                    f"文件太大，上限为 {settings['max_bytes']} 字节")
            if not data:
                raise ImportRefused("文件是空的")
        except ImportRefused as refused:
            form.file.errors = list(form.file.errors) + [refused.message]
        else:
            stored = uploads.save_upload(current_user, zone, form.kind.data, filename, data,
                                         local=bool(form.local.data))
            _queue_dry_run(stored)
            return redirect(url_for("imports.preview", token=stored.token))
    page = page_of(import_service.batch_list_query(current_user))
    return render_template("imports/index.html", form=form, page=page, kind_labels=KIND_LABELS,
                           dictionaries={kind: dictionary.columns(kind) for kind in KIND_LABELS})


@bp.route("/template/<kind>.xlsx")
def template(kind):
    """The blank template of one kind, with its 字段说明 sheet."""
    if kind not in KIND_LABELS:
        abort(404)
    return send_file(
        io.BytesIO(dictionary.template_workbook(kind)), as_attachment=True,
        download_name=f"{KIND_LABELS[kind]}导入模板.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0,
    )


def _zone_for(form) -> Zone | None:
    if "zone_id" in form:
        zone_id = form.zone_id.data
    else:
        zones = writable_zone_ids(current_user) or [None]
        zone_id = zones[0]
    return db.session.get(Zone, zone_id) if zone_id else None


def _prepared(token: str):
    """The upload and its stored plan; or a response: the dry run's progress, or back to the upload
    with the reason when the dry run failed (a refused file)."""
    upload = _load_upload(token)
    stored = uploads.stored_plan(upload)
    if stored is not None:
        return upload, stored
    job = db.session.get(Job, upload.plan_job_id) if upload.plan_job_id else None
    if job is None:
        job = _queue_dry_run(upload)
    else:
        jobs.fail_if_vanished(job)
    if job.state in (FAILED, CANCELLED):  # nothing to preview: upload again
        flash(job.error, "danger" if job.state == FAILED else "info")
        db.session.delete(upload)
        db.session.commit()
        return redirect(url_for("imports.index"))
    if job.state == DONE:  # done meanwhile: its plan is there now
        db.session.refresh(upload)
        stored = uploads.stored_plan(upload)
        if stored is not None:
            return upload, stored
    return render_template("imports/waiting.html", upload=upload, job=job, kind_label=KIND_LABELS[upload.kind],
                           confirm_form=ConfirmForm())


@bp.route("/<token>")
def preview(token):
    prepared = _prepared(token)
    if not isinstance(prepared, tuple):
        return prepared
    upload, (table, plan) = prepared
    zone = db.session.get(Zone, upload.zone_id)
    form = mapping_form(table, upload.kind, plan.mapping)
    return render_template(
        "imports/preview.html", token=token, meta=upload, zone=zone, table=table, plan=plan, form=form,
        samples=table.samples, confirm_form=ConfirmForm(), kind_label=KIND_LABELS[upload.kind],
        field_labels=FIELD_LABELS[upload.kind], entity_labels=ENTITY_LABELS, limit=PREVIEW_LIMIT,
        column_name=column_name,
        required_labels=[FIELD_LABELS[upload.kind][f] for f in REQUIRED[upload.kind]],
    )


@bp.route("/<token>/mapping", methods=["POST"])
def save_mapping(token):
    prepared = _prepared(token)
    if not isinstance(prepared, tuple):
        return redirect(url_for("imports.preview", token=token))
    upload, (table, plan) = prepared
    form = mapping_form(table, upload.kind, plan.mapping)
    if form.validate_on_submit():
        upload.mapping = {str(index): field for index, field in mapping_from(form).items()}
        _queue_dry_run(upload)
        flash("已按新的列对应关系重新检查", "info")
    else:
        flash("列对应关系无效，请重新选择", "danger")
    return redirect(url_for("imports.preview", token=token))


@bp.route("/<token>/report.xlsx")
def report(token):
    prepared = _prepared(token)
    if not isinstance(prepared, tuple):
        return prepared
    upload, _ = prepared
    data = db.session.scalar(db.select(type(upload).report).where(type(upload).id == upload.id))
    if data is None:
        flash("检查没有发现问题，没有问题清单", "info")
        return redirect(url_for("imports.preview", token=token))
    stem = upload.filename.rsplit(".", 1)[0]
    return send_file(
        io.BytesIO(data), as_attachment=True, download_name=download_name(f"导入问题清单_{stem}.xlsx"),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0,
    )


@bp.route("/<token>/commit", methods=["POST"])
def commit(token):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    upload = _load_upload(token)
    job = jobs.create_job(current_user, "import_commit", {"upload_id": upload.id},
                          title=f"导入：{upload.filename}", zone_id=upload.zone_id)
    db.session.commit()
    jobs.start(job)
    db.session.refresh(job)
    if job.state in (FAILED, CANCELLED):  # nothing to preview: upload again
        flash(job.error, "danger" if job.state == FAILED else "info")
        return redirect(url_for("imports.preview", token=token))
    return result_redirect(job)


@bp.route("/<token>/discard", methods=["POST"])
def discard(token):
    if ConfirmForm().validate_on_submit():
        db.session.delete(_load_upload(token))  # only the uploader may discard it
        db.session.commit()
        flash("已放弃本次导入，未写入任何数据", "info")
    return redirect(url_for("imports.index"))


# ----- batches ------------------------------------------------------------------------------
@bp.route("/batches/<int:batch_id>")
def batch(batch_id):
    batch = get_scoped_or_404(ImportBatch, batch_id, current_user)
    return render_template(
        "imports/batch.html", batch=batch, records=import_service.batch_records(batch),
        kind_labels=KIND_LABELS, entity_labels=ENTITY_LABELS, column_labels=import_service.COLUMN_LABELS,
        hidden_columns=import_service.HIDDEN_COLUMNS,
    )


@bp.route("/batches/<int:batch_id>/revert", methods=["POST"])
@allowed("import.revert")
def revert(batch_id):
    batch = get_scoped_or_404(ImportBatch, batch_id, current_user)
    if ConfirmForm().validate_on_submit():
        try:
            import_service.revert_batch(current_user, batch)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(f"导入批次 #{batch.id} 已撤销：新建的记录已移入回收站，更新的字段已恢复", "success")
    return redirect(url_for("imports.batch", batch_id=batch_id))


def _display_name(raw: str | None) -> str:
    """The upload's name, at most 255 characters, keeping its extension (which decides the parser)."""
    name = (raw or "upload").strip()
    stem, dot, extension = name.rpartition(".")
    if len(name) <= 255 or not dot or len(extension) > 10:
        return name[:255]
    return f"{stem[: 254 - len(extension)]}.{extension}"
