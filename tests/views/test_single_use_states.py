"""A half-finished sign-in and a connection being made are each used once, on the server.

Before, the pending sign-in lived only in the signed cookie (a copy completed a second
sign-in within five minutes, even after logout or a password change), and the sealed
connection form could be submitted twice (replacing the device and the recovery codes
just shown) or again with a wrong code (showing the secret once more).
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from models import utcnow
from security.messages import message
from tests.support import CONNECTION_INPUT, SECRET_SHOWN, copy_of, sign_in, totp_code


@pytest.fixture
def password_accepted(app: Flask, two_step_on: Any, connect_device: Any, employee: Any) -> Any:
    """A browser whose password was accepted; the second step is pending."""
    two_step_on()
    connect_device(employee)
    client = app.test_client()
    response = sign_in(client, "employee")
    assert response.headers["Location"] == "/login/otp"
    return client


def _is_signed_in(client: Any) -> bool:
    return client.get("/my/").status_code == 200


def test_a_copy_of_the_pending_cookie_cannot_complete_a_second_sign_in(
    app: Flask, password_accepted: Any
) -> None:
    stolen = copy_of(password_accepted, app)
    done = password_accepted.post("/login/otp", data={"code": totp_code()})
    assert done.status_code == 303
    assert _is_signed_in(password_accepted)
    # A fresh code for the next time step, so only the pending state is in question.
    later = totp_code(at=utcnow() + timedelta(seconds=30))
    replay = stolen.post("/login/otp", data={"code": later})
    assert replay.status_code == 303
    assert replay.headers["Location"] == "/login"
    assert not _is_signed_in(stolen)


@pytest.mark.parametrize("ending", ["cancel", "logout"])
def test_cancel_and_logout_end_the_pending_sign_in_for_every_copy(
    app: Flask, password_accepted: Any, ending: str
) -> None:
    stolen = copy_of(password_accepted, app)
    path = "/login/cancel" if ending == "cancel" else "/logout"
    assert password_accepted.post(path).status_code == 303
    replay = stolen.post("/login/otp", data={"code": totp_code()})
    assert replay.status_code == 303
    assert replay.headers["Location"] == "/login"
    assert not _is_signed_in(stolen)


def test_a_password_change_ends_a_pending_sign_in(
    app: Flask, password_accepted: Any, admin_client: Any, employee: Any
) -> None:
    from extensions import db
    from security import accounts

    accounts.set_password(employee, "a brand new password", now=utcnow(), actor=None, ip="test")
    db.session.commit()
    replay = password_accepted.post("/login/otp", data={"code": totp_code()})
    assert replay.headers["Location"] == "/login"
    assert not _is_signed_in(password_accepted)


# --- a connection being made is spent by its first success ---------------------------------


def _connect_form(client: Any) -> tuple[str, bytes]:
    """Open the connect page; return its sealed connection and the secret it shows."""
    page = client.get("/my/security/connect").get_data(as_text=True)
    token = CONNECTION_INPUT.search(page)
    secret = SECRET_SHOWN.search(page)
    assert token and secret
    return token.group(1), base64.b32decode(secret.group(1).replace(" ", ""))


def _device_and_codes(user_id: int) -> tuple[Any, list[str]]:
    from extensions import db
    from models import OtpDevice, RecoveryCode

    db.session.expire_all()
    device = db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == user_id))
    digests = db.session.scalars(select(RecoveryCode.digest).where(RecoveryCode.user_id == user_id))
    return device, sorted(digests)


@pytest.fixture
def connecting(two_step_on: Any, employee_client: Any) -> tuple[Any, str, bytes]:
    two_step_on()
    token, secret = _connect_form(employee_client)
    return employee_client, token, secret


def test_sending_the_connect_form_twice_keeps_the_first_device_and_its_codes(
    connecting: tuple[Any, str, bytes], employee: Any
) -> None:
    client, token, secret = connecting
    form = {"connection": token, "code": totp_code(secret)}
    first = client.post("/my/security/connect", data=form)
    assert first.status_code == 200
    assert 'class="recovery-codes"' in first.get_data(as_text=True)
    device, codes = _device_and_codes(employee.id)
    assert device is not None and len(codes) == 10

    again = client.post("/my/security/connect", data=form)
    assert again.status_code == 303
    assert again.headers["Location"] == "/my/security"
    assert 'class="recovery-codes"' not in again.get_data(as_text=True)
    assert message("otp.already_connected") in client.get("/my/security").get_data(as_text=True)
    device_after, codes_after = _device_and_codes(employee.id)
    assert device_after.id == device.id
    assert codes_after == codes


def test_a_spent_connect_form_with_a_wrong_code_does_not_show_the_secret_again(
    connecting: tuple[Any, str, bytes], employee: Any
) -> None:
    client, token, secret = connecting
    assert (
        client.post(
            "/my/security/connect", data={"connection": token, "code": totp_code(secret)}
        ).status_code
        == 200
    )
    wrong = client.post("/my/security/connect", data={"connection": token, "code": "000000"})
    assert wrong.status_code == 303
    shown = wrong.get_data(as_text=True) + client.get(wrong.headers["Location"]).get_data(
        as_text=True
    )
    assert base64.b32encode(secret).decode()[:8] not in shown.replace(" ", "")
    assert CONNECTION_INPUT.search(shown) is None


def test_of_two_confirmations_of_one_connection_only_the_first_stores_a_device(
    app: Flask, two_step_on: Any, employee: Any
) -> None:
    """The referee is the database, not the page: even past the page's own check (two
    submissions in flight at once), the second is refused and changes nothing."""
    from extensions import db
    from security import device_connection, two_step
    from security.otp_settings import load_settings

    settings = two_step_on()
    connection = device_connection.new_connection(employee, "totp")
    now = utcnow()
    device_connection.confirm_connection(
        connection,
        employee,
        totp_code(connection.secret, now),
        now=now,
        settings=load_settings(),
        actor=employee,
        ip="test",
    )
    db.session.commit()
    device, codes = _device_and_codes(employee.id)
    with pytest.raises(two_step.TwoStepError) as refused:
        device_connection.confirm_connection(
            connection,
            employee,
            totp_code(connection.secret, now + timedelta(seconds=30)),
            now=now + timedelta(seconds=30),
            settings=settings,
            actor=employee,
            ip="test",
        )
    assert refused.value.key == "otp.already_connected"
    db.session.commit()
    assert _device_and_codes(employee.id) == (device, codes)
