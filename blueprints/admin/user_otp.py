"""Admin user profile, tab "Two-step authentication": what administrators (and holders of
"Manage one-time passwords") do with another user's device.

Each view parses, calls one function of the two-step domain, commits, flashes and
redirects back to the tab. A refusal changes nothing: the session is rolled back,
except for the refusal events the domain records on purpose, which are committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time
from functools import wraps
from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from blueprints.admin import bp, requires_right
from extensions import db
from forms.auth import SubmitOnlyForm
from forms.tokens import InventoryConnectForm
from forms.two_step import AdminConnectForm, DaysForm, ExemptForm, SyncForm, TemporaryCodeForm
from models import OtpSettings, User, utcnow
from security import (
    app_passwords,
    device_connection,
    otp,
    recovery_code_store,
    remembered_computers,
    temporary_codes,
    token_inventory,
    two_step,
)
from security.device_connection import ConnectionInProgress
from security.messages import message
from security.otp_settings import load_settings
from security.two_step import TwoStepError
from web.connect_flow import ConnectScreen, new_codes_page, run_connect, steps_view
from web.guards import ViewFunc, confirmed, guard, recent_sign_in, refuse, two_step_on
from web.i18n import local_time_text
from web.refusals import answer_refusal
from web.signin_session import client_ip, current_session_id, require_recent_sign_in

SOURCES = ("mobile", "hardware")
KINDS = ("totp", "hotp")


# --- helpers -----------------------------------------------------------------------------


def _user_or_404(user_id: int) -> User:
    """Return the user whose two-step the current person may manage, or refuse.

    Holders of "Manage one-time passwords" who are not administrators act on other
    users, never on administrators: connecting a device of their own, making recovery
    codes or switching two-step off would give them an administrator's second step.
    """
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if user.is_admin and not current_user.is_admin:
        abort(403)  # logged as access_denied by the error handler
    return user


def tab_url(user: User) -> str:
    """Return where the tab lives for the current person (the profile form is admin-only)."""
    if current_user.is_admin:
        return url_for("admin.edit_user", user_id=user.id, tab="otp")
    return url_for("admin.user_otp", user_id=user.id)


def _back(user: User) -> Response:
    return redirect(tab_url(user), code=303)


def target_user(view: ViewFunc) -> ViewFunc:
    """Give the view the user of the URL's `user_id` that the current person may manage."""

    @wraps(view)
    def with_user(user_id: int) -> ResponseReturnValue:
        return view(user=_user_or_404(user_id))

    return cast(ViewFunc, with_user)


def acts_on_user(*, recent: bool = False, confirm: bool = False) -> Callable[[ViewFunc], ViewFunc]:
    """Guard a view of the tab: the target user, then for a change (POST) two-step on,
    and as asked a recent sign-in and the "I understand" tick, each refused back to the tab.
    """

    def decorate(view: ViewFunc) -> ViewFunc:
        if confirm:
            view = confirmed(tab_url)(view)
        if recent:
            view = recent_sign_in(tab_url, post_only=True)(view)
        return target_user(two_step_on(tab_url, post_only=True)(view))

    return decorate


def otp_tab_context(user: User, **forms: FlaskForm) -> dict[str, Any]:
    """Return what the tab shows: the state, the facts and one form per action."""
    now = utcnow()
    settings = load_settings()
    device = two_step.device_of(user.id)
    account = two_step.account_of(user.id)
    disable_form = forms.get("disable_form") or DaysForm(formdata=None, data={"days": 0})
    disable_form.days.id = "disable-days"
    defer_form = forms.get("defer_form") or DaysForm(formdata=None, data={"days": 7})
    defer_form.days.id = "defer-days"
    sync_form = forms.get("sync_form") or SyncForm(formdata=None)
    sync_form.code.id, sync_form.code2.id = "sync-code", "sync-code2"
    exempt_form = forms.get("exempt_form") or ExemptForm(formdata=None)
    temporary_form = forms.get("temporary_form") or TemporaryCodeForm(
        formdata=None, data={"hours": "8"}
    )
    temporary_form.hours.id = "temporary-hours"
    return {
        "settings": settings,
        "enabled": settings.enabled,
        "device": device,
        "account": account,
        "status": two_step.status_of(user, settings, device, account, now),
        "device_active": device is not None and two_step.device_is_active(device, now),
        "mandatory": two_step.is_mandatory_for(user, settings, account, now),
        "locked": two_step.is_locked(account, now),
        "exempt": two_step.is_exempt(account, now),
        "drift_seconds": device.drift * device.period if device and device.kind == "totp" else None,
        "recovery_left": recovery_code_store.recovery_codes_left(user.id),
        "computers": remembered_computers.list_remembered(user.id, now=now),
        "max_disable_days": two_step.MAX_DISABLE_DAYS,
        "disable_form": disable_form,
        "defer_form": defer_form,
        "sync_form": sync_form,
        "exempt_form": exempt_form,
        "temporary_code": temporary_codes.active_code(user.id, now=now),
        "temporary_form": temporary_form,
        "max_temporary_hours": temporary_codes.MAX_HOURS,
        "button_form": SubmitOnlyForm(formdata=None),
        "app_passwords": app_passwords.app_passwords_of(user.id),
        "now": now,
    }


def _tab_page(user: User, status: int, **forms: FlaskForm) -> tuple[str, int]:
    """Show the tab again (on its own page) with a form's messages next to its fields."""
    return render_template(
        "admin/user_otp.html", user=user, otp_tab=otp_tab_context(user, **forms)
    ), status


def _refused(user: User, error: TwoStepError, **forms: FlaskForm) -> ResponseReturnValue:
    """Answer a refusal: 403, its sentence next to the field of the form sent, or a flash."""
    form = next(iter(forms.values()), None)
    return answer_refusal(
        error, back=tab_url(user), form=form, page=lambda: _tab_page(user, 400, **forms)
    )


# --- the tab on its own page (holders of the right who are not administrators) -------------


@bp.route("/users/<int:user_id>/otp")
@requires_right("manage_otp")
@acts_on_user()
def user_otp(user: User) -> tuple[str, int]:
    return _tab_page(user, 200)


# --- connecting ------------------------------------------------------------------------------


@bp.route("/users/<int:user_id>/otp/connect", methods=["GET", "POST"])
@requires_right("manage_otp")
@acts_on_user(recent=True)
def user_otp_connect(user: User) -> ResponseReturnValue:
    settings = load_settings()
    # Connecting a device for someone, first or replacing, needs a recent sign-in, as on
    # My page: a stale session must not bind an attacker's authenticator to a user. The
    # page (GET) asks already, and comes back to the option chosen.
    if request.method == "GET" and settings.enabled:
        refusal = require_recent_sign_in(request.full_path)
        if refusal is not None:
            return refusal
    now = utcnow()
    if request.values.get("source") == "inventory":
        return _inventory_connect(user, settings, now)
    screen = _connect_screen(user, AdminConnectForm(), settings, now)
    return run_connect(screen, settings=settings, now=now)


def _inventory_connect(user: User, settings: OtpSettings, now: datetime) -> ResponseReturnValue:
    """A token of the inventory becomes the user's device, proven by the codes it shows."""
    form = InventoryConnectForm()

    def page(status: int) -> tuple[str, int]:
        return render_template(
            "admin/user_otp_connect.html",
            user=user,
            form=form,
            view=None,
            source="inventory",
            kind="",
            enabled=settings.enabled,
            replacing=two_step.device_of(user.id) is not None,
            secret_format=None,
            shelf=token_inventory.unassigned_serials(),
            back=tab_url(user),
        ), status

    if request.method != "POST":
        form.serial.data = request.args.get("serial", "")[:64]
        return page(200)
    if not settings.enabled:
        return page(400)
    if not form.validate_on_submit():
        return page(400)
    try:
        connected = token_inventory.assign(
            user,
            form.serial.data or "",
            form.code.data or "",
            form.code2.data or "",
            now=now,
            settings=settings,
            actor=current_user,
            ip=client_ip(),
            keep_session_id=current_session_id(),
        )
    except TwoStepError as error:
        db.session.commit()  # the failed attempt's event stays on record; nothing else changed
        form[error.field or "code"].errors = [error.text]
        return page(409 if error.status == 409 else 400)
    db.session.commit()
    flash(message("tokens.assigned", serial=(form.serial.data or "").strip()), "success")
    return new_codes_page(
        user,
        connected.recovery_codes,
        issuer=settings.issuer,
        now=now,
        continue_url=tab_url(user),
        clock_offset=connected.clock_offset,
    )


def _connect_screen(
    user: User, form: AdminConnectForm, settings: OtpSettings, now: datetime
) -> ConnectScreen:
    """The tab's connection options: an app (the shared steps) or a hardware token."""
    source = request.values.get("source", "mobile")
    source = source if source in SOURCES else "mobile"
    kind = request.values.get("type", settings.default_type)
    kind = kind if kind in KINDS else settings.default_type
    hardware = source == "hardware"

    def show(connection: ConnectionInProgress | None, status: int) -> tuple[str, int]:
        view = None
        if settings.enabled and not hardware:
            view = steps_view(connection, user, kind, settings, now=now)
        form.source.data, form.type.data = source, view.kind if view else kind
        return render_template(
            "admin/user_otp_connect.html",
            user=user,
            form=form,
            view=view,
            source=source,
            kind=form.type.data,
            enabled=settings.enabled,
            replacing=two_step.device_of(user.id) is not None,
            # After codes that did not match, say how the secret was read.
            secret_format=_secret_read_as(form) if hardware and connection else None,
            back=tab_url(user),
        ), status

    def hardware_connected_text() -> str:
        return f"{message('otp.connected')} {_secret_read_as(form)}"

    screen = ConnectScreen(
        user=user,
        actor=current_user,
        form=form,
        show=show,
        expired_url=url_for("admin.user_otp_connect", user_id=user.id, source=source, type=kind),
        done_url=tab_url(user),
        keep_session_id=current_session_id(),
    )
    if hardware:
        screen = replace(
            screen,
            start=lambda _form, _user, _now: _hardware_connection(form, user, kind),
            connected_text=hardware_connected_text,
        )
    return screen


def _hardware_connection(
    form: AdminConnectForm, user: User, kind: str
) -> ConnectionInProgress | None:
    """Start a hardware token's connection from its own secret, or mark what is wrong."""
    secret_text = (form.secret.data or "").strip()
    if not secret_text and not form.secret.errors:
        form.secret.errors = [message("form.required")]
    if form.errors:
        return None
    try:
        secret, _secret_format = otp.parse_hardware_secret(secret_text)
    except otp.InvalidSecret as error:
        form.secret.errors = [str(error)]  # the catalog's sentence, from the domain
        return None
    algorithm = form.algorithm.data or "auto"
    if algorithm == "auto":
        algorithm = otp.default_algorithm_for_secret(secret)
    return device_connection.new_connection(
        user,
        form.type.data or kind,
        source="hardware",
        secret=secret,
        digits=int(form.digits.data or 6),
        period=int(form.period.data or 30),
        t0=int(form.start_time.data or 0),
        algorithm=algorithm,
    )


# Catalog keys of the secret formats' names.
FORMAT_NAMES = {"hex": "otp.format_hex", "base32": "otp.format_base32"}


def _secret_read_as(form: AdminConnectForm) -> str:
    """Say how the token's secret was read (hex or base32), for the person to check."""
    _secret, secret_format = otp.parse_hardware_secret((form.secret.data or "").strip())
    name = FORMAT_NAMES.get(secret_format)
    return message("otp.hardware_secret_read", format=message(name) if name else secret_format)


# --- the other actions ---------------------------------------------------------------------


@bp.route("/users/<int:user_id>/otp/disable", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user(recent=True, confirm=True)
def user_otp_disable(user: User) -> ResponseReturnValue:
    form = DaysForm()
    if not form.validate_on_submit():
        return _tab_page(user, 400, disable_form=form)
    try:
        until = two_step.disable(
            user,
            days=int(form.days.data or 0),
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
            settings=load_settings(),
            keep_session_id=current_session_id(),
        )
    except TwoStepError as error:
        return _refused(user, error, disable_form=form)
    db.session.commit()
    if until is None:
        flash(message("otp.disabled_forever"), "success")
    else:
        flash(message("otp.disabled", until=local_time_text(until)), "success")
    return _back(user)


@bp.route("/users/<int:user_id>/otp/enable", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user()
def user_otp_enable(user: User) -> ResponseReturnValue:
    try:
        two_step.enable(user, now=utcnow(), actor=current_user, ip=client_ip())
    except TwoStepError as error:
        return _refused(user, error)
    db.session.commit()
    flash(message("otp.reenabled"), "success")
    return _back(user)


@bp.route("/users/<int:user_id>/otp/sync", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user()
def user_otp_sync(user: User) -> ResponseReturnValue:
    form = SyncForm()
    if not form.validate_on_submit():
        return _tab_page(user, 400, sync_form=form)
    try:
        device = two_step.synchronize(
            user,
            form.code.data or "",
            form.code2.data or "",
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
        )
    except TwoStepError as error:
        return _refused(user, error, sync_form=form)
    db.session.commit()
    text = message("otp.synchronized")
    if device.kind == "totp":
        text += " " + message("otp.clock_drift", seconds=f"{device.drift * device.period:+d}")
    flash(text, "success")
    return _back(user)


@bp.route("/users/<int:user_id>/otp/defer", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user()
def user_otp_defer(user: User) -> ResponseReturnValue:
    form = DaysForm()
    if not form.validate_on_submit():
        return _tab_page(user, 400, defer_form=form)
    try:
        deadline = two_step.extend_grace(
            user, int(form.days.data or 0), now=utcnow(), actor=current_user, ip=client_ip()
        )
    except TwoStepError as error:
        return _refused(user, error, defer_form=form)
    db.session.commit()
    flash(message("otp.grace_extended", deadline=local_time_text(deadline)), "success")
    return _back(user)


@bp.route("/users/<int:user_id>/otp/exempt", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user()
def user_otp_exempt(user: User) -> ResponseReturnValue:
    form = ExemptForm()
    if not form.validate_on_submit():
        return _tab_page(user, 400, exempt_form=form)
    day = form.until.data
    until = datetime.combine(day, time.min, tzinfo=UTC) if day else None
    try:
        two_step.exempt(user, until, now=utcnow(), actor=current_user, ip=client_ip())
    except TwoStepError as error:
        return _refused(user, error, exempt_form=form)
    db.session.commit()
    if until is None:
        flash(message("otp.exemption_ended"), "success")
    else:
        flash(message("otp.exempted", until=local_time_text(until, style="date")), "success")
    return _back(user)


@bp.route("/users/<int:user_id>/otp/unlock", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user()
def user_otp_unlock(user: User) -> ResponseReturnValue:
    two_step.unlock(user, now=utcnow(), actor=current_user, ip=client_ip())
    db.session.commit()
    flash(message("otp.unlocked"), "success")
    return _back(user)


@bp.route("/users/<int:user_id>/otp/delete", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user(recent=True, confirm=True)
def user_otp_delete(user: User) -> ResponseReturnValue:
    try:
        two_step.remove_device(
            user,
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
            keep_session_id=current_session_id(),
        )
    except TwoStepError as error:
        return _refused(user, error)
    db.session.commit()
    flash(message("otp.deleted"), "success")
    return _back(user)


@bp.route("/users/<int:user_id>/otp/forget-computers", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user()
def user_otp_forget_computers(user: User) -> ResponseReturnValue:
    remembered_computers.forget_computers(user, now=utcnow(), actor=current_user, ip=client_ip())
    db.session.commit()
    flash(message("otp.computers_forgotten"), "success")
    return _back(user)


@bp.route("/users/<int:user_id>/otp/temporary-code", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user(recent=True)
def user_otp_temporary_code(user: User) -> ResponseReturnValue:
    # A code that signs in without the device: as sensitive as connecting one, so it needs
    # a recent sign-in. It is shown once, on this answer (never again, never in a URL).
    form = TemporaryCodeForm()
    if not form.validate_on_submit():
        return _tab_page(user, 400, temporary_form=form)
    try:
        code, until = temporary_codes.issue(
            user,
            form.hours_value,
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
            settings=load_settings(),
        )
    except TwoStepError as error:
        return _refused(user, error, temporary_form=form)
    db.session.commit()
    return render_template(
        "admin/temporary_code.html", user=user, code=code, until=until, back=tab_url(user)
    ), 200


@bp.route("/users/<int:user_id>/otp/temporary-code/revoke", methods=["POST"])
@requires_right("manage_otp")
@acts_on_user()
def user_otp_temporary_code_revoke(user: User) -> ResponseReturnValue:
    try:
        temporary_codes.revoke(user, now=utcnow(), actor=current_user, ip=client_ip())
    except TwoStepError as error:
        return _refused(user, error)
    db.session.commit()
    flash(message("otp.temporary_code_revoked"), "success")
    return _back(user)


def _recovery_codes_url(user: User) -> str:
    return url_for("admin.user_recovery_codes", user_id=user.id)


def _new_codes_refusal(view_args: dict[str, Any]) -> ResponseReturnValue | None:
    """Refuse new recovery codes where the settings or a missing device do not allow them."""
    user = view_args["user"]
    if not load_settings().allow_recovery_codes:
        return refuse("otp.recovery_not_allowed", tab_url(user))
    if two_step.device_of(user.id) is None:
        return refuse("otp.no_device", tab_url(user))
    return None


@bp.route("/users/<int:user_id>/recovery-codes", methods=["GET", "POST"])
@requires_right("manage_otp")
@acts_on_user()
@guard(_new_codes_refusal, post_only=True)
@confirmed(_recovery_codes_url)
@recent_sign_in(_recovery_codes_url, post_only=True)
def user_recovery_codes(user: User) -> ResponseReturnValue:
    settings = load_settings()
    if request.method == "POST":
        now = utcnow()
        codes = recovery_code_store.generate_recovery_codes(
            user, now=now, actor=current_user, ip=client_ip()
        )
        db.session.commit()
        return new_codes_page(
            user, codes, issuer=settings.issuer, now=now, continue_url=tab_url(user)
        )
    return render_template(
        "admin/recovery_codes.html",
        user=user,
        enabled=settings.enabled,
        allowed=settings.allow_recovery_codes,
        has_device=two_step.device_of(user.id) is not None,
        rows=recovery_code_store.recovery_code_rows(user.id),
        left=recovery_code_store.recovery_codes_left(user.id),
        back=tab_url(user),
    ), 200
