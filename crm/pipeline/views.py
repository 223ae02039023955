from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.extensions import db
from crm.forms import form_data
from crm.idempotency import new_token
from crm.catalog.models import Segment
from crm.ledger.models import CapitalIncrease, FundsInPlace
from crm.library.segments import all_segments, segment_groups
from crm.library.models import Enterprise
from crm.pipeline.history import project_history
from crm.pipeline import lifecycle
from crm.pipeline.models import Project, StageEvent
from crm.visits.models import Visit
from crm.pipeline.models import PIPELINE_STAGES, PRIORITIES, PROJECT_SOURCES, STAGES
from crm.permissions import allowed, can, get_scoped_or_404, scope, visible_zone_ids
from crm.pipeline.first_report import holds_elsewhere
from crm.forms import DeleteForm
from crm.pipeline.forms import CommitmentForm, FundsForm, IncreaseForm, ProjectForm, StageForm
from crm.inputs import month_bounds, parse_id
from crm.ledger import service as ledger
from crm.pipeline import service as project_service
from crm import records
from crm.views import (create_once, flash_form_errors, int_filter, list_filters, owner_choices, page_by_ids, refused,
                       saving, submitted_before, zone_choices)

bp = Blueprint("projects", __name__, url_prefix="/projects", template_folder="templates")


def _prepare(form, user):
    form.segment_ids.choices = dict(segment_groups(all_segments()))
    form.zone_id.choices = zone_choices(user)
    form.owner_id.choices = owner_choices(user)
    if not can(user, "city.all_zones"):
        del form.zone_id
    if not can(user, "project.assign"):
        del form.owner_id


@bp.route("/")
def index():
    filters = int_filter(list_filters("q", "stage", "zone_id", "owner_id", "source", "priority", "segment_id",
                                      "chain", "signed_year", "signed_month", "reached", "overdue"),
                         "zone_id", "owner_id", "segment_id")
    if request.args.get("mine"):
        filters["owner_id"] = current_user.id
    sort = request.args.get("sort", "-updated")
    page = page_by_ids(project_service.project_list_query(current_user, filters, sort))
    return render_template(
        "projects/index.html", page=page, filters=filters, sort=sort, stages=STAGES,
        zones=zone_choices(current_user, writable=False), sources=PROJECT_SOURCES, priorities=PRIORITIES,
    )


@bp.route("/new", methods=["GET", "POST"])
@allowed("zone.write")
def new():
    enterprise = db.session.get(Enterprise, request.args.get("enterprise_id", type=parse_id) or 0)
    if enterprise is None or enterprise.deleted_at:
        flash("请先在企业库中选择企业，再从企业页面新建项目。", "warning")
        return redirect(url_for("enterprises.index"))
    form = ProjectForm()
    _prepare(form, current_user)
    if request.method == "GET":
        form.submission_token.data = new_token()
        form.name.data = f"{enterprise.name}投资项目"
        if "owner_id" in form:
            form.owner_id.data = current_user.id
        primary = project_service.primary_segment(enterprise)
        form.segment_ids.data = [primary.id] if primary else []
    if form.validate_on_submit():
        if done := submitted_before(form):
            return redirect(url_for("projects.detail", project_id=done))
        data = form_data(form, *ProjectForm.FIELDS, "zone_id", "owner_id")
        project, twin = create_once(form, lambda: project_service.create_project(current_user, enterprise, data))
        if project:
            flash("项目已创建" + ("；该企业已由其他园区首报，已提交市投促中心裁定" if project_service.is_flagged(project) else ""), "success")
        if project or twin:
            return redirect(url_for("projects.detail", project_id=twin or project.id))
    holds = holds_elsewhere(enterprise, visible_zone_ids(current_user))
    return render_template("projects/form.html", form=form, enterprise=enterprise, project=None,
                           held_by=holds[0] if holds else None)


@bp.route("/<int:project_id>")
def detail(project_id):
    project = get_scoped_or_404(Project, project_id, current_user,
                                options=(selectinload(Project.segments).joinedload(Segment.chain),))
    return _render_detail(project, StageForm(version=project.version, stage=lifecycle.next_stage(project.stage)))


def _render_detail(project, stage_form, status: int = 200):
    events = db.session.scalars(
        select(StageEvent).where(StageEvent.project_id == project.id).order_by(StageEvent.id)
    ).all()
    visits = db.session.scalars(
        scope(select(Visit), Visit, current_user).where(Visit.project_id == project.id).order_by(Visit.visit_date.desc())
    ).all()
    funds = ledger.project_funds(project) if project.signed_date else None
    return render_template(
        "projects/detail.html", project=project, events=events, history=project_history(current_user, project), visits=visits, stage_form=stage_form,
        pipeline=PIPELINE_STAGES, delete_form=DeleteForm(),
        holds=holds_elsewhere(project.enterprise, [project.zone_id]),
        funds=funds,
        increases=db.session.scalars(scope(select(CapitalIncrease), CapitalIncrease, current_user)
                                     .where(CapitalIncrease.project_id == project.id)
                                     .order_by(CapitalIncrease.signed_date)).all(),
        per_mu=ledger.investment_per_mu(project),
        warnings=ledger.warnings_for(project, project.zone, funds.cumulative, funds.committed) if funds else [],
        funds_form=FundsForm(), increase_form=IncreaseForm(),
    ), status


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@allowed("project.change")
def edit(project_id):
    project = get_scoped_or_404(Project, project_id, current_user)
    if refused("project.change", project):
        return redirect(url_for("projects.detail", project_id=project.id))
    form = ProjectForm(obj=project)
    _prepare(form, current_user)
    if request.method == "GET":
        form.version.data = project.version
        form.segment_ids.data = [s.id for s in project.segments]
    if form.validate_on_submit():
        data = form_data(form, *ProjectForm.FIELDS, "owner_id")
        with saving(form) as saved:
            project_service.update_project(current_user, project, data, version=form.version.data)
        if saved:
            flash("项目已保存", "success")
            return redirect(url_for("projects.detail", project_id=project.id))
    return render_template("projects/form.html", form=form, enterprise=project.enterprise, project=project)


@bp.route("/<int:project_id>/stage", methods=["POST"])
@allowed("project.change")
def change_stage(project_id):
    """Move a project to another stage. From the board a refusal is flashed there; from the project page
    the page is shown again with what was typed and each error beside its field."""
    project = get_scoped_or_404(Project, project_id, current_user)
    form = StageForm()
    from_board = request.form.get("back") == url_for("projects.board")
    if form.validate_on_submit():
        with saving(None if from_board else form) as saved:
            event = project_service.change_stage(
                current_user, project, form.stage.data, note=form.note.data, on_date=form.on_date.data,
                contract_investment=form.contract_investment.data, version=form.version.data,
            )
        if saved:
            flash(lifecycle.StageChange(event.from_stage, event.to_stage,
                                        lifecycle.direction(event.from_stage, event.to_stage)).message(), "success")
            return redirect(url_for("projects.board") if from_board else url_for("projects.detail", project_id=project.id))
    elif from_board:
        flash_form_errors(form)
    if from_board:
        return redirect(url_for("projects.board"))
    db.session.refresh(project)
    form.version.data = project.version
    return _render_detail(project, form)


@bp.route("/<int:project_id>/delete", methods=["POST"])
@allowed("project.change")
def delete(project_id):
    project = get_scoped_or_404(Project, project_id, current_user)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            records.soft_delete(current_user, project)
        if not saved:
            return redirect(url_for("projects.detail", project_id=project.id))
        flash("项目已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("projects.index"))


@bp.route("/board")
def board():
    filters = int_filter(list_filters("zone_id", "owner_id"), "zone_id", "owner_id")
    if request.args.get("mine"):
        filters["owner_id"] = current_user.id
    columns = project_service.board(current_user, filters)
    return render_template("projects/board.html", columns=columns, filters=filters,
                           zones=zone_choices(current_user, writable=False), owners=owner_choices(current_user))


@bp.route("/<int:project_id>/contract", methods=["GET", "POST"])
@allowed("project.change")
def contract(project_id):
    project = get_scoped_or_404(Project, project_id, current_user)
    if refused("project.change", project):
        return redirect(url_for("projects.detail", project_id=project.id))
    form = CommitmentForm(obj=project)
    if request.method == "GET":
        form.version.data = project.version
    if form.validate_on_submit():
        with saving(form) as saved:
            ledger.update_commitments(current_user, project, form_data(form, *CommitmentForm.FIELDS),
                                      version=form.version.data)
        if saved:
            flash("协议承诺已保存", "success")
            return redirect(url_for("projects.detail", project_id=project.id))
    return render_template("projects/contract.html", form=form, project=project)


@bp.route("/<int:project_id>/funds", methods=["POST"])
@allowed("project.change")
def add_funds(project_id):
    project = get_scoped_or_404(Project, project_id, current_user)
    form = FundsForm()
    if form.validate_on_submit():
        with saving() as saved:
            ledger.add_funds(current_user, project, month_bounds(form.month.data)[0], form.amount.data,
                             form.note.data)
        if saved:
            flash("到资已登记", "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("projects.detail", project_id=project.id) + "#funds")


@bp.route("/<int:project_id>/funds/<int:entry_id>/delete", methods=["POST"])
@allowed("project.change")
def delete_funds(project_id, entry_id):
    project = get_scoped_or_404(Project, project_id, current_user)
    entry = get_scoped_or_404(FundsInPlace, entry_id, current_user)
    if entry.project_id != project.id:
        abort(404)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            records.soft_delete(current_user, entry)
        if saved:
            flash("到资记录已删除", "info")
    return redirect(url_for("projects.detail", project_id=project.id) + "#funds")


@bp.route("/<int:project_id>/increase", methods=["POST"])
@allowed("project.change")
def add_increase(project_id):
    project = get_scoped_or_404(Project, project_id, current_user)
    form = IncreaseForm()
    if form.validate_on_submit():
        with saving() as saved:
            ledger.add_capital_increase(current_user, project, form.signed_date.data, form.amount.data, form.note.data)
        if saved:
            flash("增资已登记", "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("projects.detail", project_id=project.id) + "#funds")
