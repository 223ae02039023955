from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.accounts.service import safe_next_url
from crm.extensions import db
from crm.inputs import parse_id
from crm.forms import form_data
from crm.idempotency import new_token
from crm.library.models import Enterprise
from crm.pipeline.models import Project
from crm.visits.models import Visit
from crm.visits.models import VISIT_KINDS
from crm.permissions import allowed, can, get_scoped_or_404, in_full_condition, scope
from crm.forms import DeleteForm
from crm.dashboard import my_work as my_work_service
from crm import records
from crm.visits import service as visit_service
from crm.views import int_filter, list_filters, page_of, refused, saving, zone_choices, create_once, submitted_before
from crm.visits.forms import VisitForm

bp = Blueprint("visits", __name__, url_prefix="/visits", template_folder="templates")


@bp.route("/")
def index():
    filters = int_filter(list_filters("q", "kind", "enterprise_id", "project_id", "officer_id"),
                         "enterprise_id", "project_id", "officer_id")
    page = page_of(visit_service.visit_list_query(current_user, filters))
    return render_template("visits/index.html", page=page, filters=filters, kinds=VISIT_KINDS)


def _prepare(form, enterprise, visit=None):
    projects = db.session.scalars(
        scope(select(Project), Project, current_user)
        .where(Project.enterprise_id == enterprise.id, in_full_condition(current_user))
        .order_by(Project.id.desc())
    ).all()
    form.project_id.choices = [(0, "（不关联项目）")] + [(p.id, f"{p.name}（{p.zone.name}·{p.stage}）") for p in projects]
    form.zone_id.choices = zone_choices(current_user)
    if not can(current_user, "city.all_zones"):
        del form.zone_id
    return {p.id: p for p in projects}


@bp.route("/my-work")
@allowed("zone.write")
def my_work():
    return render_template("visits/my_work.html", work=my_work_service.my_work(current_user), done_form=DeleteForm())


@bp.route("/new", methods=["GET", "POST"])
@allowed("zone.write")
def new():
    enterprise = db.session.get(Enterprise, request.args.get("enterprise_id", type=parse_id) or 0)
    if enterprise is None or enterprise.deleted_at:
        flash("请先在企业库中选择企业，再记录走访。", "warning")
        return redirect(url_for("enterprises.index"))
    form = VisitForm()
    projects = _prepare(form, enterprise)
    if request.method == "GET":
        form.submission_token.data = new_token()
        form.project_id.data = request.args.get("project_id", 0, type=parse_id)
    if form.validate_on_submit():
        if done := submitted_before(form):
            return redirect(url_for("visits.detail", visit_id=done))
        project = projects.get(form.project_id.data)
        data = form_data(form, *VisitForm.FIELDS, "zone_id")
        visit, twin = create_once(form, lambda: visit_service.create_visit(current_user, enterprise, data, project=project))
        if visit:
            flash("走访记录已保存", "success")
        if visit or twin:
            return redirect(url_for("visits.detail", visit_id=twin or visit.id))
    return render_template("visits/form.html", form=form, enterprise=enterprise, visit=None)


@bp.route("/<int:visit_id>")
def detail(visit_id):
    visit = get_scoped_or_404(Visit, visit_id, current_user)
    return render_template("visits/detail.html", visit=visit, delete_form=DeleteForm())


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
@allowed("visit.change")
def edit(visit_id):
    visit = get_scoped_or_404(Visit, visit_id, current_user)
    if refused("visit.change", visit):
        return redirect(url_for("visits.detail", visit_id=visit.id))
    form = VisitForm(obj=visit)
    _prepare(form, visit.enterprise)
    del form.project_id  # a visit stays with the project it was logged against
    if "zone_id" in form:
        del form.zone_id
    if request.method == "GET":
        form.version.data = visit.version
    if form.validate_on_submit():
        with saving(form) as saved:
            visit_service.update_visit(current_user, visit, form_data(form, *VisitForm.FIELDS),
                                       version=form.version.data)
        if saved:
            flash("走访记录已保存", "success")
            return redirect(url_for("visits.detail", visit_id=visit.id))
    return render_template("visits/form.html", form=form, enterprise=visit.enterprise, visit=visit)


@bp.route("/<int:visit_id>/done", methods=["POST"])
@allowed("visit.change")
def done(visit_id):
    visit = get_scoped_or_404(Visit, visit_id, current_user)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            visit_service.complete_next_step(current_user, visit)
        if saved:
            flash("下一步工作已标记完成", "success")
    return redirect(safe_next_url(request.form.get("next")) or url_for("visits.detail", visit_id=visit.id))


@bp.route("/<int:visit_id>/delete", methods=["POST"])
@allowed("visit.change")
def delete(visit_id):
    visit = get_scoped_or_404(Visit, visit_id, current_user)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            records.soft_delete(current_user, visit)
        if not saved:
            return redirect(url_for("visits.detail", visit_id=visit.id))
        flash("走访记录已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("visits.index"))
