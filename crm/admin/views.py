from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from crm.admin.forms import ConfirmForm, DecisionForm, ReopenForm, UserEditForm, UserForm, ZoneTwoFactorForm
from crm.accounts.security_log import escape_control
from crm.accounts.service import create_user, user_named, UserError
from crm.extensions import db
from datetime import UTC, date, datetime, timedelta

from crm.audit import readable
from crm.audit.models import AUDIT_ACTIONS, AuditEntry
from crm.pipeline.models import FirstReportConflict
from crm.accounts.security_events import SecurityEvent
from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.accounts.security_events import SECURITY_EVENTS
from crm.permissions import allowed
from crm.forms import DeleteForm
from crm.admin import trash as trash_service
from crm.admin.trash import kind_of as trash_kind
from crm.inputs import parse_id
from crm.errors import ServiceError
from crm.pipeline.first_report import decide, open_conflicts_query, reopen
from crm.accounts.users import reset_two_factor, revoke_sessions, set_zone_2fa_requirement, update_user
from crm.views import all_zone_choices, int_filter, list_filters, page_of

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.before_request
@allowed("admin.manage")
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
            # The admin knows the first password: the user replaces it at their first sign-in.
            create_user(username=form.username.data, display_name=form.display_name.data,
                        password=form.password.data, role=form.role.data, zones=list(zones),
                        must_change_password=True)
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
                        zone_ids=form.zone_ids.data, active=form.active.data, password=form.password.data,
                        must_change_password=form.must_change_password.data)
        except UserError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash("用户已保存", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/revoke-sessions", methods=["POST"])
def revoke_user_sessions(user_id):
    user = db.session.get(User, user_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        revoke_sessions(current_user, user)
        db.session.commit()
        flash(f"{user.display_name} 已被强制下线，须重新登录", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-2fa", methods=["POST"])
def reset_user_two_factor(user_id):
    user = db.session.get(User, user_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            reset_two_factor(current_user, user)
        except UserError as error:
            db.session.rollback()
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash(f"已重置 {user.display_name} 的两步验证", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/zones")
def zones():
    zones = db.session.scalars(select(Zone).order_by(Zone.id)).all()
    forms = {zone.id: ZoneTwoFactorForm(formdata=None, obj=zone) for zone in zones}
    return render_template("admin/zones.html", zones=zones, forms=forms)


@bp.route("/zones/<int:zone_id>/2fa", methods=["POST"])
def zone_two_factor(zone_id):
    zone = db.session.get(Zone, zone_id) or abort(404)
    form = ZoneTwoFactorForm()
    if form.validate_on_submit():
        set_zone_2fa_requirement(current_user, zone, form.require_2fa_privileged.data)
        db.session.commit()
        state = "必须" if zone.require_2fa_privileged else "不再强制"
        flash(f"{zone.name}：园区负责人和管理员{state}使用两步验证（下次登录起生效）", "success")
    return redirect(url_for("admin.zones"))


@bp.route("/security-log")
def security_log():
    filters = list_filters("event", "user")
    stmt = select(SecurityEvent).options(joinedload(SecurityEvent.user)).order_by(SecurityEvent.id.desc())
    if filters.get("event") in SECURITY_EVENTS:
        stmt = stmt.where(SecurityEvent.event == filters["event"])
    if "user" in filters:
        # The account, or what was typed at sign-in (stored escaped, so no control character reaches SQL).
        account = user_named(filters["user"])
        typed = SecurityEvent.username == escape_control(filters["user"])
        stmt = stmt.where(or_(SecurityEvent.user_id == account.id, typed) if account else typed)
    return render_template("admin/security_log.html", page=page_of(stmt), filters=filters, events=SECURITY_EVENTS)


@bp.route("/audit")
def audit():
    filters = list_filters("kind", "entity_id", "actor_id", "zone_id", "action", "since", "until")
    ids = int_filter(dict(filters), "actor_id", "zone_id")
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if filters.get("kind") in readable.KINDS:
        stmt = stmt.where(AuditEntry.entity_type == filters["kind"])
    if "entity_id" in filters:
        stmt = stmt.where(AuditEntry.entity_id == filters["entity_id"][:40])
    if filters.get("action") in AUDIT_ACTIONS:
        stmt = stmt.where(AuditEntry.action == filters["action"])
    for key in ("actor_id", "zone_id"):
        if key in ids:
            stmt = stmt.where(getattr(AuditEntry, key) == ids[key])
    since, until = _local_day(filters.get("since")), _local_day(filters.get("until"))
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until + timedelta(days=1))
    page = page_of(stmt)
    rows = [(e, readable.changes(e.entity_type, e.action, e.before, e.after)) for e in page.items]
    users = db.session.execute(select(User.id, User.display_name).order_by(User.display_name)).all()
    return render_template("admin/audit.html", page=page, rows=rows, filters=filters, kinds=readable.KINDS,
                           actions=AUDIT_ACTIONS, users=users, zones=all_zone_choices(),
                           kind_label=readable.kind_label)


def _local_day(text: str | None) -> datetime | None:
    """The start of a day typed as YYYY-MM-DD, in the zones' local time (as UTC); None if not a date."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=readable.LOCAL_TZ).astimezone(UTC)


@bp.route("/trash")
def trash():
    kind = request.args.get("kind", "project")
    trash_kind(kind) or abort(404)
    page = page_of(trash_service.deleted_query(kind))
    offer = request.args.get("offer", type=parse_id)
    blocked = None
    if offer:
        record = trash_service.find(kind, offer)
        parents = trash_service.deleted_parents(kind, record) if record is not None else []
        if parents:
            blocked = {"id": offer, "message": trash_service.ParentDeleted(parents).message,
                       "parents": [f"{trash_service.KINDS[trash_service.KIND_OF[type(p)]].label}"
                                   f"“{trash_service.describe(p)}”" for p in parents]}
    return render_template("admin/trash.html", page=page, rows=trash_service.rows_of(kind, page.items), kind=kind,
                           kinds=trash_service.KINDS, blocked=blocked, restore_form=DeleteForm())


@bp.route("/trash/<kind>/<int:record_id>/restore", methods=["POST"])
def restore(kind, record_id):
    trash_kind(kind) or abort(404)
    record = trash_service.find(kind, record_id) or abort(404)
    if DeleteForm().validate_on_submit():
        with_parents = request.args.get("with_parents") == "1"
        try:
            restored = trash_service.restore(current_user, kind, record, with_parents=with_parents)
        except trash_service.ParentDeleted as error:
            db.session.rollback()
            flash(f"{error.message}：可将其一并恢复", "warning")
            return redirect(url_for("admin.trash", kind=kind, offer=record_id))
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash("记录已恢复" if len(restored) == 1 else "已一并恢复：" + "、".join(restored), "success")
    return redirect(url_for("admin.trash", kind=kind))


@bp.route("/first-reports")
def first_reports():
    return render_template("admin/first_reports.html", page=page_of(open_conflicts_query()), form=DecisionForm(),
                           reopen_form=ReopenForm())


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


@bp.route("/first-reports/<int:conflict_id>/reopen", methods=["POST"])
def reopen_first_report(conflict_id):
    conflict = db.session.get(FirstReportConflict, conflict_id) or abort(404)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            project = reopen(current_user, conflict, form.reopen_reason.data)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(f"已重启 {project.zone.name} 的项目，恢复到“{project.stage}”", "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
    return redirect(url_for("admin.first_reports"))
