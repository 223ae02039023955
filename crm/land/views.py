"""标准地 pages: the zone's parcels, a parcel, and a signed project's parcels, signing check and 达产验收."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import records
from crm.extensions import db
from crm.forms import DeleteForm, form_data
from crm.inputs import parse_id
from crm.land import indicators
from crm.land import service as land
from crm.land.forms import AcceptanceForm, ParcelForm, TakeParcelForm
from crm.land.models import LandAcceptance, Parcel, ProjectParcel
from crm.permissions import allowed, can, get_scoped_or_404, visible_zone_ids
from crm.pipeline.models import Project
from crm.views import flash_form_errors, list_filters, int_filter, page_of, refused, saving, zone_choices

bp = Blueprint("land", __name__, url_prefix="/land", template_folder="templates")


@bp.route("/")
def index():
    filters = int_filter(list_filters("zone_id", "q"), "zone_id")
    zone_id = filters.get("zone_id")
    zones = visible_zone_ids(current_user)
    if zone_id and zones is not None and zone_id not in zones:
        abort(404)
    page = page_of(land.parcel_list_query(current_user, zone_id, (filters.get("q") or "").strip()[:50]))
    holders = land.taken_by([p.id for p in page.items])
    return render_template("land/index.html", page=page, holders=holders, filters=filters,
                           zones=zone_choices(current_user, writable=False), indicators=indicators.INDICATORS)


def _prepare(form):
    form.zone_id.choices = zone_choices(current_user)
    if not can(current_user, "city.all_zones"):
        del form.zone_id


@bp.route("/new", methods=["GET", "POST"])
@allowed("parcel.change")
def new():
    form = ParcelForm()
    _prepare(form)
    if form.validate_on_submit():
        zone_id = form.zone_id.data if "zone_id" in form else (current_user.zone_ids or [0])[0]
        with saving(form) as saved:
            parcel = land.create_parcel(current_user, zone_id, form_data(form, *ParcelForm.FIELDS))
        if saved:
            flash("地块已登记", "success")
            return redirect(url_for("land.detail", parcel_id=parcel.id))
    return render_template("land/form.html", form=form, parcel=None)


@bp.route("/<int:parcel_id>")
def detail(parcel_id):
    parcel = get_scoped_or_404(Parcel, parcel_id, current_user)
    holder = land.taken_by([parcel.id]).get(parcel.id)
    return render_template("land/detail.html", parcel=parcel, holder=holder, indicators=indicators.INDICATORS,
                           delete_form=DeleteForm())


@bp.route("/<int:parcel_id>/edit", methods=["GET", "POST"])
@allowed("parcel.change")
def edit(parcel_id):
    parcel = get_scoped_or_404(Parcel, parcel_id, current_user)
    if refused("parcel.change", parcel):
        return redirect(url_for("land.detail", parcel_id=parcel.id))
    form = ParcelForm(obj=parcel)
    _prepare(form)
    if "zone_id" in form:
        del form.zone_id  # a parcel stays in its zone
    if request.method == "GET":
        form.version.data = parcel.version
    if form.validate_on_submit():
        with saving(form) as saved:
            land.update_parcel(current_user, parcel, form_data(form, *ParcelForm.FIELDS), version=form.version.data)
        if saved:
            flash("地块已保存", "success")
            return redirect(url_for("land.detail", parcel_id=parcel.id))
    return render_template("land/form.html", form=form, parcel=parcel)


@bp.route("/<int:parcel_id>/delete", methods=["POST"])
@allowed("parcel.change")
def delete(parcel_id):
    parcel = get_scoped_or_404(Parcel, parcel_id, current_user)
    if DeleteForm().validate_on_submit():
        if land.taken_by([parcel.id]):
            flash("该地块已由项目使用，请先在项目的供地页面解除关联", "danger")
            return redirect(url_for("land.detail", parcel_id=parcel.id))
        with saving() as saved:
            records.soft_delete(current_user, parcel)
        if not saved:
            return redirect(url_for("land.detail", parcel_id=parcel.id))
        flash("地块已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("land.index"))


# ----- a project's parcels -------------------------------------------------------------------------
def _project(project_id) -> Project:
    project = get_scoped_or_404(Project, project_id, current_user)
    if project.signed_date is None:
        abort(404)  # 标准地 begins at signing
    return project


@bp.route("/projects/<int:project_id>")
def project(project_id):
    project = _project(project_id)
    return _render_project(project, AcceptanceForm(accepted_on=date.today()))


def _render_project(project, acceptance_form, status=200):
    links = land.links_of(project)
    parcels = [link.parcel for link in links]
    take_form = TakeParcelForm()
    take_form.parcel_id.choices = [("", "选择地块")] + [(p.id, f"{p.code}（{p.area} 亩，{p.use}）")
                                                      for p in land.free_parcels(project)]
    area, standards = indicators.combined_standard(land.terms(parcels))
    preview = (land.preview_acceptance(project, parcels, date.today()) if parcels else None)
    return render_template("land/project.html", project=project, links=links, area=area, standards=standards,
                           warnings=land.signing_warnings(project, parcels), take_form=take_form,
                           acceptance_form=acceptance_form, history=land.history(project), preview=preview,
                           indicators=indicators.INDICATORS, delete_form=DeleteForm()), status


@bp.route("/projects/<int:project_id>/parcels", methods=["POST"])
@allowed("project.change")
def take(project_id):
    project = _project(project_id)
    form = TakeParcelForm()
    form.parcel_id.choices = []
    if form.validate_on_submit():
        parcel = db.session.get(Parcel, form.parcel_id.data) if form.parcel_id.data else None
        if parcel is None or parcel.zone_id != project.zone_id or parcel.deleted_at is not None:
            flash("请选择本园区的地块", "danger")
            return redirect(url_for("land.project", project_id=project.id))
        with saving() as saved:
            land.take_parcel(current_user, project, parcel)
        if saved:
            flash(f"已关联地块 {parcel.code}", "success")
            for check in land.signing_warnings(project, land.project_parcels([project.id])[project.id]):
                flash(f"标准地预警：{check.message}", "warning")
    else:
        flash_form_errors(form)
    return redirect(url_for("land.project", project_id=project.id))


@bp.route("/projects/<int:project_id>/parcels/<int:link_id>/delete", methods=["POST"])
@allowed("project.change")
def release(project_id, link_id):
    project = _project(project_id)
    link = get_scoped_or_404(ProjectParcel, link_id, current_user)
    if link.project_id != project.id:
        abort(404)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            records.soft_delete(current_user, link)
        if saved:
            flash("已解除地块关联", "info")
    return redirect(url_for("land.project", project_id=project.id))


@bp.route("/projects/<int:project_id>/acceptance", methods=["POST"])
@allowed("land.accept")
def accept(project_id):
    project = _project(project_id)
    form = AcceptanceForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            record = land.record_acceptance(current_user, project, form.accepted_on.data,
                                            actual_tax=form.actual_tax.data,
                                            actual_plot_ratio=form.actual_plot_ratio.data,
                                            actual_energy=form.actual_energy.data, note=form.note.data)
        if saved:
            flash(f"达产验收已记录：{record.result}", "success" if record.result == indicators.PASSED else "warning")
            return redirect(url_for("land.project", project_id=project.id))
    return _render_project(project, form, 200)


@bp.route("/projects/<int:project_id>/acceptance/<int:record_id>/delete", methods=["POST"])
@allowed("land.accept")
def delete_acceptance(project_id, record_id):
    project = _project(project_id)
    record = get_scoped_or_404(LandAcceptance, record_id, current_user)
    if record.project_id != project.id:
        abort(404)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            records.soft_delete(current_user, record)
        if saved:
            flash("验收记录已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("land.project", project_id=project.id))
