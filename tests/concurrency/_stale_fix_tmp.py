from urllib.parse import urlsplit

from flask import flash, redirect, request, url_for
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db
from crm.services.errors import StaleEdit


def register_stale_write_handler(app) -> None:
    def stale_write(error):
        # PostgreSQL (READ COMMITTED) lets two requests read the same version; the second UPDATE
        # then matches no row. Tell that user what a stale form tells them, never a 500.
        db.session.rollback()
        flash(StaleEdit().message, "danger")
        rule = request.url_rule
        if rule is not None and "GET" in (rule.methods or ()):
            return redirect(request.full_path.rstrip("?"), code=303)
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            return redirect(referrer.path, code=303)
        return redirect(url_for("main.dashboard"), code=303)

    app.register_error_handler(StaleDataError, stale_write)
