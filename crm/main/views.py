from flask import Blueprint, render_template
from flask_login import current_user

from crm.services.dashboard import overview

bp = Blueprint("main", __name__)


@bp.route("/")
def dashboard():
    return render_template("main/dashboard.html", overview=overview(current_user))


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
