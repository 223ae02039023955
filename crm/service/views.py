from datetime import date
from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.extensions import db
from crm.forms import DeleteForm, form_data
from crm.idempotency import new_token
from crm.inputs import parse_id
from crm.library.models import Enterprise
from crm.permissions import STAFF_ROLES, allowed, can, get_scoped_or_404, visible_zone_ids
from crm import records
from crm.service import rules, service
from crm.service.forms import AdvanceForm, AssignForm, OfficerRatingForm, RateForm, RequestForm, SettingsForm
from crm.service.models import EnterpriseRequest
from crm.views import create_once, int_filter, list_filters, page_of, refused, saving, submitted_before, zone_choices

bp = Blueprint("service", __name__, url_prefix="/service", template_folder="templates")


def _enterprise_or_none():
    enterprise = db.session.get(Enterprise, request.args.get("enterprise_id", type=parse_id) or 0)
    return None if enterprise is None or enterprise.deleted_at else enterprise


def _zone_staff(zone_id):
    stmt = select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True),
                              User.zones.any(Zone.id == zone_id)).order_by(User.id)
    return [(u.id, u.display_name) for u in db.session.scalars(stmt)]


@bp.route("/")
def index():
    filters = int_filter(list_filters("status", "category", "overdue", "enterprise_id"), "enterprise_id")
    page = page_of(service.request_query(current_user, filters))
    return render_template("service/index.html", page=page, filters=filters, today=date.today(),
                           figures=service.figures(current_user), rules=rules)


@bp.route("/new", methods=["GET", "POST"])
@allowed("request.change")
def new():
    enterprise = _enterprise_or_none()
    if enterprise is None:
        flash("请先在企业库中选择企业，再登记诉求。", "warning")
        return redirect(url_for("enterprises.index"))
    if enterprise.zone_id is not None and not can(current_user, "request.change", enterprise.zone_id):
        abort(404)  # another zone's local firm: its requests are that zone's
    form = RequestForm()
    form.zone_id.choices = zone_choices(current_user)
    if not can(current_user, "city.all_zones") or enterprise.zone_id is not None:
        del form.zone_id
    if request.method == "GET":
        form.submission_token.data = new_token()
        form.received_on.data = date.today()
    if form.validate_on_submit():
        if done := submitted_before(form):
            return redirect(url_for("service.detail", request_id=done))
        data = form_data(form, *RequestForm.FIELDS, "zone_id")
        made, twin = create_once(form, lambda: service.create_request(current_user, enterprise, data))
        if made:
            flash("企业诉求已受理", "success")
        if made or twin:
            return redirect(url_for("service.detail", request_id=twin or made.id))
    return render_template("service/form.html", form=form, enterprise=enterprise, req=None)


@bp.route("/<int:request_id>")
def detail(request_id):
    req = get_scoped_or_404(EnterpriseRequest, request_id, current_user)
    return render_template("service/detail.html", req=req, advance_form=AdvanceForm(), rate_form=RateForm(),
                           delete_form=DeleteForm(), today=date.today(), rules=rules)


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@allowed("request.change")
def edit(request_id):
    req = get_scoped_or_404(EnterpriseRequest, request_id, current_user)
    if refused("request.change", req):
        return redirect(url_for("service.detail", request_id=req.id))
    form = RequestForm(obj=req)
    del form.zone_id
    if request.method == "GET":
        form.version.data = req.version
    if form.validate_on_submit():
        with saving(form) as saved:
            service.update_request(current_user, req, form_data(form, *RequestForm.FIELDS), version=form.version.data)
        if saved:
            flash("企业诉求已保存", "success")
            return redirect(url_for("service.detail", request_id=req.id))
    return render_template("service/form.html", form=form, enterprise=req.enterprise, req=req)


@bp.route("/<int:request_id>/advance", methods=["POST"])
@allowed("request.change")
def advance(request_id):
    req = get_scoped_or_404(EnterpriseRequest, request_id, current_user)
    form = AdvanceForm()
    if form.validate_on_submit():
        with saving() as saved:
            service.advance_request(current_user, req, form.reply.data or None)
        if saved:
            flash(f"诉求已{'办结' if req.status == rules.CLOSED else '转入办理'}", "success")
    return redirect(url_for("service.detail", request_id=req.id))


@bp.route("/<int:request_id>/rate", methods=["POST"])
@allowed("request.change")
def rate(request_id):
    req = get_scoped_or_404(EnterpriseRequest, request_id, current_user)
    form = RateForm()
    if form.validate_on_submit():
        with saving() as saved:
            service.rate_request(current_user, req, form.rating.data)
        if saved:
            flash("企业评价已记录", "success")
    else:
        flash("请选择满意度", "danger")
    return redirect(url_for("service.detail", request_id=req.id))


@bp.route("/<int:request_id>/delete", methods=["POST"])
@allowed("request.change")
def delete(request_id):
    req = get_scoped_or_404(EnterpriseRequest, request_id, current_user)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            records.soft_delete(current_user, req)
        if not saved:
            return redirect(url_for("service.detail", request_id=req.id))
        flash("企业诉求已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("service.index"))


@bp.route("/assign/<int:enterprise_id>", methods=["GET", "POST"])
@allowed("service.assign")
def assign(enterprise_id):
    enterprise = db.session.get(Enterprise, enterprise_id)
    zones = visible_zone_ids(current_user)
    if enterprise is None or enterprise.deleted_at or enterprise.zone_id is None or (
            zones is not None and enterprise.zone_id not in zones):
        abort(404)
    current = service.assignment_for(enterprise.id, enterprise.zone_id)
    form = AssignForm(obj=current)
    staff = _zone_staff(enterprise.zone_id)
    form.officer_id.choices = staff
    form.leader_user_id.choices = [(0, "（不选，填写姓名职务）")] + staff
    if form.validate_on_submit():
        with saving(form) as saved:
            service.assign(current_user, enterprise, form_data(form, "officer_id", "leader_user_id",
                                                               "leader_name", "leader_title"))
        if saved:
            flash("包保干部已指定", "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))
    return render_template("service/assign.html", form=form, enterprise=enterprise)


@bp.route("/ratings")
def ratings():
    return render_template("service/ratings.html", results=service.officer_results(current_user))


@bp.route("/ratings/new", methods=["GET", "POST"])
@allowed("request.change")
def rate_officer():
    enterprise = _enterprise_or_none()
    if enterprise is None or enterprise.zone_id is None or not can(current_user, "request.change", enterprise.zone_id):
        abort(404)  # only a local firm of the user's zone: another zone's reads as absent
    form = OfficerRatingForm()
    form.officer_id.choices = _zone_staff(enterprise.zone_id)
    if request.method == "GET":
        form.period.data = rules.period_of(date.today())
        current = service.assignment_for(enterprise.id, enterprise.zone_id)
        form.officer_id.data = current.officer_id if current else None
    if form.validate_on_submit():
        with saving(form) as saved:
            service.rate_officer(current_user, enterprise, form_data(form, "period", "officer_id", "rating"))
        if saved:
            flash("企业测评已记录", "success")
            return redirect(url_for("service.ratings"))
    return render_template("service/rate_officer.html", form=form, enterprise=enterprise)


@bp.route("/settings", methods=["GET", "POST"])
@allowed("service.settings")
def settings():
    zone_id = request.args.get("zone_id", type=parse_id)
    choices = [z for z in zone_choices(current_user) if can(current_user, "service.settings", z[0])]
    if not choices:
        abort(404)
    zone_id = zone_id if zone_id in {z for z, _ in choices} else choices[0][0]
    form = SettingsForm()
    if request.method == "GET":
        for i, days in enumerate(service.days_by_category(zone_id).values()):
            form[f"days_{i}"].data = days
    if form.validate_on_submit():
        with saving(form) as saved:
            service.set_days(current_user, zone_id, {c: form[f"days_{i}"].data for i, c in enumerate(rules.CATEGORIES)})
        if saved:
            flash("办理时限已保存", "success")
            return redirect(url_for("service.index"))
    return render_template("service/settings.html", form=form, zone_id=zone_id, zones=choices)


@bp.route("/ledger.xlsx")
@allowed("reports.read")
def export():
    month = request.args.get("month", "")
    try:
        year, mon = (int(p) for p in month.split("-"))
        date(year, mon, 1)
    except ValueError:
        month = date.today().strftime("%Y-%m")
    out = BytesIO()
    service.export_ledger(current_user, month, out)
    out.seek(0)
    return send_file(out, as_attachment=True, download_name=f"企业诉求台账-{month}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
