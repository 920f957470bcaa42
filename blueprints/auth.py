"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.signin_session import client_ip, finish_sign_in, sign_out
from extensions import db, limiter
from forms.auth import LoginForm
from models import User, utcnow
from security import signin
from security.accounts import login_key
from security.messages import message
from security.redirects import safe_next

bp = Blueprint("auth", __name__)


def login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def login_name_key() -> str:
    # Limits guessing against one account from many addresses.
    return "login:" + login_key(request.form.get("login", ""))[:150]


def home_for(user: User) -> str:
    """Return where a user lands after signing in without a `next`."""
    return url_for("admin.overview") if user.is_admin else url_for("mypage.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"], scope="login-address")
@limiter.limit(login_rate_limit, methods=["POST"], key_func=login_name_key, scope="login-name")
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), home_for(current_user)))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("auth/login.html", form=form), status
    outcome = signin.check_password(
        form.login.data or "", form.password.data or "", now=utcnow(), ip=client_ip()
    )
    if outcome.user is None:
        db.session.commit()  # keep the failure event
        return render_template("auth/login.html", form=form, error=message("login.invalid")), 200
    finish_sign_in(outcome.user, remember=bool(form.remember.data))
    return redirect(safe_next(form.next.data, home_for(outcome.user)), code=303)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    sign_out()
    flash(message("login.signed_out"), "info")
    return redirect(url_for("auth.login"), code=303)
