from datetime import date

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from crm.formatting import money
from crm.permissions import can_see_zone
from crm.inputs import parse_id, parse_year
from crm.dashboard.service import overview
from crm.views import zone_choices
from crm.service.service import figures as service_figures

bp = Blueprint("main", __name__, template_folder="templates")


@bp.route("/")
def dashboard():
    year = request.args.get("year", date.today().year, type=parse_year)
    zone_id = request.args.get("zone_id", type=parse_id)
    if zone_id and not can_see_zone(current_user, zone_id):
        abort(404)
    data = overview(current_user, year, zone_id)
    return render_template("main/dashboard.html", overview=data, charts=_chart_data(data),
                           zones=zone_choices(current_user, writable=False),
                           service_figures=service_figures(current_user))


def _link(filters: dict) -> str:
    return url_for("projects.index", **filters)


def _chart_data(data: dict) -> dict:
    """What the ECharts script draws, with the project-list link behind every bar and point."""
    monthly_target = (data["target"]["signed_amount"] or 0) / 12
    cumulative, running = [], 0.0
    for month in data["months"]:
        running += month["amount"] + month["increase"]
        cumulative.append(round(running, 2))
    return {
        "funnel": [{"name": row["stage"], "value": row["count"], "link": _link(row["filters"])} for row in data["funnel"]],
        "months": {
            "labels": [f"{m['month']}月" for m in data["months"]],
            "amounts": [{"value": round(m["amount"] + m["increase"], 2), "link": _link(m["filters"])} for m in data["months"]],
            "cumulative": cumulative,
            "target": [round(monthly_target * (i + 1), 2) for i in range(12)] if monthly_target else [],
        },
        "rates": [{"name": r["label"], "actual": round((r["actual"] or 0) * 100, 1),
                   "target": round(r["target"] * 100, 1), "link": _link(r["filters"])} for r in data["rates"]],
        "by_chain": [{"name": r["label"], "value": r["total"], "link": _link(r["filters"])} for r in data["by_chain"]],
        "by_owner": [{"name": r["label"], "value": r["total"], "link": _link(r["filters"])} for r in data["by_owner"]],
        "by_zone": [{"name": r["label"], "value": r["total"], "link": _link(r["filters"])} for r in data["by_zone"]],
        "signed_amount_text": money(data["signed_amount"]),
    }


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
