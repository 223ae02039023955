"""履约监管 pages: a zone's list of signed projects with gaps and idle-land flags, its workbook, and a
project's page to record actuals, developed land and actions."""
from datetime import date
from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from crm import records
from crm.accounts.zones import Zone
from crm.compliance import service as compliance
from crm.compliance.export import compliance_workbook
from crm.compliance.forms import ActionForm, ActualForm, DevelopedForm
from crm.compliance.models import ComplianceAction, DevelopedArea, ProjectActual
from crm.extensions import db
from crm.forms import DeleteForm
from crm.inputs import download_name
from crm.permissions import allowed, get_scoped_or_404, visible_zone_ids
from crm.pipeline.models import Project
from crm.views import flash_form_errors, int_filter, list_filters, saving, zone_choices

bp = Blueprint("compliance", __name__, url_prefix="/compliance", template_folder="templates")

KINDS = {"actual": (ProjectActual, "年度实绩"), "developed": (DevelopedArea, "开发面积"),
         "action": (ComplianceAction, "处置记录")}


def _zone_filter() -> tuple[dict, int | None]:
    filters = int_filter(list_filters("zone_id", "flagged"), "zone_id")
    zone_id = filters.get("zone_id")
    zones = visible_zone_ids(current_user)
    if zone_id and ((zones is not None and zone_id not in zones) or db.session.get(Zone, zone_id) is None):
        abort(404)
    if zone_id is None and zones:
        zone_id = zones[0]  # a zone's list: the reader's first zone unless another is chosen
    return filters, zone_id


@bp.route("/")
def index():
    filters, zone_id = _zone_filter()
    rows = compliance.compliance_rows(current_user, zone_id, flagged_only=bool(filters.get("flagged")))
    return render_template("compliance/index.html", rows=rows, filters=filters, zone_id=zone_id,
                           zones=zone_choices(current_user, writable=False), today=date.today())


@bp.route("/export.xlsx")
def export():
    filters, zone_id = _zone_filter()
    today = date.today()
    rows = compliance.compliance_rows(current_user, zone_id, today, flagged_only=bool(filters.get("flagged")))
    zone = db.session.get(Zone, zone_id) if zone_id else None
    title = f"{zone.name if zone else '全市'}履约监管台账"
    data = compliance_workbook(current_user, rows, title, today)
    return send_file(BytesIO(data), as_attachment=True, download_name=download_name(f"{title}_{today.isoformat()}.xlsx"),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0)


def _project(project_id) -> Project:
    project = get_scoped_or_404(Project, project_id, current_user)
    if project.signed_date is None or project.stage == "终止":
        abort(404)
    return project


@bp.route("/projects/<int:project_id>")
def project(project_id):
    project = _project(project_id)
    return _render(project)


def _render(project, actual_form=None, developed_form=None, action_form=None):
    today = date.today()
    return render_template(
        "compliance/project.html", project=project, row=compliance.project_row(current_user, project, today),
        actuals=compliance.history(ProjectActual, project, (ProjectActual.year.desc(),)),
        developed=compliance.history(DevelopedArea, project, (DevelopedArea.changed_on.desc(), DevelopedArea.id.desc())),
        actions=compliance.history(ComplianceAction, project, (ComplianceAction.action_date.desc(), ComplianceAction.id.desc())),
        actual_form=actual_form or ActualForm(year=today.year), developed_form=developed_form or DevelopedForm(changed_on=today),
        action_form=action_form or ActionForm(action_date=today), delete_form=DeleteForm(), today=today)


@bp.route("/projects/<int:project_id>/actuals", methods=["POST"])
@allowed("project.change")
def add_actual(project_id):
    project = _project(project_id)
    form = ActualForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            compliance.record_actual(current_user, project, form.year.data, form.output_value.data, form.tax.data,
                                     form.jobs.data)
        if saved:
            flash("年度实绩已登记", "success")
            return redirect(url_for("compliance.project", project_id=project.id))
    return _render(project, actual_form=form)


@bp.route("/projects/<int:project_id>/developed", methods=["POST"])
@allowed("project.change")
def add_developed(project_id):
    project = _project(project_id)
    form = DevelopedForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            compliance.record_developed(current_user, project, form.changed_on.data, form.area.data, form.note.data)
        if saved:
            flash("已开发面积已登记", "success")
            return redirect(url_for("compliance.project", project_id=project.id))
    return _render(project, developed_form=form)


@bp.route("/projects/<int:project_id>/actions", methods=["POST"])
@allowed("compliance.act")
def add_action(project_id):
    project = _project(project_id)
    form = ActionForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            compliance.record_action(current_user, project, form.kind.data, form.action_date.data, form.deadline.data,
                                     form.document.data, form.note.data)
        if saved:
            flash(f"处置已登记：{form.kind.data}", "success")
            return redirect(url_for("compliance.project", project_id=project.id))
    return _render(project, action_form=form)


@bp.route("/projects/<int:project_id>/<kind>/<int:record_id>/delete", methods=["POST"])
@allowed("project.change")
def delete(project_id, kind, record_id):
    if kind not in KINDS:
        abort(404)
    project = _project(project_id)
    model, label = KINDS[kind]
    record = get_scoped_or_404(model, record_id, current_user)
    if record.project_id != project.id:
        abort(404)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            records.soft_delete(current_user, record)
        if saved:
            flash(f"{label}已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("compliance.project", project_id=project.id))
