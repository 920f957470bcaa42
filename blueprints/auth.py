"""Signing in and out: the password, the second step, the forced connection."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from extensions import db, limiter
from forms.auth import LanguageForm, LoginForm, SecondStepForm
from forms.two_step import ConnectForm
from models import OtpSettings, User, utcnow
from security import remembered_computers, second_step, signin, two_step
from security.device_connection import ConnectionInProgress
from security.messages import message
from security.otp_settings import load_settings
from security.preferences import LANGUAGES
from security.redirects import safe_next
from security.second_step import CodeResult, Outcome
from security.signin import SignInState
from web.connect_flow import ConnectScreen, run_connect, steps_view
from web.i18n import local_time_text, remember_visitor_language
from web.login_limits import (
    browser_known_for,
    known_browser,
    login_name_key,
    password_refused,
    remember_browser,
)
from web.signin_session import (
    REMEMBER_COOKIE,
    PendingStep,
    abandon_second_step,
    begin_second_step,
    client_ip,
    current_state,
    finish_sign_in,
    pending_step,
    pending_user,
    set_remembered_computer_cookie,
    sign_out,
)

bp = Blueprint("auth", __name__)


def login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def home_for(user: User) -> str:
    """Return where a user lands after signing in without a `next`."""
    return url_for("admin.overview") if user.is_admin else url_for("mypage.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"], scope="login-address")
# Only failed passwords count per login, and a browser known for the login is spared:
# strangers guessing cannot keep the owner out (see web/login_limits.py).
@limiter.limit(
    login_rate_limit,
    methods=["POST"],
    key_func=login_name_key,
    scope="login-name",
    deduct_when=password_refused,
    exempt_when=known_browser,
)
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), home_for(current_user)))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.errors else 200
    if current_state() is not SignInState.ANONYMOUS:
        abandon_second_step()  # a new password starts the sign-in over
    outcome = _check_password(form)
    if outcome.user is None:
        db.session.commit()  # keep the failure event
        error = message("directory.unavailable" if outcome.directory_down else "login.invalid")
        return render_template("auth/login.html", form=form, error=error), 200
    return _after_password(outcome.user, outcome.next_state, form)


def _check_password(form: LoginForm) -> signin.PasswordOutcome:
    now = utcnow()
    remembered_token = request.cookies.get(REMEMBER_COOKIE)
    return signin.check_password(
        form.login.data or "",
        form.password.data or "",
        now=now,
        ip=client_ip(),
        remembered=lambda user: remembered_computers.is_remembered(user, remembered_token, now=now),
    )


def _after_password(user: User, next_state: SignInState, form: LoginForm) -> Response:
    """Sign in, or hold the sign-in for its second step; either commits what the password
    step changed (a rehashed password, a grace period started)."""
    # Where to go once signed in is decided now, while the user is loaded.
    login, home = user.login, safe_next(form.next.data, "") or home_for(user)
    remember = bool(form.remember.data)
    if next_state is SignInState.SIGNED_IN:
        finish_sign_in(user, remember=remember, new_browser=not browser_known_for(login))
        return remember_browser(redirect(home, code=303), login)
    step = begin_second_step(user, next_state, remember=remember, next_url=home)
    return redirect(url_for(step), code=303)


def _second_step_page(
    form: SecondStepForm, status: int, error: str | None = None
) -> tuple[str, int]:
    settings = load_settings()
    return render_template(
        "auth/login_otp.html",
        form=form,
        error=error,
        allow_remember=settings.allow_remember,
        allow_recovery=settings.allow_recovery_codes,
        recovery=request.args.get("recovery") == "1",
    ), status


def _pending_sign_in_over() -> Response:
    """Send a browser whose half-finished sign-in expired, ended or was used up to the start.

    A browser already signed in (a bookmark of the code step, a link from elsewhere) goes
    home instead: a GET must never end its session.
    """
    if current_user.is_authenticated:
        return redirect(home_for(current_user), code=303)
    abandon_second_step()
    flash(message("otp.pending_expired"), "error")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/login/otp", methods=["GET", "POST"])
def login_otp() -> Response | tuple[str, int]:
    user, pending = pending_user(), pending_step()
    if user is None or pending is None:
        return _pending_sign_in_over()
    form = SecondStepForm()
    if request.method == "GET":
        return _second_step_page(form, 200)
    if not form.validate_on_submit():
        return _second_step_page(form, 400)
    now = utcnow()
    result = second_step.verify_sign_in_code(user, form.code.data or "", now=now, ip=client_ip())
    if not result.accepted:
        db.session.commit()  # failure counts and locks survive whatever follows
        return _code_refused_page(form, result, user)
    # The spent code, its events and the new session commit together in finish_sign_in.
    return _complete_second_step(user, pending, result, form, now=now)


def _code_refused_page(form: SecondStepForm, result: CodeResult, user: User) -> tuple[str, int]:
    if result.outcome is Outcome.LOCKED:
        until = (
            local_time_text(result.locked_until, zone=user.timezone, style="time")
            if result.locked_until
            else ""
        )
        return _second_step_page(form, 429, message("otp.locked", until=until))
    if result.outcome is Outcome.MALFORMED:
        form.code.errors = [message("otp.sign_in_code_malformed")]
        return _second_step_page(form, 400)
    return _second_step_page(form, 200, message("otp.code_incorrect"))


# How the second step was passed, as the sign-in event says it.
SIGN_IN_METHODS = {
    Outcome.RECOVERY_ACCEPTED: "recovery_code",
    Outcome.TEMPORARY_ACCEPTED: "temporary_code",
}


def _complete_second_step(
    user: User, pending: PendingStep, result: CodeResult, form: SecondStepForm, *, now: datetime
) -> Response:
    """Sign in after an accepted code: remember the computer if asked, then go on."""
    settings = load_settings()  # read with the code's state, from the session's identity map
    login = user.login  # read before the commit below expires the user
    remembered = None
    # Only a one-time password, never a recovery or temporary code, may remember a computer.
    if settings.allow_remember and form.remember_device.data and result.outcome is Outcome.ACCEPTED:
        remembered = remembered_computers.remember_computer(
            user,
            now=now,
            ip=client_ip(),
            user_agent=request.headers.get("User-Agent", ""),
            days=settings.remember_days,
        )
    method = SIGN_IN_METHODS.get(result.outcome, "otp")
    new_browser = not browser_known_for(login)
    if not finish_sign_in(user, remember=pending.remember, method=method, new_browser=new_browser):
        # Another request with a copy of this cookie completed or ended the sign-in.
        return _pending_sign_in_over()
    if result.recovery_codes_left is not None:
        left = result.recovery_codes_left
        flash(
            message("otp.recovery_low" if left <= 2 else "otp.recovery_used", left=left), "warning"
        )
    # Decided at the password step; a pending sign-in from before that rule goes home.
    response = redirect(pending.next_url or home_for(user), code=303)
    if remembered is not None:
        set_remembered_computer_cookie(response, *remembered)
    return remember_browser(response, login)


@bp.route("/login/connect", methods=["GET", "POST"])
def login_connect() -> ResponseReturnValue:
    user, pending = pending_user(), pending_step()
    # A device connected since the password (by the user elsewhere, or an administrator)
    # ends the forced connection: the password alone must not replace it.
    if user is None or pending is None or two_step.device_of(user.id) is not None:
        return _pending_sign_in_over()
    settings = load_settings()
    now = utcnow()
    screen = _forced_connection(user, pending, settings, now)
    return run_connect(screen, settings=settings, now=now)


def _forced_connection(
    user: User, pending: PendingStep, settings: OtpSettings, now: datetime
) -> ConnectScreen:
    """The connection that mandatory two-step asks for at sign-in; success signs in."""
    form = ConnectForm()
    login = user.login  # read before the sign-in's commit expires the user

    def show(connection: ConnectionInProgress | None, status: int) -> tuple[str, int]:
        view = steps_view(connection, user, settings.default_type, settings, now=now)
        return render_template("auth/login_connect.html", form=form, view=view, user=user), status

    def finish_signing_in() -> Response | None:
        # The device and the used-up pending sign-in commit in one transaction.
        new_browser = not browser_known_for(login)
        if not finish_sign_in(
            user, remember=pending.remember, method="connect", new_browser=new_browser
        ):
            return _pending_sign_in_over()
        after_this_request(lambda response: remember_browser(response, login))
        return None

    return ConnectScreen(
        user=user,
        actor=user,
        form=form,
        show=show,
        expired_url=url_for("auth.login_connect"),
        done_url=pending.next_url or home_for(user),
        connected_text=lambda: None,  # the codes page says it
        complete=finish_signing_in,
        already_connected=_pending_sign_in_over,
    )


@bp.route("/login/cancel", methods=["POST"])
def login_cancel() -> Response:
    abandon_second_step()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    sign_out()
    flash(message("login.signed_out"), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/language", methods=["POST"])
def choose_language() -> Response:
    """A visitor's language before signing in: kept in a cookie, then back to the page."""
    form = LanguageForm()
    valid = form.validate_on_submit() and form.language.data in LANGUAGES
    response = redirect(safe_next(form.next.data, url_for("auth.login")), code=303)
    if valid:
        remember_visitor_language(response, form.language.data)
    else:
        flash(message("preferences.unknown_language"), "error")
    return response
