"""My page: the employee's own profile and security settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import refresh as refresh_language
from flask_login import current_user
from werkzeug.wrappers import Response

from extensions import db, limiter
from forms.api import AppPasswordForm
from forms.auth import SubmitOnlyForm
from forms.mypage import PasswordChangeForm, PreferencesForm, ReauthForm
from forms.two_step import ConnectForm
from models import OtpSettings, UserSession, utcnow
from security import (
    accounts,
    app_passwords,
    events,
    notices,
    preferences,
    recovery_code_store,
    remembered_computers,
    sessions,
    signin,
    temporary_codes,
    two_step,
)
from security.accounts import AccountError
from security.app_passwords import AppPasswordError
from security.device_connection import ConnectionInProgress
from security.messages import message
from security.otp_settings import load_settings
from security.redirects import safe_next
from security.two_step import TwoStepError
from web.connect_flow import ConnectScreen, new_codes_page, run_connect, steps_view
from web.guards import confirmed, guard, recent_sign_in, refuse, two_step_on
from web.refusals import answer_refusal
from web.signin_session import (
    client_ip,
    current_session_id,
    session_limits,
)

bp = Blueprint("mypage", __name__, url_prefix="/my")


def password_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def own_login_key() -> str:
    # The password asked again (re-authentication, password change) is guessed against
    # the signed-in account: limit it per account as at /login, from any address.
    user_id = current_user.get_id() if current_user.is_authenticated else None
    return f"user:{user_id}" if user_id else "anonymous"


# A session left open must not become an unlimited password oracle. Shared: both pages
# that check the password draw on the same counters.
limit_password_per_address = limiter.shared_limit(
    password_rate_limit, "own-password-address", methods=["POST"]
)
limit_password_per_user = limiter.shared_limit(
    password_rate_limit, "own-password-user", methods=["POST"], key_func=own_login_key
)


@bp.route("/")
def index() -> str:
    return render_template("mypage/index.html", user=current_user)


def _render_security(password_form: PasswordChangeForm, status: int = 200) -> tuple[str, int]:
    now = utcnow()
    settings = load_settings()
    device = two_step.device_of(current_user.id)
    account = two_step.account_of(current_user.id)
    return (
        render_template(
            "mypage/security.html",
            user=current_user,
            password_form=password_form,
            button_form=SubmitOnlyForm(),
            sessions=sessions.active_sessions(current_user.id, now=now, limits=session_limits()),
            current_session_id=current_session_id(),
            settings=settings,
            device=device,
            account=account,
            status=two_step.status_of(current_user, settings, device, account, now),
            device_active=device is not None and two_step.device_is_active(device, now),
            mandatory=two_step.is_mandatory_for(current_user, settings, account, now),
            recovery_left=recovery_code_store.recovery_codes_left(current_user.id),
            computers=remembered_computers.list_remembered(current_user.id, now=now),
            temporary_code=temporary_codes.active_code(current_user.id, now=now),
            now=now,
        ),
        status,
    )


def _security_url() -> str:
    return url_for("mypage.security")


@bp.route("/notifications")
def notifications() -> str:
    return render_template(
        "mypage/notifications.html",
        notices=notices.notices_of(current_user.id),
        button_form=SubmitOnlyForm(),
    )


@bp.route("/notifications/read", methods=["POST"])
def notifications_read() -> Response:
    notices.mark_all_read(current_user.id, now=utcnow())
    db.session.commit()
    flash(message("notice.marked_read"), "success")
    return redirect(url_for("mypage.notifications"), code=303)


def _preferences_page(form: PreferencesForm, status: int) -> tuple[str, int]:
    return (
        render_template(
            "mypage/settings.html",
            form=form,
            console_zone=current_app.config["DEFAULT_TIMEZONE"],
            now=utcnow(),
        ),
        status,
    )


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
def language_and_time_zone() -> ResponseReturnValue:
    form = PreferencesForm(obj=current_user if request.method == "GET" else None)
    if request.method == "GET":
        return _preferences_page(form, 200)
    if not form.validate_on_submit():
        return _preferences_page(form, 400)
    try:
        changed = preferences.apply(
            current_user,
            form.chosen_preferences(preferences.of(current_user)),
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
        )
    except preferences.PreferenceError as error:
        db.session.rollback()
        form[error.field or "language"].errors = [error.text]
        return _preferences_page(form, 400)
    db.session.commit()
    refresh_language()  # the confirmation is already in the language just chosen
    flash(message("preferences.saved" if changed else "preferences.unchanged"), "success")
    return redirect(url_for("mypage.settings"), code=303)


@bp.route("/reauth", methods=["GET", "POST"])
@limit_password_per_address
@limit_password_per_user
def reauth() -> Response | tuple[str, int]:
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), url_for("mypage.security"))
    if form.validate_on_submit():
        ok = signin.reauthenticate(
            current_user,
            form.password.data or "",
            current_session_id(),
            now=utcnow(),
            ip=client_ip(),
        )
        db.session.commit()
        if ok:
            return redirect(safe_next(form.next.data, url_for("mypage.security")), code=303)
        form.password.errors = [message("mypage.current_password_wrong")]
    status = 400 if request.method == "POST" else 200
    return render_template("mypage/reauth.html", form=form), status


# Connecting a first device and replacing one ("My mobile device has changed") both need
# a recent sign-in: a hijacked session must not bind the attacker's authenticator (OWASP
# MFA cheat sheet). The forced connection at sign-in (/login/connect) follows the password
# and is a different view. A POST comes back to this page, whose GET is harmless.
@bp.route("/security/connect", methods=["GET", "POST"])
@two_step_on(_security_url, key="otp.not_enabled_for_console")
@recent_sign_in(lambda: url_for("mypage.connect"))
def connect() -> ResponseReturnValue:
    settings = load_settings()
    now = utcnow()
    return run_connect(_connect_screen(ConnectForm(), settings, now), settings=settings, now=now)


def _connect_screen(form: ConnectForm, settings: OtpSettings, now: datetime) -> ConnectScreen:
    user = current_user

    def show(connection: ConnectionInProgress | None, status: int) -> tuple[str, int]:
        view = steps_view(connection, user, settings.default_type, settings, now=now)
        replacing = two_step.device_of(user.id) is not None
        page = render_template("mypage/connect.html", form=form, view=view, replacing=replacing)
        return page, status

    return ConnectScreen(
        user=user,
        actor=user,
        form=form,
        show=show,
        expired_url=url_for("mypage.connect"),
        done_url=url_for("mypage.security"),
        keep_session_id=current_session_id(),
    )


@bp.route("/security/disable", methods=["POST"])
@confirmed(_security_url)
@recent_sign_in(_security_url)
def disable_two_step() -> ResponseReturnValue:
    try:
        two_step.disable(
            current_user,
            days=0,
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
            settings=load_settings(),
            keep_session_id=current_session_id(),
        )
    except TwoStepError as error:
        return answer_refusal(error, back=_security_url())
    db.session.commit()
    flash(message("otp.disabled_forever"), "success")
    return redirect(_security_url(), code=303)


@bp.route("/security/enable", methods=["POST"])
def enable_two_step() -> ResponseReturnValue:
    try:
        two_step.enable(current_user, now=utcnow(), actor=current_user, ip=client_ip())
    except TwoStepError as error:
        return answer_refusal(error, back=_security_url())
    db.session.commit()
    flash(message("otp.reenabled"), "success")
    return redirect(_security_url(), code=303)


def _recovery_codes_refusal(_view_args: dict[str, Any]) -> ResponseReturnValue | None:
    """Refuse the recovery codes page where the settings or a missing device make it moot."""
    if not load_settings().allow_recovery_codes:
        return refuse("otp.recovery_not_allowed", _security_url())
    if two_step.device_of(current_user.id) is None:
        return refuse("otp.no_device", _security_url())
    return None


@bp.route("/security/recovery-codes", methods=["GET", "POST"])
@guard(_recovery_codes_refusal)
@confirmed(lambda: url_for("mypage.recovery_codes"))
@recent_sign_in(_security_url, post_only=True)
def recovery_codes() -> ResponseReturnValue:
    if request.method == "POST":
        now = utcnow()
        codes = recovery_code_store.generate_recovery_codes(
            current_user, now=now, actor=current_user, ip=client_ip()
        )
        db.session.commit()
        return new_codes_page(
            current_user,
            codes,
            issuer=load_settings().issuer,
            now=now,
            continue_url=_security_url(),
        )
    return render_template(
        "mypage/recovery_codes.html",
        rows=recovery_code_store.recovery_code_rows(current_user.id),
        left=recovery_code_store.recovery_codes_left(current_user.id),
        action=url_for("mypage.recovery_codes"),
        back=_security_url(),
    ), 200


@bp.route("/security/devices/forget", methods=["POST"])
def forget_computers() -> Response:
    remembered_computers.forget_computers(
        current_user, now=utcnow(), actor=current_user, ip=client_ip()
    )
    db.session.commit()
    flash(message("otp.computers_forgotten"), "success")
    return redirect(url_for("mypage.security"), code=303)


@bp.route("/security")
def security() -> tuple[str, int]:
    return _render_security(PasswordChangeForm(formdata=None))


@bp.route("/security/password", methods=["POST"])
@limit_password_per_address
@limit_password_per_user
def change_password() -> Response | tuple[str, int]:
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _render_security(form, 400)
    try:
        accounts.change_own_password(
            current_user,
            form.current_password.data or "",
            form.new_password.data or "",
            now=utcnow(),
            ip=client_ip(),
            session_id=current_session_id(),
        )
    except AccountError as error:
        db.session.commit()  # keep the refusal on record; nothing else changed
        field = getattr(form, error.field or "new_password")
        field.errors = [error.text]
        return _render_security(form, 400)
    db.session.commit()
    flash(message("mypage.password_changed"), "success")
    return redirect(url_for("mypage.security"), code=303)


@bp.route("/sessions/<session_id>/end", methods=["POST"])
def end_session(session_id: str) -> Response:
    record = db.session.get(UserSession, session_id[:64])
    if record is None or record.user_id != current_user.id:
        abort(404)
    now = utcnow()
    sessions.end_session(record, now=now, reason="ended_by_user")
    events.record(
        events.SESSION_ENDED,
        now=now,
        ip=client_ip(),
        actor=current_user,
        subject=current_user,
        details={"which": "one"},
    )
    db.session.commit()
    flash(message("mypage.session_ended"), "success")
    if session_id == current_session_id():
        return redirect(url_for("auth.login"), code=303)
    return redirect(url_for("mypage.security"), code=303)


@bp.route("/sessions/end-others", methods=["POST"])
def end_other_sessions() -> Response:
    now = utcnow()
    ended = sessions.end_user_sessions(
        current_user.id, now=now, reason="ended_by_user", keep_session_id=current_session_id()
    )
    events.record(
        events.SESSION_ENDED,
        now=now,
        ip=client_ip(),
        actor=current_user,
        subject=current_user,
        details={"which": "others", "count": ended},
    )
    db.session.commit()
    flash(message("mypage.other_sessions_ended"), "success")
    return redirect(url_for("mypage.security"), code=303)


GRACE_BANNER_DISMISSED = "grace_banner_dismissed"


def grace_banner() -> dict[str, object] | None:
    """Describe the "connect before …" banner for the signed-in user, or None."""
    if not current_user.is_authenticated:
        return None
    settings = load_settings()
    if not (settings.enabled and settings.mandatory):
        return None
    now = utcnow()
    account = two_step.account_of(current_user.id)
    if not two_step.is_mandatory_for(current_user, settings, account, now):
        return None
    if account is None or account.grace_deadline is None or account.grace_deadline <= now:
        return None
    if two_step.device_of(current_user.id) is not None:
        return None
    last_day = account.grace_deadline - now <= timedelta(days=1)
    if session.get(GRACE_BANNER_DISMISSED) and not last_day:
        return None
    return {"deadline": account.grace_deadline, "dismissable": not last_day}


@bp.app_context_processor
def inject_grace_banner() -> dict[str, object]:
    return {"grace_banner": grace_banner}


@bp.route("/security/banner/dismiss", methods=["POST"])
def dismiss_grace_banner() -> Response:
    session[GRACE_BANNER_DISMISSED] = True
    return redirect(safe_next(request.form.get("next"), url_for("mypage.index")), code=303)


# --- application passwords --------------------------------------------------------------


def _app_passwords_url() -> str:
    return url_for("mypage.app_passwords_page")


def _app_passwords_page(form: AppPasswordForm, status: int) -> tuple[str, int]:
    return render_template(
        "mypage/app_passwords.html",
        form=form,
        rows=app_passwords.app_passwords_of(current_user.id),
        max_count=app_passwords.MAX_PER_USER,
    ), status


@bp.route("/security/app-passwords", methods=["GET", "POST"])
@recent_sign_in(_app_passwords_url, post_only=True)
def app_passwords_page() -> ResponseReturnValue:
    """List one's application passwords; POST names a new one and shows it once."""
    if request.method == "GET":
        return _app_passwords_page(AppPasswordForm(formdata=None), 200)
    form = AppPasswordForm()
    if not form.validate_on_submit():
        return _app_passwords_page(form, 400)
    try:
        made = app_passwords.create_app_password(
            current_user, form.name.data or "", now=utcnow(), actor=current_user, ip=client_ip()
        )
    except AppPasswordError as error:
        db.session.rollback()
        form.name.errors = [error.text]
        return _app_passwords_page(form, 400)
    name = made.row.name
    db.session.commit()
    return render_template(
        "mypage/app_password_new.html", password=made.shown, name=name, back=_app_passwords_url()
    ), 200


@bp.route("/security/app-passwords/<int:password_id>/revoke", methods=["POST"])
def revoke_app_password(password_id: int) -> Response:
    revoked = app_passwords.revoke_app_password(
        current_user, password_id, now=utcnow(), actor=current_user, ip=client_ip()
    )
    db.session.commit()
    if revoked:
        flash(message("app_password.revoked"), "success")
    else:
        flash(message("app_password.unknown"), "error")
    return redirect(_app_passwords_url(), code=303)


@bp.route("/security/app-passwords/revoke-all", methods=["POST"])
def revoke_all_app_passwords() -> Response:
    count = app_passwords.revoke_all(current_user, now=utcnow(), actor=current_user, ip=client_ip())
    db.session.commit()
    flash(message("app_password.all_revoked", count=count), "success")
    return redirect(_app_passwords_url(), code=303)
