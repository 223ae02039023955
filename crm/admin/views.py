from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.admin.forms import DecisionForm, UserEditForm, UserForm
from crm.auth.service import UserError, create_user
from crm.extensions import db
from crm.models import AuditEntry, Enterprise, FirstReportConflict, Project, User, Visit, Zone
from crm.permissions import role_required
from crm.projects.forms import DeleteForm
from crm.services import records
from crm.services.errors import ServiceError
from crm.services.first_report import decide, open_conflicts_query
from crm.services.users import update_user
from crm.views import all_zone_choices, list_filters, page_of

bp = Blueprint("admin", __name__, url_prefix="/admin")
RESTORABLE = {"project": Project, "visit": Visit, "enterprise": Enterprise}


@bp.before_request
@role_required("admin")
def admin_only():
    """Every page here is the city admin's."""


@bp.route("/")
def index():
    return redirect(url_for("admin.users"))


@bp.route("/users")
def users():
    users = db.session.scalars(select(User).order_by(User.id)).all()
    return render_template("admin/users.html", users=users)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    form.zone_ids.choices = all_zone_choices()
    if form.validate_on_submit():
        zones = db.session.scalars(select(Zone).where(Zone.id.in_(form.zone_ids.data or []))).all()
        try:
            create_user(username=form.username.data, display_name=form.display_name.data,
                        password=form.password.data, role=form.role.data, zones=list(zones))
        except UserError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash("用户已创建", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    form.zone_ids.choices = all_zone_choices()
    if request.method == "GET":
        form.zone_ids.data = user.zone_ids
    if form.validate_on_submit():
        try:
            update_user(current_user, user, display_name=form.display_name.data, role=form.role.data,
                        zone_ids=form.zone_ids.data, active=form.active.data, password=form.password.data)
        except UserError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash("用户已保存", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/audit")
def audit():
    filters = list_filters("entity_type", "entity_id", "actor_id", "action")
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    for key in ("entity_type", "entity_id", "action"):
        if key in filters:
            stmt = stmt.where(getattr(AuditEntry, key) == filters[key])
    if filters.get("actor_id", "").isdigit():
        stmt = stmt.where(AuditEntry.actor_id == int(filters["actor_id"]))
    return render_template("admin/audit.html", page=page_of(stmt), filters=filters)


@bp.route("/trash")
def trash():
    kind = request.args.get("kind", "project")
    model = RESTORABLE.get(kind) or abort(404)
    stmt = select(model).where(model.deleted_at.is_not(None)).order_by(model.deleted_at.desc())
    return render_template("admin/trash.html", page=page_of(stmt), kind=kind, kinds=RESTORABLE,
                           restore_form=DeleteForm())


@bp.route("/trash/<kind>/<int:record_id>/restore", methods=["POST"])
def restore(kind, record_id):
    model = RESTORABLE.get(kind) or abort(404)
    record = db.session.get(model, record_id)
    if record is None or record.deleted_at is None:
        abort(404)
    if DeleteForm().validate_on_submit():
        records.restore(current_user, record)
        db.session.commit()
        flash("记录已恢复", "success")
    return redirect(url_for("admin.trash", kind=kind))


@bp.route("/first-reports")
def first_reports():
    return render_template("admin/first_reports.html", page=page_of(open_conflicts_query()), form=DecisionForm())


@bp.route("/first-reports/<int:conflict_id>", methods=["POST"])
def decide_first_report(conflict_id):
    conflict = db.session.get(FirstReportConflict, conflict_id) or abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            winner = decide(current_user, conflict, form.winner.data, form.reason.data)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(f"已裁定：{winner.zone.name} 保留该企业，另一园区项目已终止", "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
    return redirect(url_for("admin.first_reports"))
