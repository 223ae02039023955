"""Sign-in (password, then the second factor when enrolled), sign-out, 修改密码 and two-factor enrolment."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.security import check_password_hash

from crm.accounts import totp
from crm.accounts.forms import ChangePasswordForm, ConfirmTotpForm, DisableTotpForm, LoginForm, StartTotpForm, TwoFactorForm
from crm.accounts.security_log import record_event
from crm.accounts.service import authenticate, change_password, end_sessions, record_sign_in, safe_next_url, two_factor_required, user_named, UserError
from crm.accounts.sessions import begin_second_factor, MUST_ENROL, PENDING_2FA, pending_second_factor, renew_session, start_session
from crm.accounts.throttle import login_throttle, wait_message
from crm.extensions import db
from crm.accounts.models import User

bp = Blueprint("auth", __name__, template_folder="templates")

WRONG_CREDENTIALS = "用户名或密码错误"
WRONG_CODE = "验证码错误或已使用"


def _throttled(template: str, username: str, user: User | None, wait: int, **context):
    """Refuse the attempt without checking anything: HTTP 429, logged."""
    record_event("login_throttled", user=user, username=username, detail=f"还需等待 {wait} 秒")
    db.session.commit()
    message = wait_message(wait)
    response = render_template(template, throttled=message, **context)
    return response, 429, {"Retry-After": str(wait)}


def _finish_sign_in(user: User, how: str, next_url: str | None):
    record_sign_in(user, how)
    login_throttle().clear_account(user.username)
    db.session.commit()
    start_session(user)
    flash(f"欢迎，{user.display_name}", "success")
    return redirect(safe_next_url(next_url) or url_for("main.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        username, address = form.username.data, request.remote_addr
        throttle = login_throttle()
        wait = throttle.wait_seconds(username, address)
        if wait:
            return _throttled("auth/login.html", username, user_named(username), wait, form=form)
        user = authenticate(username, form.password.data)
        if user is None:
            throttle.record_failure(username, address)
            known = user_named(username)  # for the log only: the page never tells
            reason = "用户不存在" if known is None else "密码错误" if known.active else "账号已停用"
            record_event("login_failed", user=known, username=username, detail=reason)
            db.session.commit()
            # Never say which of the two was wrong.
            form.password.errors.append(WRONG_CREDENTIALS)
        elif user.has_totp:
            db.session.commit()  # a rehashed password
            begin_second_factor(user, next_url)
            return redirect(url_for("auth.two_factor"))
        else:
            return _finish_sign_in(user, "密码", next_url)
    return render_template("auth/login.html", form=form)


@bp.route("/login/2fa", methods=["GET", "POST"])
def two_factor():
    """The second step of sign-in: a TOTP code or a recovery code. Nobody is signed in until it passes."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    pending = pending_second_factor()
    user = db.session.get(User, pending["user_id"]) if pending else None
    if user is None or not user.active or user.session_version != pending["version"] or not user.has_totp:
        session.pop(PENDING_2FA, None)
        flash("验证已超时，请重新登录", "warning")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        throttle, address = login_throttle(), request.remote_addr
        wait = throttle.wait_seconds(user.username, address)
        if wait:
            return _throttled("auth/two_factor.html", user.username, user, wait, form=form)
        code = form.code.data
        if totp.is_totp_code(code):
            accepted, how = totp.verify_totp(user, code), "密码 + 两步验证码"
        else:
            accepted, how = totp.use_recovery_code(user, code), "密码 + 恢复码"
            if accepted:
                record_event("recovery_code_used", user=user, detail=f"剩余 {user.recovery_codes_left} 个")
        if accepted:
            return _finish_sign_in(user, how, pending.get("next"))
        throttle.record_failure(user.username, address)
        record_event("totp_failed", user=user, detail="登录")
        db.session.commit()
        form.code.errors.append(WRONG_CODE)
    return render_template("auth/two_factor.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_sessions(current_user)
    record_event("logout", user=current_user)
    db.session.commit()
    session.clear()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@login_required
def change_own_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        throttle, address = login_throttle(), request.remote_addr
        wait = throttle.wait_seconds(current_user.username, address)
        if wait:
            return _throttled("auth/change_password.html", current_user.username, current_user, wait, form=form)
        try:
            change_password(current_user, form.current_password.data, form.new_password.data)
        except UserError as error:
            db.session.rollback()
            if str(error) == "当前密码不正确":
                # A guess at the password from a borrowed session counts like a failed sign-in.
                throttle.record_failure(current_user.username, address)
                form.current_password.errors.append(str(error))
            else:
                form.new_password.errors.append(str(error))
        else:
            user = current_user._get_current_object()
            db.session.commit()
            renew_session(user)
            flash("密码已修改，其他设备上的登录已失效", "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form)



@bp.route("/account/2fa")
@login_required
def two_factor_setup():
    user = current_user
    context = {"start_form": StartTotpForm(), "confirm_form": ConfirmTotpForm(), "disable_form": DisableTotpForm(),
               "required": two_factor_required(user)}
    if not user.has_totp and user.totp_pending_secret:
        uri = totp.provisioning_uri(user, user.totp_pending_secret)
        context.update(qr=totp.qr_svg(uri), secret=totp.grouped(user.totp_pending_secret))
    return render_template("auth/two_factor_setup.html", **context)


@bp.route("/account/2fa/start", methods=["POST"])
@login_required
def two_factor_start():
    if StartTotpForm().validate_on_submit() and not current_user.has_totp:
        totp.begin_enrolment(current_user)
        db.session.commit()
    return redirect(url_for("auth.two_factor_setup"))


@bp.route("/account/2fa/confirm", methods=["POST"])
@login_required
def two_factor_confirm():
    form = ConfirmTotpForm()
    if current_user.has_totp:
        return redirect(url_for("auth.two_factor_setup"))
    if form.validate_on_submit():
        codes = totp.confirm_enrolment(current_user, form.code.data)
        if codes is not None:
            record_event("totp_enrolled", user=current_user)
            db.session.commit()
            session.pop(MUST_ENROL, None)
            # Shown this once, in this response: only their hashes are kept.
            return render_template("auth/recovery_codes.html", codes=codes)
        record_event("totp_failed", user=current_user, detail="启用时确认")
        db.session.commit()
        flash("验证码不正确，请核对手机时间后重试", "danger")
    return redirect(url_for("auth.two_factor_setup"))


@bp.route("/account/2fa/disable", methods=["POST"])
@login_required
def two_factor_disable():
    form = DisableTotpForm()
    user = current_user
    if not user.has_totp or not form.validate_on_submit():
        return redirect(url_for("auth.two_factor_setup"))
    if two_factor_required(user):
        flash("您的账号按规定必须使用两步验证，不能停用", "danger")
        return redirect(url_for("auth.two_factor_setup"))
    throttle, address = login_throttle(), request.remote_addr
    wait = throttle.wait_seconds(user.username, address)
    if wait:
        record_event("login_throttled", user=user, detail="停用两步验证")
        db.session.commit()
        flash(wait_message(wait), "danger")
        return redirect(url_for("auth.two_factor_setup"))
    code = form.code.data
    password_ok = check_password_hash(user.password_hash, form.password.data)
    code_ok = totp.verify_totp(user, code) if totp.is_totp_code(code) else totp.use_recovery_code(user, code)
    if password_ok and code_ok:
        totp.disable(user)
        record_event("totp_disabled", user=user, detail="本人停用")
        db.session.commit()
        flash("两步验证已停用", "success")
    else:
        db.session.rollback()  # a recovery code given with a wrong password stays unused
        throttle.record_failure(user.username, address)
        record_event("totp_failed", user=user, detail="停用两步验证：密码或验证码错误")
        db.session.commit()
        flash("密码或验证码不正确", "danger")
    return redirect(url_for("auth.two_factor_setup"))
