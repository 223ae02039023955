"""Import pages: upload → preview (column mapping, dry-run problems, error report) → commit; batches.

The uploaded file waits server-side between the steps, in ``IMPORT_UPLOAD_DIR`` (default
``instance/imports``) under a random token, with a small JSON beside it naming the uploader, zone and
kind: only the uploader can open it, and it expires after a day. Nothing of it goes into the cookie.
"""
from __future__ import annotations

import io
import json
import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from crm.extensions import db
from crm.inputs import download_name
from crm.imports.forms import ConfirmForm, UploadForm, mapping_form, mapping_from
from crm.imports.models import ImportBatch
from crm.accounts.zones import Zone
from crm.permissions import allowed, can, get_scoped_or_404, writable_zone_ids
from crm.imports import dictionary, service as import_service
from crm.errors import ServiceError
from crm.imports.service import column_name, ENTITY_LABELS, FIELD_LABELS, ImportHasProblems, ImportRefused, KIND_LABELS, limits, read_table, REQUIRED
from crm.views import page_of, zone_choices

bp = Blueprint("imports", __name__, url_prefix="/imports", template_folder="templates")

UPLOAD_TTL = timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
PREVIEW_LIMIT = 300  # problems and planned rows shown on the page; the report has every problem


@bp.before_request
@allowed("import.run")
def writers_only():
    """Importing is for officers, chiefs and the city admin; viewers get 403."""


# ----- uploads kept between the steps --------------------------------------------------------
def _upload_dir() -> Path:
    path = Path(current_app.config.get("IMPORT_UPLOAD_DIR") or Path(current_app.instance_path) / "imports")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _save_upload(data: bytes, meta: dict) -> str:
    _sweep()
    token = secrets.token_urlsafe(24)
    directory = _upload_dir()
    _write_private(directory / token, data)
    _write_private(directory / f"{token}.json", json.dumps(meta, ensure_ascii=False).encode())
    return token


def _expired(meta: dict) -> bool:
    return datetime.fromisoformat(meta["created_at"]) + UPLOAD_TTL < datetime.now(UTC)


def _load_upload(token: str) -> tuple[dict, bytes]:
    """The upload's metadata and bytes; 404 unless it exists, is unexpired and is the caller's."""
    if not _TOKEN.match(token):
        abort(404)
    directory = _upload_dir()
    try:
        meta = json.loads((directory / f"{token}.json").read_text())
    except (OSError, ValueError):
        abort(404)
    if meta.get("uploader_id") != current_user.id:
        abort(404)
    if _expired(meta):
        _delete_upload(token)
        abort(404)
    try:
        return meta, (directory / token).read_bytes()
    except OSError:
        abort(404)


def _save_meta(token: str, meta: dict) -> None:
    _write_private(_upload_dir() / f"{token}.json", json.dumps(meta, ensure_ascii=False).encode())


def _delete_upload(token: str) -> None:
    for name in (token, f"{token}.json"):
        (_upload_dir() / name).unlink(missing_ok=True)


def _sweep() -> None:
    """Remove uploads older than a day (run at each new upload)."""
    cutoff = datetime.now().timestamp() - UPLOAD_TTL.total_seconds()
    for path in _upload_dir().iterdir():
        if _TOKEN.match(path.name.removesuffix(".json")) and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


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
            read_table(data, filename, kind=form.kind.data, **settings)
        except ImportRefused as refused:
            form.file.errors = list(form.file.errors) + [refused.message]
        else:
            token = _save_upload(data, {
                "uploader_id": current_user.id, "zone_id": zone.id, "kind": form.kind.data, "filename": filename,
                "local": bool(form.local.data), "mapping": None, "created_at": datetime.now(UTC).isoformat(),
            })
            return redirect(url_for("imports.preview", token=token))
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


def _prepare(token: str):
    """The upload, its table and the dry run on it; a refused file sends the person back to upload."""
    meta, data = _load_upload(token)
    zone = db.session.get(Zone, meta["zone_id"])
    mapping = {int(k): v for k, v in meta["mapping"].items()} if meta.get("mapping") is not None else None
    try:
        table = read_table(data, meta["filename"], kind=meta["kind"], **limits(current_app.config))
        plan = import_service.dry_run(current_user, meta["kind"], table, mapping, zone, local=meta["local"],
                                      filename=meta["filename"])
    except ImportRefused as refused:
        _delete_upload(token)
        flash(refused.message, "danger")
        return None
    return meta, zone, table, plan


@bp.route("/<token>")
def preview(token):
    prepared = _prepare(token)
    if prepared is None:
        return redirect(url_for("imports.index"))
    meta, zone, table, plan = prepared
    form = mapping_form(table, meta["kind"], plan.mapping)
    samples = {index: table.samples(index, 2) for index in range(len(table.headers))}
    return render_template(
        "imports/preview.html", token=token, meta=meta, zone=zone, table=table, plan=plan, form=form,
        samples=samples, confirm_form=ConfirmForm(), kind_label=KIND_LABELS[meta["kind"]],
        field_labels=FIELD_LABELS[meta["kind"]], entity_labels=ENTITY_LABELS, limit=PREVIEW_LIMIT,
        column_name=column_name,
        required_labels=[FIELD_LABELS[meta["kind"]][f] for f in REQUIRED[meta["kind"]]],
    )


@bp.route("/<token>/mapping", methods=["POST"])
def save_mapping(token):
    prepared = _prepare(token)
    if prepared is None:
        return redirect(url_for("imports.index"))
    meta, _, table, plan = prepared
    form = mapping_form(table, meta["kind"], plan.mapping)
    if form.validate_on_submit():
        meta["mapping"] = {str(index): field for index, field in mapping_from(form).items()}
        _save_meta(token, meta)
        flash("已按新的列对应关系重新检查", "info")
    else:
        flash("列对应关系无效，请重新选择", "danger")
    return redirect(url_for("imports.preview", token=token))


@bp.route("/<token>/report.xlsx")
def report(token):
    prepared = _prepare(token)
    if prepared is None:
        return redirect(url_for("imports.index"))
    meta, _, _, plan = prepared
    data = import_service.problems_workbook(plan, meta["filename"])
    stem = meta["filename"].rsplit(".", 1)[0]
    return send_file(
        io.BytesIO(data), as_attachment=True, download_name=download_name(f"导入问题清单_{stem}.xlsx"),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0,
    )


@bp.route("/<token>/commit", methods=["POST"])
def commit(token):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    prepared = _prepare(token)
    if prepared is None:
        return redirect(url_for("imports.index"))
    meta, zone, table, plan = prepared
    try:
        batch = import_service.commit_import(current_user, meta["kind"], table, plan.mapping, zone,
                                             meta["filename"], local=meta["local"])
    except ImportHasProblems as error:
        db.session.rollback()
        flash(error.message + "，请按问题清单修改后重新上传", "danger")
        return redirect(url_for("imports.preview", token=token))
    except (ServiceError, ImportRefused) as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("imports.preview", token=token))
    db.session.commit()
    _delete_upload(token)
    flash(f"已导入“{meta['filename']}”共 {batch.row_count} 行：{plan.summary()}", "success")
    return redirect(url_for("imports.batch", batch_id=batch.id))


@bp.route("/<token>/discard", methods=["POST"])
def discard(token):
    if ConfirmForm().validate_on_submit():
        _load_upload(token)  # only the uploader may discard it
        _delete_upload(token)
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
