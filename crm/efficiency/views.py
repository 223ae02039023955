"""亩均评价 pages: the zone's ranking, the method, the year's run, a firm's figures and history, the import."""
from __future__ import annotations

import io
import json
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from crm.accounts.zones import Zone
from crm.efficiency import method as rules
from crm.efficiency import service
from crm.efficiency.forms import ConfirmForm, EvaluateForm, FiguresForm, ImportForm, MethodForm
from crm.efficiency.models import FIGURE_COLUMNS, EfficiencyFigures
from crm.errors import ServiceError
from crm.extensions import db
from crm.imports import uploads
from crm.imports.reading import ImportRefused
from crm.imports.service import limits
from crm.inputs import download_name, parse_id, parse_year
from crm.library.models import Enterprise
from crm.permissions import allowed, can, can_see_zone, get_scoped_or_404
from crm.views import saving, zone_choices

bp = Blueprint("efficiency", __name__, url_prefix="/efficiency", template_folder="templates")


def _year() -> int:
    return request.values.get("year", date.today().year - 1, type=parse_year)


def _zone_or_404(zone_id: int) -> Zone:
    if not can(current_user, "reports.read", zone_id):
        abort(404)
    return db.session.get(Zone, zone_id) or abort(404)


def _local_firm_or_404(enterprise_id: int) -> Enterprise:
    firm = db.session.get(Enterprise, enterprise_id)
    if firm is None or firm.deleted_at is not None or firm.zone_id is None or not can_see_zone(current_user, firm.zone_id):
        abort(404)
    return firm


@bp.route("/")
@allowed("reports.read")
def index():
    zones = zone_choices(current_user, writable=False)
    zone_id = request.args.get("zone_id", type=parse_id) or (zones[0][0] if zones else None)
    if zone_id is None:
        abort(404)
    zone = _zone_or_404(zone_id)
    year = _year()
    ranking = service.ranking(current_user, zone.id, year)
    return render_template("efficiency/index.html", zone=zone, zones=zones, year=year, ranking=ranking,
                           chains=service.by_chain(current_user, zone.id, year), years=service.years_evaluated(zone.id),
                           evaluate_form=EvaluateForm(year=year), export_form=ConfirmForm(),
                           labels=rules.FIGURE_LABELS)


@bp.route("/zones/<int:zone_id>/evaluate", methods=["POST"])
@allowed("efficiency.evaluate")
def evaluate(zone_id):
    zone = _zone_or_404(zone_id)
    form = EvaluateForm()
    if not form.validate_on_submit():
        abort(400)
    with saving() as saved:
        made = service.run_evaluation(current_user, zone.id, form.year.data)
    if saved:
        flash(f"{form.year.data} 年度评价完成：{len(made)} 家企业", "success")
    return redirect(url_for("efficiency.index", zone_id=zone.id, year=form.year.data))


@bp.route("/zones/<int:zone_id>/ranking.xlsx", methods=["POST"])
@allowed("reports.read")
def ranking_xlsx(zone_id):
    zone = _zone_or_404(zone_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    year = _year()
    data = service.workbook(zone.name, service.ranking(current_user, zone.id, year))
    return send_file(io.BytesIO(data), as_attachment=True,
                     download_name=download_name(f"{zone.name}{year}年度亩均效益评价.xlsx"),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/zones/<int:zone_id>/method", methods=["GET", "POST"])
@allowed("reports.read")
def zone_method(zone_id):
    zone = _zone_or_404(zone_id)
    form = MethodForm()
    if request.method == "GET":
        form.method.data = json.dumps(service.method_of(zone.id), ensure_ascii=False, indent=2)
    elif not can(current_user, "efficiency.evaluate", zone.id):
        abort(403)
    if form.validate_on_submit():
        try:
            method = json.loads(form.method.data) if form.method.data.strip() != "default" else None
        except ValueError:
            form.method.errors = ["不是有效的 JSON"]
        else:
            with saving(form) as saved:
                service.set_method(current_user, zone.id, method)
            if saved:
                flash("评价方法已保存", "success")
                return redirect(url_for("efficiency.zone_method", zone_id=zone.id))
    return render_template("efficiency/method.html", zone=zone, form=form, indicators=rules.INDICATORS,
                           default=json.dumps(rules.default_method(), ensure_ascii=False, indent=2))


@bp.route("/enterprises/<int:enterprise_id>")
def firm(enterprise_id):
    firm = _local_firm_or_404(enterprise_id)
    rows = service.history(current_user, firm)
    return render_template("efficiency/firm.html", firm=firm, rows=rows, figures=FIGURE_COLUMNS,
                           labels=rules.FIGURE_LABELS, units=rules.FIGURE_UNITS, indicators=rules.INDICATORS,
                           delete_form=ConfirmForm())


@bp.route("/enterprises/<int:enterprise_id>/figures", methods=["GET", "POST"])
@allowed("efficiency.enter")
def figures(enterprise_id):
    firm = _local_firm_or_404(enterprise_id)
    if not can(current_user, "efficiency.enter", firm):
        abort(404)
    form = FiguresForm()
    year = _year()
    if request.method == "GET":
        form.year.data = year
        existing = service.figures_of(firm.id, year)
        for key in FIGURE_COLUMNS:
            form[key].data = getattr(existing, key) if existing else None
    if form.validate_on_submit():
        with saving(form) as saved:
            service.save_figures(current_user, firm, form.year.data, {k: form[k].data for k in FIGURE_COLUMNS})
        if saved:
            flash(f"{form.year.data} 年亩均效益数据已保存", "success")
            return redirect(url_for("efficiency.firm", enterprise_id=firm.id))
    return render_template("efficiency/figures.html", firm=firm, form=form, figures=FIGURE_COLUMNS)


@bp.route("/figures/<int:figures_id>/delete", methods=["POST"])
@allowed("efficiency.enter")
def delete_figures(figures_id):
    row = get_scoped_or_404(EfficiencyFigures, figures_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with saving() as saved:
        service.delete_figures(current_user, row)
    if saved:
        flash(f"{row.year} 年亩均效益数据已删除（可由管理员从回收站恢复）", "success")
    return redirect(url_for("efficiency.firm", enterprise_id=row.enterprise_id))


# --- the import: upload, dry run (the plan and its problems), all-or-nothing commit ------------------
@bp.route("/zones/<int:zone_id>/import", methods=["GET", "POST"])
@allowed("import.run")
def upload(zone_id):
    zone = db.session.get(Zone, zone_id)
    if zone is None or not can(current_user, "import.run", zone_id):
        abort(404)
    form = ImportForm()
    if request.method == "GET":
        form.year.data = _year()
    if form.validate_on_submit():
        file = form.file.data
        settings = limits(current_app.config)
        data = file.read(settings["max_bytes"] + 1) if file else b""
        if not data:
            form.file.errors = ["请选择文件"]
        elif len(data) > settings["max_bytes"]:
            form.file.errors = ["文件太大"]
        else:
            stored = uploads.save_upload(current_user, zone, "efficiency", (file.filename or "upload.xlsx")[:200],
                                         data, local=True)
            db.session.commit()
            return redirect(url_for("efficiency.preview", token=stored.token, year=form.year.data))
    return render_template("efficiency/upload.html", zone=zone, form=form, headers=service.columns.HEADERS,
                           labels=rules.FIGURE_LABELS, units=rules.FIGURE_UNITS)


def _upload_or_404(token: str):
    stored = uploads.find_upload(token, current_user.id)
    if stored is None or stored.kind != "efficiency":
        abort(404)
    return stored


@bp.route("/import/<token>", methods=["GET"])
@allowed("import.run")
def preview(token):
    stored = _upload_or_404(token)
    year = _year()
    plan, refused = None, None
    try:
        table = service.read_upload(stored.data, stored.filename, limits(current_app.config))
        plan = service.plan_import(current_user, stored.zone_id, year, table)
    except ImportRefused as error:
        refused = error.message
    except ServiceError as error:
        refused = error.message
    return render_template("efficiency/preview.html", stored=stored, plan=plan, refused=refused, year=year,
                           form=ConfirmForm(), figures=FIGURE_COLUMNS, labels=rules.FIGURE_LABELS)


@bp.route("/import/<token>/commit", methods=["POST"])
@allowed("import.run")
def commit(token):
    stored = _upload_or_404(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    year = _year()
    try:
        table = service.read_upload(stored.data, stored.filename, limits(current_app.config))
        with saving() as saved:
            count = service.commit_import(current_user, stored.zone_id, year, table)
            db.session.delete(stored)  # written: the upload is done with (a second commit finds nothing)
    except ImportRefused as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("efficiency.preview", token=token, year=year))
    if saved:
        flash(f"已导入 {count} 家企业的 {year} 年亩均效益数据", "success")
        return redirect(url_for("efficiency.index", zone_id=stored.zone_id, year=year))
    return redirect(url_for("efficiency.preview", token=token, year=year))
