"""What every connection page shows: QR code, secret, otpauth link, time, code fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from markupsafe import Markup

from forms.two_step import ConnectForm
from models import OtpSettings, User
from security import device_connection, otp
from security.device_connection import ConnectionInProgress
from security.two_step import TwoStepError


@dataclass(frozen=True)
class ConnectionView:
    qr_svg: Markup
    secret: str
    uri: str
    kind: str
    token: str
    server_time: datetime
    digits: int
    period: int


def connection_view(
    connection: ConnectionInProgress, user: User, settings: OtpSettings, *, now: datetime
) -> ConnectionView:
    """Prepare a connection in progress for the page; the secret goes nowhere else."""
    uri = device_connection.provisioning_uri(connection, settings.issuer, user.login)
    return ConnectionView(
        # The SVG is made by the qrcode library from our own URI, not from user markup.
        qr_svg=Markup(otp.qr_svg(uri)),  # noqa: S704
        secret=otp.secret_for_display(connection.secret),
        uri=uri,
        kind=connection.params.kind,
        token=connection.seal(now),
        server_time=now,
        digits=connection.params.digits,
        period=connection.params.period,
    )


@dataclass(frozen=True)
class ConnectAttempt:
    """What a connection page does with a request: show the page, or it connected."""

    connection: ConnectionInProgress | None
    connected: device_connection.Connected | None = None
    expired: bool = False
    # The form's connection stored a device already (a second submission): the page
    # must neither connect again nor show the secret again.
    already_connected: bool = False


def attempt_connection(
    form: ConnectForm,
    user: User,
    *,
    actor: User,
    settings: OtpSettings,
    now: datetime,
    ip: str,
    is_post: bool,
    keep_session_id: str | None = None,
) -> ConnectAttempt:
    """On POST, confirm the connection in progress from the form; on GET, nothing yet.

    A form error keeps the same secret (the user has already scanned it); only an
    expired or foreign connection token starts over.
    """
    if not is_post:
        return ConnectAttempt(connection=None)
    try:
        connection = device_connection.open_connection(form.connection.data or "", user, now=now)
    except TwoStepError as error:
        return _refused(error)
    if not form.validate_on_submit():
        return ConnectAttempt(connection=connection)
    try:
        connected = device_connection.confirm_connection(
            connection,
            user,
            form.code.data or "",
            form.code2.data or "",
            now=now,
            settings=settings,
            actor=actor,
            ip=ip,
            keep_session_id=keep_session_id,
        )
    except TwoStepError as error:
        if error.key == ALREADY_CONNECTED:
            return _refused(error)
        getattr(form, error.field or "code").errors = [error.text]
        return ConnectAttempt(connection=connection)
    return ConnectAttempt(connection=connection, connected=connected)


ALREADY_CONNECTED = "otp.already_connected"


def _refused(error: TwoStepError) -> ConnectAttempt:
    if error.key == ALREADY_CONNECTED:
        return ConnectAttempt(connection=None, already_connected=True)
    return ConnectAttempt(connection=None, expired=True)


def new_codes_page(
    user: User,
    codes: list[str],
    *,
    issuer: str,
    now: datetime,
    continue_url: str,
    clock_offset: str | None = None,
) -> tuple[str, int]:
    """Show freshly made recovery codes, once (after connecting or generating)."""
    return render_template(
        "mypage/recovery_codes_new.html",
        codes=codes,
        user=user,
        issuer=issuer,
        now=now,
        clock_offset=clock_offset,
        continue_url=continue_url,
    ), 200
