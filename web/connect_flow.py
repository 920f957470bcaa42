"""Connecting a device, written once for every screen that does it.

My page, the administrator's tab (mobile and hardware) and the forced connection at
sign-in run the same flow: start (a page with a new secret, or the connection the form
carries), show, confirm, and then expired, already connected or connected with the new
recovery codes shown once. A screen gives only what differs, as a ConnectScreen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from extensions import db
from forms.two_step import ConnectForm
from models import OtpSettings, User
from security import device_connection, otp
from security.device_connection import (
    AlreadyConnected,
    Connected,
    ConnectionExpired,
    ConnectionInProgress,
)
from security.messages import message
from security.two_step import TwoStepError
from web.signin_session import client_ip


@dataclass(frozen=True)
class ConnectionView:
    """What the connection steps show: QR code, secret, otpauth link, time, code fields."""

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


def steps_view(
    connection: ConnectionInProgress | None,
    user: User,
    kind: str,
    settings: OtpSettings,
    *,
    now: datetime,
) -> ConnectionView:
    """Show the connection in progress again (the user has scanned it), or a new one."""
    connection = connection or device_connection.new_connection(user, kind)
    return connection_view(connection, user, settings, now=now)


def connection_from_token(form: ConnectForm, user: User, now: datetime) -> ConnectionInProgress:
    """Read the connection in progress from the page's sealed hidden field."""
    return device_connection.open_connection(form.connection.data or "", user, now=now)


def _connected_text() -> str | None:
    return message("otp.connected")


# The page of a screen: the connection being made (None: start a new one) and the status.
ShowPage = Callable[[ConnectionInProgress | None, int], ResponseReturnValue]
# Builds the connection to confirm from the form; None when the form is wrong (marked).
StartConnection = Callable[[ConnectForm, User, datetime], ConnectionInProgress | None]


@dataclass(frozen=True)
class ConnectScreen:
    """What one screen gives the connect flow; everything else is the same everywhere."""

    user: User
    actor: User
    form: ConnectForm
    show: ShowPage
    # Where a connection that expired starts over, and where the person goes afterwards.
    expired_url: str
    done_url: str
    # The browser session that connecting a device must not sign out.
    keep_session_id: str | None = None
    start: StartConnection = connection_from_token
    # The flash that says it worked (None: the codes page says it alone).
    connected_text: Callable[[], str | None] = _connected_text
    # Completes the success (by default: commits it). Returns a response to answer
    # instead of the codes, e.g. when a sign-in that should finish cannot.
    complete: Callable[[], ResponseReturnValue | None] | None = None
    # Answers a second submission of a connection that already stored the device.
    already_connected: Callable[[], ResponseReturnValue] | None = None


def run_connect(
    screen: ConnectScreen, *, settings: OtpSettings, now: datetime
) -> ResponseReturnValue:
    """Show the page (GET) or confirm the connection the form carries (POST)."""
    if request.method != "POST":
        return screen.show(None, 200)
    form = screen.form
    valid = form.validate_on_submit()
    connection: ConnectionInProgress | None = None
    try:
        connection = screen.start(form, screen.user, now)
        if connection is None or not valid:
            db.session.commit()
            return screen.show(connection, 400)
        connected = device_connection.confirm_connection(
            connection,
            screen.user,
            form.code.data or "",
            form.code2.data or "",
            now=now,
            settings=settings,
            actor=screen.actor,
            ip=client_ip(),
            keep_session_id=screen.keep_session_id,
        )
    except AlreadyConnected:
        db.session.commit()
        return _already_connected(screen)
    except ConnectionExpired:
        db.session.commit()
        flash(message("otp.connection_expired"), "error")
        return redirect(screen.expired_url, code=303)
    except TwoStepError as error:
        db.session.commit()  # the failed attempt's event stays on record
        form[error.field or "code"].errors = [error.text]
        return screen.show(connection, 400)
    return _connected(screen, connected, settings=settings, now=now)


def _already_connected(screen: ConnectScreen) -> ResponseReturnValue:
    # The form was sent twice: neither connect again nor show the secret again.
    if screen.already_connected is not None:
        return screen.already_connected()
    flash(message("otp.already_connected"), "info")
    return redirect(screen.done_url, code=303)


def _connected(
    screen: ConnectScreen, connected: Connected, *, settings: OtpSettings, now: datetime
) -> ResponseReturnValue:
    if screen.complete is None:
        db.session.commit()
    else:
        instead = screen.complete()
        if instead is not None:
            return instead
    text = screen.connected_text()
    if text:
        flash(text, "success")
    return new_codes_page(
        screen.user,
        connected.recovery_codes,
        issuer=settings.issuer,
        now=now,
        continue_url=screen.done_url,
        clock_offset=connected.clock_offset,
    )


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
