"""Mandatory two-step and remembered computers hold as the settings say.

Before: a device its owner switched off before two-step became mandatory let the password
alone in; a manager of one-time passwords could exempt themselves, extend their own grace
or remove their own device; remembered computers kept skipping the code after the
setting was switched off or shortened.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from extensions import db
from models import Group, OtpDevice, RememberedComputer, TwoStepAccount, utcnow
from security import two_step
from security.messages import message
from tests.support import events_of, otp_settings_form, sign_in, totp_code

EMPLOYEES = "2"


def _device(user: Any) -> OtpDevice:
    db.session.expire_all()
    device = two_step.device_of(user.id)
    assert device is not None
    return device


def _switch_off_until_re_enabled(user: Any) -> None:
    """As the owner did on My page while two-step was not mandatory for them."""
    db.session.execute(
        update(OtpDevice)
        .where(OtpDevice.user_id == user.id)
        .values(enabled=False, disabled_until=None)
    )
    db.session.commit()


def _status(admin_client: Any, user: Any) -> str:
    page = admin_client.get("/admin/users").get_data(as_text=True)
    marker = f'<tr data-user-id="{user.id}" data-otp-status="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


# --- item 2: a device its owner switched off does not let a mandatory user in -------------


def test_an_own_switch_off_does_not_let_a_mandatory_user_in_with_the_password_alone(
    app: Flask, two_step_on: Any, connect_device: Any, employee: Any, admin_client: Any
) -> None:
    two_step_on()
    connect_device(employee)
    _switch_off_until_re_enabled(employee)
    two_step_on(mandatory=True, mandatory_groups=EMPLOYEES, mandatory_days=5)
    client = app.test_client()
    response = sign_in(client, "employee")
    assert response.headers["Location"] == "/login/otp"
    assert client.get("/my/").headers["Location"] == "/login/otp"
    # The list and the overview say what the sign-in does: the code is asked for.
    assert _status(admin_client, employee) == "active"
    # The code signs in and switches the device back on.
    assert client.post("/login/otp", data={"code": totp_code()}).status_code == 303
    assert client.get("/my/").status_code == 200
    assert _device(employee).enabled
    [reenabled] = events_of("otp_reenabled")
    assert reenabled.details == "reason=mandatory"


def test_an_administrators_switch_off_with_an_end_date_still_lets_a_mandatory_user_in(
    app: Flask, two_step_on: Any, connect_device: Any, employee: Any, admin_client: Any
) -> None:
    two_step_on(mandatory=True, mandatory_groups=EMPLOYEES, mandatory_days=5)
    connect_device(employee)
    response = admin_client.post(f"/admin/users/{employee.id}/otp/disable", data={"days": "3"})
    assert response.status_code == 303
    assert _status(admin_client, employee) == "disabled"
    assert sign_in(app.test_client(), "employee").headers["Location"] == "/my/"


def test_an_administrator_cannot_switch_a_mandatory_user_off_until_re_enabled(
    two_step_on: Any, connect_device: Any, employee: Any, admin_client: Any
) -> None:
    """That switch-off would still ask for the code: the form says so and changes nothing."""
    two_step_on(mandatory=True, mandatory_groups=EMPLOYEES, mandatory_days=5)
    connect_device(employee)
    response = admin_client.post(f"/admin/users/{employee.id}/otp/disable", data={"days": "0"})
    assert response.status_code == 400
    assert "would still ask for the code" in response.get_data(as_text=True)
    assert _device(employee).enabled


def test_without_mandatory_an_own_switch_off_still_lets_the_password_in(
    app: Flask, two_step_on: Any, connect_device: Any, employee: Any, admin_client: Any
) -> None:
    two_step_on()
    connect_device(employee)
    _switch_off_until_re_enabled(employee)
    assert sign_in(app.test_client(), "employee").headers["Location"] == "/my/"
    assert _status(admin_client, employee) == "disabled"


# --- item 6: nobody changes their own mandatory two-step through the admin screens -------


@pytest.fixture
def manager(app: Flask, make_user: Any, connect_device: Any, two_step_on: Any) -> Any:
    """A help-desk member who manages one-time passwords, bound by mandatory two-step."""
    group = Group(name="Help desk", can_manage_otp=True)
    db.session.add(group)
    db.session.commit()
    user = make_user("helpdesk", group_ids=(group.id,))
    two_step_on(mandatory=True, mandatory_groups=EMPLOYEES, mandatory_days=5)
    connect_device(user)
    client = app.test_client()
    assert sign_in(client, "helpdesk").headers["Location"] == "/login/otp"
    assert client.post("/login/otp", data={"code": totp_code()}).status_code == 303
    return user, client


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("exempt", {"until": (utcnow() + timedelta(days=30)).date().isoformat()}),
        ("defer", {"days": "30"}),
        ("delete", {"confirm_asked": "1", "confirm": "y"}),
        ("disable", {"days": "3", "confirm_asked": "1", "confirm": "y"}),
    ],
)
def test_a_manager_cannot_change_their_own_mandatory_two_step(
    manager: tuple[Any, Any], action: str, data: dict[str, str]
) -> None:
    user, client = manager
    response = client.post(f"/admin/users/{user.id}/otp/{action}", data=data)
    assert response.status_code == 403
    db.session.expire_all()
    device = two_step.device_of(user.id)
    assert device is not None and device.enabled
    account = db.session.scalar(select(TwoStepAccount).where(TwoStepAccount.user_id == user.id))
    assert account is None or account.exempt_until is None
    event_type = {
        "exempt": "otp_exempted",
        "defer": "otp_grace_extended",
        "delete": "otp_deleted",
        "disable": "otp_disabled",
    }[action]
    [refused] = events_of(event_type)
    assert (refused.outcome, refused.subject_id) == ("refused", user.id)


def test_a_manager_still_acts_on_other_mandatory_users(
    manager: tuple[Any, Any], employee: Any
) -> None:
    _, client = manager
    until = (utcnow() + timedelta(days=30)).date().isoformat()
    assert (
        client.post(f"/admin/users/{employee.id}/otp/exempt", data={"until": until}).status_code
        == 303
    )
    assert (
        client.post(f"/admin/users/{employee.id}/otp/defer", data={"days": "3"}).status_code == 303
    )


def test_an_administrator_cannot_exempt_themselves_either(
    two_step_on: Any, connect_device: Any, admin: Any, app: Flask
) -> None:
    two_step_on(mandatory=True, mandatory_groups="1", mandatory_days=5)
    with pytest.raises(two_step.TwoStepError) as refused:
        two_step.exempt(admin, utcnow() + timedelta(days=3), now=utcnow(), actor=admin, ip="t")
    assert refused.value.text == message("otp.own_mandatory")


# --- item 4: remembered computers follow the setting at once -------------------------------


@pytest.fixture
def remembered(app: Flask, two_step_on: Any, connect_device: Any, employee: Any) -> Any:
    """A browser that signed in with "remember this computer"."""
    two_step_on(allow_remember=True, remember_days=30)
    connect_device(employee)
    client = app.test_client()
    sign_in(client, "employee")
    response = client.post("/login/otp", data={"code": totp_code(), "remember_device": "y"})
    assert response.status_code == 303
    client.post("/logout")
    assert sign_in(client, "employee").headers["Location"] == "/my/"
    client.post("/logout")
    return client


def _save_parameters(admin_client: Any, **changes: str | None) -> None:

    response = admin_client.post("/admin/security/otp", data=otp_settings_form(**changes))
    assert response.status_code == 303, response.get_data(as_text=True)


def test_switching_remembering_off_stops_every_remembered_computer_at_once(
    remembered: Any, admin_client: Any
) -> None:
    _save_parameters(admin_client, allow_remember=None)
    assert sign_in(remembered, "employee").headers["Location"] == "/login/otp"
    assert db.session.scalar(select(RememberedComputer.id)) is None


def test_fewer_days_shorten_the_computers_already_remembered(
    remembered: Any, admin_client: Any
) -> None:
    # Remembered 10 days ago; the setting goes down to 7 days.
    db.session.execute(
        update(RememberedComputer).values(
            created_at=utcnow() - timedelta(days=10), last_used_at=utcnow() - timedelta(days=10)
        )
    )
    db.session.commit()
    _save_parameters(admin_client, allow_remember="y", remember_days="7")
    assert sign_in(remembered, "employee").headers["Location"] == "/login/otp"
    record = db.session.scalar(select(RememberedComputer))
    assert record.expires_at <= record.created_at + timedelta(days=7)


def test_the_overview_counts_an_administrator_whose_own_switch_off_still_asks_for_the_code(
    two_step_on: Any, connect_device: Any, admin: Any, make_user: Any
) -> None:
    from security import status_read_model
    from security.otp_settings import load_settings

    switched_off = make_user("boss", admin=True)
    make_user("deputy", admin=True)  # no device: unprotected
    two_step_on()
    connect_device(switched_off)
    _switch_off_until_re_enabled(switched_off)
    two_step_on(mandatory=True, mandatory_groups="1", mandatory_days=5)
    counts = status_read_model.status_counts(load_settings(), utcnow())
    # admin and deputy have no device; boss's code is still asked for.
    assert counts["admins_without"] == 2
    assert counts["active"] == 1 and counts["disabled"] == 0
