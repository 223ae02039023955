from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.enterprises.forms import EnterpriseForm
from crm.extensions import db
from crm.forms import form_data, show_service_error
from crm.models import AuditEntry, Enterprise, EnterpriseSegment, Project, Visit
from crm.models.enterprise import ENTERPRISE_TAGS
from crm.permissions import role_required, scope, writer_required
from crm.projects.forms import DeleteForm
from crm.services import enterprises as enterprise_service, records
from crm.services.errors import ServiceError
from crm.views import all_zone_choices, int_filter, list_filters, page_of

bp = Blueprint("enterprises", __name__, url_prefix="/enterprises")


def _get_or_404(enterprise_id: int) -> Enterprise:
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None or enterprise.deleted_at is not None:
        abort(404)
    return enterprise


@bp.route("/")
def index():
    filters = int_filter(
        list_filters("q", "zone_id", "local", "province", "city", "industry", "tag", "segment_id"),
        "zone_id", "segment_id",
    )
    sort = request.args.get("sort", "name")
    page = page_of(enterprise_service.enterprise_list_query(filters, sort))
    return render_template(
        "enterprises/index.html", page=page, filters=filters, sort=sort, tags=ENTERPRISE_TAGS,
        zones=all_zone_choices(),
    )


def _prepare(form):
    # Any writer may record where a firm is local; the library itself is shared city-wide.
    form.zone_id.choices = [(0, "（外地目标企业）")] + all_zone_choices()


@bp.route("/new", methods=["GET", "POST"])
@writer_required
def new():
    form = EnterpriseForm()
    _prepare(form)
    if form.validate_on_submit():
        data = form_data(form, *EnterpriseForm.FIELDS)
        data["zone_id"] = form.zone_id.data or None
        try:
            enterprise = enterprise_service.create_enterprise(current_user, data)
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            db.session.commit()
            flash("企业已保存", "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))
    return render_template("enterprises/form.html", form=form, enterprise=None)


@bp.route("/<int:enterprise_id>")
def detail(enterprise_id):
    enterprise = _get_or_404(enterprise_id)
    projects = db.session.scalars(
        scope(select(Project), Project, current_user).where(Project.enterprise_id == enterprise.id)
        .order_by(Project.id.desc())
    ).all()
    visits = db.session.scalars(
        scope(select(Visit), Visit, current_user).where(Visit.enterprise_id == enterprise.id)
        .order_by(Visit.visit_date.desc()).limit(100)
    ).all()
    segments = db.session.scalars(
        select(EnterpriseSegment).where(EnterpriseSegment.enterprise_id == enterprise.id)
    ).all()
    history = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "Enterprise", AuditEntry.entity_id == str(enterprise.id))
        .order_by(AuditEntry.id.desc()).limit(50)
    ).all()
    return render_template(
        "enterprises/detail.html", enterprise=enterprise, projects=projects, visits=visits,
        segments=segments, history=history, delete_form=DeleteForm(),
    )


@bp.route("/<int:enterprise_id>/edit", methods=["GET", "POST"])
@writer_required
def edit(enterprise_id):
    enterprise = _get_or_404(enterprise_id)
    form = EnterpriseForm(obj=enterprise)
    _prepare(form)
    if request.method == "GET":
        form.version.data = enterprise.version
        form.tags.data = enterprise.tag_list
        form.zone_id.data = enterprise.zone_id or 0
    if form.validate_on_submit():
        data = form_data(form, *EnterpriseForm.FIELDS)
        data["zone_id"] = form.zone_id.data or None
        try:
            enterprise_service.update_enterprise(current_user, enterprise, data, version=form.version.data)
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            db.session.commit()
            flash("企业已保存", "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))
    return render_template("enterprises/form.html", form=form, enterprise=enterprise)


@bp.route("/<int:enterprise_id>/delete", methods=["POST"])
@role_required("chief", "admin")
def delete(enterprise_id):
    enterprise = _get_or_404(enterprise_id)
    if DeleteForm().validate_on_submit():
        records.soft_delete(current_user, enterprise)
        db.session.commit()
        flash("企业已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("enterprises.index"))
