"""Mandatory two-step: grace period from the first sign-in, forced connection, exemptions."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from extensions import db
from models import OtpDevice, TwoStepAccount, utcnow
from security import two_step
from security.messages import message
from tests.support import event_types, totp_code

EMPLOYEES = "2"


def _deadline() -> Any:
    return db.session.scalar(select(TwoStepAccount.grace_deadline))


def test_first_sign_in_starts_the_grace_period_and_shows_the_banner(
    client: Any, auth: Any, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    before = utcnow()
    assert auth.login("employee").headers["Location"] == "/my/"
    deadline = _deadline()
    assert before + timedelta(days=10) <= deadline <= utcnow() + timedelta(days=10)
    page = client.get("/my/").get_data(as_text=True)
    assert "Two-step authentication is required for your account" in page
    assert 'href="/my/security/connect"' in page
    assert "otp_grace_started" in event_types("employee")
    # The deadline is set once: a second sign-in does not move it.
    auth.logout()
    auth.login("employee")
    assert _deadline() == deadline


def test_the_banner_can_be_put_off_but_not_in_the_last_day(
    client: Any, auth: Any, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    auth.login("employee")
    assert client.post("/my/security/banner/dismiss", data={"next": "/my/"}).status_code == 303
    assert "Remind me later" not in client.get("/my/").get_data(as_text=True)
    db.session.execute(update(TwoStepAccount).values(grace_deadline=utcnow() + timedelta(hours=12)))
    db.session.commit()
    page = client.get("/my/").get_data(as_text=True)
    assert "Two-step authentication is required for your account" in page
    assert "Remind me later" not in page


def test_users_outside_the_chosen_groups_are_not_asked(
    client: Any, auth: Any, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=0, mandatory_groups="1")
    assert auth.login("employee").headers["Location"] == "/my/"
    assert "Two-step authentication is required" not in client.get("/my/").get_data(as_text=True)


def _connect_on_page(client: Any, url: str) -> Any:
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="connection" value="([^"]+)"', page)
    secret = re.search(r'aria-label="Secret key"><code>([A-Z2-7 ]+)</code>', page)
    assert token and secret
    import base64

    raw = secret.group(1).replace(" ", "")
    key = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return client.post(url, data={"connection": token.group(1), "code": totp_code(key)})


def test_after_the_deadline_the_password_leads_to_the_forced_connection(
    client: Any, auth: Any, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    auth.login("employee")
    auth.logout()
    db.session.execute(
        update(TwoStepAccount).values(grace_deadline=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    response = auth.login("employee")
    assert response.headers["Location"] == "/login/connect"
    page = client.get("/login/connect").get_data(as_text=True)
    assert message("otp.must_connect") in page
    assert client.get("/my/").headers["Location"] == "/login/connect"
    done = _connect_on_page(client, "/login/connect")
    assert done.status_code == 200
    body = done.get_data(as_text=True)
    assert body.count("<li><code>") == 10
    assert client.get("/my/").status_code == 200
    assert db.session.scalar(select(OtpDevice.user_id)) == employee.id


def test_zero_days_forces_the_connection_at_once(
    client: Any, auth: Any, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=0, mandatory_groups=EMPLOYEES)
    assert auth.login("employee").headers["Location"] == "/login/connect"


def test_a_wrong_code_at_the_forced_connection_keeps_the_same_secret(
    client: Any, auth: Any, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=0, mandatory_groups=EMPLOYEES)
    auth.login("employee")
    page = client.get("/login/connect").get_data(as_text=True)
    token = re.search(r'name="connection" value="([^"]+)"', page)
    secret = re.search(r'aria-label="Secret key"><code>([A-Z2-7 ]+)</code>', page)
    assert token and secret
    response = client.post("/login/connect", data={"connection": token.group(1), "code": "000000"})
    assert response.status_code == 400
    assert secret.group(1) in response.get_data(as_text=True)
    assert db.session.scalar(select(OtpDevice.id)) is None
    assert client.get("/my/").headers["Location"] == "/login/connect"


def test_an_exemption_lets_the_user_in_until_its_date(
    client: Any, auth: Any, employee: Any, admin: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=0, mandatory_groups=EMPLOYEES)
    two_step.exempt(employee, utcnow() + timedelta(days=3), now=utcnow(), actor=admin, ip="t")
    db.session.commit()
    assert auth.login("employee").headers["Location"] == "/my/"
    auth.logout()
    db.session.execute(update(TwoStepAccount).values(exempt_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert auth.login("employee").headers["Location"] == "/login/connect"
    assert "otp_exempted" in event_types("employee")


def test_more_days_to_connect_open_the_door_again(
    client: Any, auth: Any, employee: Any, admin: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=0, mandatory_groups=EMPLOYEES)
    assert auth.login("employee").headers["Location"] == "/login/connect"
    client.post("/login/cancel")
    deadline = two_step.extend_grace(employee, 5, now=utcnow(), actor=admin, ip="t")
    db.session.commit()
    assert deadline > utcnow() + timedelta(days=4)
    assert auth.login("employee").headers["Location"] == "/my/"
    assert "otp_grace_extended" in event_types("employee")


def test_a_user_cannot_disable_mandatory_two_step(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    connect_device(employee)
    auth.login("employee")
    client.post("/login/otp", data={"code": totp_code()})
    response = client.post("/my/security/disable")
    assert response.status_code == 403
    device = db.session.scalar(select(OtpDevice))
    assert device is not None and device.enabled
    assert "otp_disabled" in event_types("employee")


@pytest.mark.parametrize("days", [1, 30])
def test_an_administrator_may_still_disable_it_for_a_while(
    employee: Any, admin: Any, two_step_on: Any, connect_device: Any, days: int
) -> None:
    settings = two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    connect_device(employee)
    until = two_step.disable(
        employee, days=days, now=utcnow(), actor=admin, ip="t", settings=settings
    )
    db.session.commit()
    device = db.session.scalar(select(OtpDevice))
    assert until is not None and device is not None
    assert not two_step.device_is_active(device, utcnow())
    assert two_step.device_is_active(device, until + timedelta(seconds=1))
