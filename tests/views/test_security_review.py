"""Holes found in the security review, each kept shut by a test that failed before its fix."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from extensions import db
from models import OtpDevice, TwoStepAccount, utcnow
from security import second_step, two_step
from tests.support import (
    CONNECTION_INPUT,
    RFC_SECRET,
    SECRET_SHOWN,
    events_of,
    sign_in,
    snapshot,
    totp_code,
    without_events,
)

EMPLOYEES = "2"


# --- a manager of one-time passwords is not an administrator ---------------------------------


def test_a_manager_cannot_take_over_an_administrators_second_step(
    two_step_on: Any, manager_client: Any, admin: Any, employee: Any, connect_device: Any
) -> None:
    """Connecting their own device, new recovery codes or switching two-step off for an
    administrator would give a help-desk member the administrator's second step."""
    two_step_on()
    connect_device(admin)
    before = snapshot()
    base = f"/admin/users/{admin.id}"
    hardware = {
        "source": "hardware",
        "type": "totp",
        "secret": RFC_SECRET.hex(),
        "digits": "6",
        "period": "30",
        "start_time": "0",
        "algorithm": "auto",
        "code": totp_code(RFC_SECRET),
    }
    refused = [
        manager_client.get(f"{base}/otp"),
        manager_client.get(f"{base}/otp/connect"),
        manager_client.post(f"{base}/otp/connect", data=hardware),
        manager_client.post(f"{base}/otp/disable", data={"days": "0"}),
        manager_client.post(f"{base}/otp/delete"),
        manager_client.post(f"{base}/otp/unlock"),
        manager_client.post(f"{base}/otp/exempt", data={"until": ""}),
        manager_client.post(f"{base}/otp/forget-computers"),
        manager_client.get(f"{base}/recovery-codes"),
        manager_client.post(f"{base}/recovery-codes"),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert without_events(snapshot()) == without_events(before)
    [denied] = events_of("access_denied")  # one row per client and minute, counting them
    assert denied.count == len(refused)
    # Other users stay theirs to manage.
    assert manager_client.get(f"/admin/users/{employee.id}/otp").status_code == 200


# --- the forced connection never replaces a device -------------------------------------------


def test_forced_connection_stops_once_a_device_is_connected(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    """Someone with only the password, halfway at /login/connect, must not replace the
    device the user (or an administrator) connected meanwhile."""
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    auth.login("employee")
    auth.logout()
    db.session.execute(
        update(TwoStepAccount).values(grace_deadline=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    assert auth.login("employee").headers["Location"] == "/login/connect"
    page = client.get("/login/connect").get_data(as_text=True)
    token, secret = CONNECTION_INPUT.search(page), SECRET_SHOWN.search(page)
    assert token and secret
    raw = secret.group(1).replace(" ", "")
    attacker_key = base64.b32decode(raw + "=" * (-len(raw) % 8))

    connect_device(employee)  # the real owner connects their phone
    db.session.expire_all()
    owners_device = db.session.scalar(select(OtpDevice.id))

    response = client.post(
        "/login/connect", data={"connection": token.group(1), "code": totp_code(attacker_key)}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    db.session.expire_all()
    device = two_step.device_of(employee.id)
    assert device is not None and device.id == owners_device
    assert client.get("/my/").status_code == 302


# --- a burst of guesses sent at once -----------------------------------------------------------


def test_a_lock_set_by_a_concurrent_guess_refuses_the_right_code(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any, monkeypatch: Any
) -> None:
    """Guesses sent together all read "not locked" before any of them fails; the one that
    is right must still be refused once the others have locked the step."""
    two_step_on()
    connect_device(employee)
    assert auth.login("employee").headers["Location"] == "/login/otp"
    two_step.ensure_account(employee.id)
    db.session.commit()
    read_state = second_step._sign_in_state

    def read_then_others_lock(user_id: int) -> Any:
        state = read_state(user_id)  # this request sees no lock...
        with db.engine.begin() as other:  # ...then the burst's failures lock the step
            other.execute(
                update(TwoStepAccount).values(
                    failed_attempts=5, locked_until=utcnow() + timedelta(minutes=15)
                )
            )
        return state

    monkeypatch.setattr(second_step, "_sign_in_state", read_then_others_lock)
    response = client.post("/login/otp", data={"code": totp_code()})
    assert response.status_code == 429
    assert client.get("/my/").status_code == 302


# --- the password asked again is limited as at /login ------------------------------------------


def test_the_password_asked_again_cannot_be_guessed_without_limit(
    app: Flask, employee: Any
) -> None:
    """A session left open on someone's computer must not be a free password oracle:
    re-authentication and the password change check the password as /login does."""
    client = app.test_client()
    assert sign_in(client, "employee").status_code == 303
    for number in range(5):
        assert client.post("/my/reauth", data={"password": f"guess {number}"}).status_code == 400
        wrong = {
            "current_password": f"guess {number}",
            "new_password": "a brand new password",
            "new_password_confirm": "a brand new password",
        }
        assert client.post("/my/security/password", data=wrong).status_code == 400
    # From another address too: the limit is per account.
    response = client.post(
        "/my/reauth",
        data={"password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert response.status_code == 429
    assert [event.outcome for event in events_of("reauthenticated")] == ["failure"] * 5
    assert len(events_of("rate_limited")) == 1


def test_an_administrator_cannot_switch_off_his_own_mandatory_two_step(
    app: Flask, admin: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups="1")
    connect_device(admin)
    client = app.test_client()
    client.post("/login", data={"login": "admin", "password": "correct horse battery"})
    assert client.post("/login/otp", data={"code": totp_code()}).status_code == 303
    response = client.post(f"/admin/users/{admin.id}/otp/disable", data={"days": "1"})
    assert response.status_code == 403
    db.session.expire_all()
    device = db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == admin.id))
    assert device is not None and device.enabled
    assert any(e.outcome == "refused" for e in events_of("otp_disabled"))
