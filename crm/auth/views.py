from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from crm.auth.forms import LoginForm
from crm.auth.service import authenticate, end_sessions, safe_next_url
from crm.extensions import db

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is None:
            # Never say which of the two was wrong.
            form.password.errors.append("用户名或密码错误")
        else:
            db.session.commit()
            session.clear()  # a fresh session: no fixation
            login_user(user, remember=form.remember.data)
            flash(f"欢迎，{user.display_name}", "success")
            return redirect(safe_next_url(request.args.get("next")) or url_for("main.dashboard"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_sessions(current_user)
    db.session.commit()
    session.clear()
    logout_user()  # after clear(): it leaves the mark that deletes the remember-me cookie
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
