"""A half-finished sign-in and a connection being made are each used once, on the server.

Before, the pending sign-in lived only in the signed cookie (a copy completed a second
sign-in within five minutes, even after logout or a password change), and the sealed
connection form could be submitted twice (replacing the device and the recovery codes
just shown) or again with a wrong code (showing the secret once more).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from web_support import copy_of, sign_in

from models import utcnow
from tests.conftest import totp_code


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
