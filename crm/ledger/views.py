from datetime import date
from decimal import Decimal
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.extensions import db
from crm.accounts.zones import Zone
from crm.ledger.models import ZoneTarget
from crm.permissions import allowed, can
from crm.ledger.forms import ZoneSettingsForm
from crm.ledger import service as ledger
from crm.forms import BaseForm
from crm.inputs import month_bounds, parse_id, parse_year
from crm.jobs import service as jobs
from crm.jobs.web import result_redirect
from crm.ledger.export import ledger_title
from crm.views import saving, zone_choices

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")


class ExportForm(BaseForm):
    """The export's POST: its CSRF token (the month and zone are read from the form)."""


@bp.before_request
@allowed("reports.read")
def report_readers():
    """Reports are for zone chiefs, the city centre and leaders."""


@bp.route("/")
def index():
    today = date.today()
    return render_template("reports/index.html", zones=zone_choices(current_user, writable=False),
                           month=f"{today.year}-{today.month:02d}")


@bp.route("/ledger.xlsx", methods=["POST"])
def ledger_xlsx():
    """The monthly ledger, as a job (crm/jobs): its page shows the progress and then offers the download."""
    month = request.form.get("month", "")
    zone_id = request.form.get("zone_id", type=parse_id)
    try:
        month_bounds(month)
    except ValueError:
        flash("月份格式应为 2026-03", "danger")
        return redirect(url_for("reports.index"))
    if not ExportForm().validate_on_submit():
        abort(400)
    if zone_id and not can(current_user, "reports.read", zone_id):
        abort(404)
    zone = db.session.get(Zone, zone_id) if zone_id else None
    job = jobs.create_job(current_user, "ledger_export", {"month": month, "zone_id": zone_id},
                          title=ledger_title(current_user, zone, month), zone_id=zone_id)
    db.session.commit()
    jobs.start(job)
    return result_redirect(job)


@bp.route("/zones/<int:zone_id>/settings", methods=["GET", "POST"])
@allowed("reports.set_targets")
def zone_settings(zone_id):
    if not can(current_user, "reports.read", zone_id):
        abort(404)
    zone = db.session.get(Zone, zone_id) or abort(404)
    year = request.values.get("year", date.today().year, type=parse_year)
    target = db.session.scalar(select(ZoneTarget).where(ZoneTarget.zone_id == zone.id, ZoneTarget.year == year))
    form = ZoneSettingsForm()
    if request.method == "GET":
        form.year.data = year
        form.min_investment_per_mu.data = zone.min_investment_per_mu
        form.stale_lead_days.data = zone.stale_lead_days
        signoff = ledger.signoff_of(zone)
        for key in ledger.SIGNOFF_FIELDS:
            form[f"signoff_{key}"].data = getattr(signoff, key) if signoff else ""
        defaults = target or ZoneTarget(**{k: v for k, v in ledger.DEFAULT_TARGETS.items()}, signed_count=0,
                                        signed_amount=Decimal(0))
        form.signed_count.data = defaults.signed_count
        form.signed_amount.data = defaults.signed_amount
        for key in ZoneSettingsForm.RATES:
            form[key].data = Decimal(getattr(defaults, key)) * 100
    if form.validate_on_submit():
        data = {key: form[key].data for key in ("signed_count", "signed_amount", "min_investment_per_mu", "stale_lead_days")}
        data.update({key: form[key].data / 100 if form[key].data is not None else None for key in ZoneSettingsForm.RATES})
        with saving(form) as saved:
            ledger.set_target(current_user, zone, form.year.data, data)
            ledger.set_signoff(current_user, zone, {key: form[f"signoff_{key}"].data for key in ledger.SIGNOFF_FIELDS})
        if saved:
            flash("园区目标与设置已保存", "success")
            return redirect(url_for("reports.zone_settings", zone_id=zone.id, year=form.year.data))
    return render_template("reports/zone_settings.html", form=form, zone=zone, year=year)
