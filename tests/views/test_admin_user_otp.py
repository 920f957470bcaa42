"""The user profile's "Two-step authentication" tab: every administrator action and its refusals."""

from __future__ import annotations

import base64
import html
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from extensions import db
from models import OtpDevice, RecoveryCode, TwoStepAccount, UserSession, utcnow
from security import recovery_code_store, remembered_computers, two_step
from security.messages import message
from tests.support import (
    CONNECTION_INPUT,
    RFC_SECRET,
    SECRET_SHOWN,
    csrf_token_from,
    events_of,
    hotp_code,
    sign_in,
    snapshot,
    totp_code,
)

RFC_HEX = "3132333435363738393031323334353637383930"
RFC_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RECOVERY_ITEM = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


# --- helpers -----------------------------------------------------------------------------


def _page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _tab(user: Any) -> str:
    return f"/admin/users/{user.id}?tab=otp"


def _url(user: Any, action: str) -> str:
    return f"/admin/users/{user.id}/otp/{action}"


def _device(user: Any) -> OtpDevice | None:
    db.session.expire_all()
    return two_step.device_of(user.id)


def _account(user: Any) -> TwoStepAccount | None:
    db.session.expire_all()
    return two_step.account_of(user.id)


def _status(user: Any) -> str:
    from security.otp_settings import load_settings

    db.session.expire_all()
    return two_step.status_of(
        user, load_settings(), two_step.device_of(user.id), two_step.account_of(user.id), utcnow()
    ).value


def _unchanged_but_events(before: dict[str, Any]) -> bool:
    after = snapshot()
    return {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }


def _connect_hardware(client: Any, user: Any, **fields: Any) -> Any:
    data: dict[str, Any] = {
        "source": "hardware",
        "type": "totp",
        "secret": RFC_HEX,
        "digits": "8",
        "period": "30",
        "start_time": "0",
        "algorithm": "auto",
        "code": totp_code(RFC_SECRET, digits=8),
        "code2": "",
    }
    data.update(fields)
    return client.post(_url(user, "connect"), data=data)


def _connect_hotp_token(client: Any, user: Any) -> None:
    response = _connect_hardware(
        client,
        user,
        type="hotp",
        digits="6",
        code=hotp_code(0),
        code2=hotp_code(1),
    )
    assert response.status_code == 200, _page(response)


@pytest.fixture
def on(two_step_on: Any) -> Any:
    return two_step_on()


# --- the tab -----------------------------------------------------------------------------


def test_tab_says_when_two_step_is_off_and_refuses_actions(
    admin_client: Any, employee: Any
) -> None:
    page = _page(admin_client.get(_tab(employee)))
    assert "data-otp-off" in page
    assert "switched off for the whole console" in page
    assert _url(employee, "connect") not in page
    before = snapshot()
    response = _connect_hardware(admin_client, employee)
    assert response.status_code == 303
    assert response.headers["Location"] == _tab(employee)
    for action in ("unlock", "disable", "delete", "defer", "enable"):
        assert admin_client.post(_url(employee, action), data={"days": "3"}).status_code == 303
    assert snapshot() == before
    follow = admin_client.get(_tab(employee))
    assert message("otp.off_for_console") in _page(follow)
    # The connect page and the codes page still open, and say why nothing can be done.
    assert admin_client.get(_url(employee, "connect")).status_code == 200
    assert admin_client.get(f"/admin/users/{employee.id}/recovery-codes").status_code == 200


def test_tab_shows_the_state_of_a_user_without_device(
    on: Any, admin_client: Any, employee: Any
) -> None:
    page = _page(admin_client.get(_tab(employee)))
    assert 'data-otp-status="not_configured"' in page
    assert f"/admin/users/{employee.id}/otp/connect?source=mobile&type=totp" in page
    assert f"/admin/users/{employee.id}/otp/connect?source=mobile&type=hotp" in page
    assert "Connect hardware token" in page
    assert _url(employee, "delete") not in page


def test_employee_cannot_reach_another_users_device(
    on: Any, app: Flask, admin: Any, admin_client: Any, employee_client: Any, make_user: Any
) -> None:
    _connect_hotp_token(admin_client, admin)
    before = snapshot()
    for action in (
        "connect",
        "disable",
        "enable",
        "sync",
        "defer",
        "exempt",
        "unlock",
        "delete",
        "forget-computers",
    ):
        response = employee_client.post(_url(admin, action), data={"days": "0", "code": "1"})
        assert response.status_code == 403, action
    assert employee_client.get(_url(admin, "connect")).status_code == 403
    assert employee_client.get(f"/admin/users/{admin.id}/otp").status_code == 403
    assert employee_client.get(_tab(admin)).status_code == 403
    assert employee_client.get(f"/admin/users/{admin.id}/recovery-codes").status_code == 403
    assert employee_client.post(f"/admin/users/{admin.id}/recovery-codes").status_code == 403
    assert _unchanged_but_events(before)
    assert sum(event.count for event in events_of("access_denied")) >= 14


def test_manager_group_opens_the_tab_and_acts_but_not_the_rest(
    on: Any, manager_client: Any, employee: Any
) -> None:
    response = manager_client.get(_tab(employee))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{employee.id}/otp"
    page = manager_client.get(response.headers["Location"])
    assert page.status_code == 200
    assert 'data-otp-status="not_configured"' in _page(page)
    # The rest of the profile and the settings stay for administrators.
    assert manager_client.get(f"/admin/users/{employee.id}").status_code == 403
    assert (
        manager_client.post(f"/admin/users/{employee.id}", data={"login": "x"}).status_code == 403
    )
    assert manager_client.get("/admin/security/otp").status_code == 403
    # Connecting a hardware token and the actions work, and come back to the tab page.
    response = _connect_hardware(manager_client, employee)
    assert response.status_code == 200
    assert _device(employee) is not None
    response = manager_client.post(_url(employee, "unlock"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{employee.id}/otp"
    assert events_of("otp_unlocked")[0].actor_login == "helpdesk"


# --- connecting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret_text", [RFC_HEX, RFC_BASE32, "gezd gnbv gy3t qojq gezd gnbv gy3t qojq"]
)
def test_hardware_token_rfc6238_8_digits_sha1(
    on: Any, admin: Any, admin_client: Any, employee: Any, secret_text: str
) -> None:
    response = _connect_hardware(admin_client, employee, secret=secret_text)
    assert response.status_code == 200, _page(response)
    page = _page(response)
    understood = "hexadecimal" if secret_text == RFC_HEX else "Base32"
    assert message("otp.hardware_secret_read", format=understood) in page
    codes = RECOVERY_ITEM.findall(page)
    assert len(codes) == 10
    assert '<ol class="recovery-codes">' in page
    device = _device(employee)
    assert device is not None
    assert (device.kind, device.source, device.digits, device.algorithm) == (
        "totp",
        "hardware",
        8,
        "SHA1",
    )
    assert RFC_HEX not in device.secret_encrypted and RFC_BASE32 not in device.secret_encrypted
    [event] = events_of("otp_connected")
    assert (event.actor_id, event.subject_id) == (admin.id, employee.id)
    tab = _page(admin_client.get(_tab(employee)))
    assert 'data-otp-status="active"' in tab
    assert "Hardware token" in tab and "8 digits" in tab
    assert 'data-fact="recovery-left">10' in tab


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"secret": "not a secret!"}, "secret", ""),
        ({"secret": "ABCD"}, "secret", ""),
        ({"secret": ""}, "secret", message("form.required")),
        ({"secret": "A" * 201}, "secret", "200"),
        ({"code": "12345678".replace("1", "9")}, "code", message("otp.code_wrong")),
        ({"code": "abcdefgh"}, "code", "digits only"),
        ({"code": "1234567"}, "code", "digits only"),
        ({"code": "1" * 21}, "code", "20"),
        ({"code": ""}, "code", message("form.required")),
        ({"digits": "7"}, "digits", ""),
        ({"period": "45"}, "period", ""),
        ({"start_time": "yesterday"}, "start_time", ""),
        ({"algorithm": "MD5"}, "algorithm", ""),
        ({"type": "bogus"}, "type", "connection options"),
        ({"type": "hotp", "code": "12345678", "code2": ""}, "code2", "digits only"),
    ],
)
def test_hardware_refusals_change_nothing(
    on: Any, admin_client: Any, employee: Any, fields: dict[str, Any], field: str, text: str
) -> None:
    before = snapshot()
    response = _connect_hardware(admin_client, employee, **fields)
    assert response.status_code == 400
    page = _page(response)
    assert f'id="{field}-error"' in page, page
    error_line = page.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert text in error_line
    assert _device(employee) is None
    assert _unchanged_but_events(before)


def test_wrong_hardware_codes_are_recorded_and_say_how_the_secret_was_read(
    on: Any, admin_client: Any, employee: Any
) -> None:
    wrong = str((int(totp_code(RFC_SECRET, digits=8)) + 1) % 10**8).zfill(8)
    response = _connect_hardware(admin_client, employee, secret=RFC_BASE32, code=wrong)
    assert response.status_code == 400
    page = _page(response)
    assert message("otp.code_wrong") in page
    assert message("otp.hardware_secret_read", format="Base32") in page
    assert len(events_of("otp_connect_failed")) == 1


def test_mobile_connection_from_the_admin_tab(
    on: Any, admin: Any, admin_client: Any, employee: Any
) -> None:
    response = admin_client.get(_url(employee, "connect") + "?source=mobile&type=totp")
    assert response.status_code == 200
    page = _page(response)
    assert "<svg" in page
    assert 'href="otpauth://totp/' in page and "employee" in page
    shown = SECRET_SHOWN.search(page)
    token = CONNECTION_INPUT.search(page)
    assert shown and token
    secret = base64.b32decode(shown.group(1).replace(" ", ""))
    # A wrong code keeps the same secret on the page.
    wrong = str((int(totp_code(secret)) + 1) % 10**6).zfill(6)
    response = admin_client.post(
        _url(employee, "connect"), data={"connection": token.group(1), "code": wrong}
    )
    assert response.status_code == 400
    assert shown.group(1) in _page(response)
    assert _device(employee) is None
    response = admin_client.post(
        _url(employee, "connect"), data={"connection": token.group(1), "code": totp_code(secret)}
    )
    assert response.status_code == 200
    assert len(RECOVERY_ITEM.findall(_page(response))) == 10
    device = _device(employee)
    assert device is not None and device.source == "mobile" and device.kind == "totp"


def test_mobile_hotp_page_asks_for_two_codes(on: Any, admin_client: Any, employee: Any) -> None:
    page = _page(admin_client.get(_url(employee, "connect") + "?source=mobile&type=hotp"))
    assert 'href="otpauth://hotp/' in page
    assert "First code" in page and "Second code" in page


def test_a_connection_token_of_another_user_is_refused(
    on: Any, admin: Any, admin_client: Any, employee: Any
) -> None:
    page = _page(admin_client.get(_url(admin, "connect") + "?source=mobile&type=totp"))
    token = CONNECTION_INPUT.search(page)
    shown = SECRET_SHOWN.search(page)
    assert token and shown
    secret = base64.b32decode(shown.group(1).replace(" ", ""))
    response = admin_client.post(
        _url(employee, "connect"), data={"connection": token.group(1), "code": totp_code(secret)}
    )
    assert response.status_code == 303
    assert _device(employee) is None and _device(admin) is None


# --- synchronising ---------------------------------------------------------------------------


def test_hotp_sync_far_ahead(on: Any, admin_client: Any, employee: Any) -> None:
    _connect_hotp_token(admin_client, employee)
    assert _device(employee).counter == 2
    response = admin_client.post(
        _url(employee, "sync"), data={"code": hotp_code(12_000), "code2": hotp_code(12_001)}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == _tab(employee)
    assert _device(employee).counter == 12_002
    assert len(events_of("otp_synchronized")) == 1
    # Both sync codes are spent.
    response = admin_client.post(
        _url(employee, "sync"), data={"code": hotp_code(12_000), "code2": hotp_code(12_001)}
    )
    assert response.status_code == 400
    assert message("otp.codes_wrong") in _page(response)
    assert _device(employee).counter == 12_002


def test_totp_sync_shows_drift_in_seconds(on: Any, admin_client: Any, employee: Any) -> None:
    response = _connect_hardware(admin_client, employee, digits="6", code=totp_code(RFC_SECRET))
    assert response.status_code == 200
    ahead = utcnow() + timedelta(seconds=90)
    codes = {
        "code": totp_code(RFC_SECRET, ahead),
        "code2": totp_code(RFC_SECRET, ahead + timedelta(seconds=30)),
    }
    response = admin_client.post(_url(employee, "sync"), data=codes)
    assert response.status_code == 303
    device = _device(employee)
    drift_seconds = device.drift * device.period
    assert 90 <= drift_seconds <= 150
    page = _page(admin_client.get(_tab(employee)))
    assert f'data-fact="drift">{drift_seconds:+d} seconds' in page
    [event] = events_of("otp_synchronized")
    assert f"drift_seconds={drift_seconds}" in event.details


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "abcdef", "code2": "123456"}, "sync-code"),
        ({"code": "1234567", "code2": "123456"}, "sync-code"),
        ({"code": "123456", "code2": "9" * 30}, "sync-code2"),
        ({"code": "", "code2": "123456"}, "sync-code"),
        ({"code": "123456", "code2": "654321"}, "sync-code"),
    ],
)
def test_sync_refusals(
    on: Any, admin_client: Any, employee: Any, data: dict[str, str], field: str
) -> None:
    _connect_hotp_token(admin_client, employee)
    before = snapshot()
    response = admin_client.post(_url(employee, "sync"), data=data)
    assert response.status_code == 400
    assert f'id="{field}-error"' in _page(response)
    assert snapshot() == before


def test_sync_without_device_is_refused(on: Any, admin_client: Any, employee: Any) -> None:
    response = admin_client.post(_url(employee, "sync"), data={"code": "123456", "code2": "654321"})
    assert response.status_code == 303
    assert message("otp.no_device") in _page(admin_client.get(_tab(employee)))


# --- disable, enable, unlock, delete ---------------------------------------------------------


def test_temporary_disable_ends_by_itself(on: Any, admin_client: Any, employee: Any) -> None:
    _connect_hotp_token(admin_client, employee)
    response = admin_client.post(_url(employee, "disable"), data={"days": "3"})
    assert response.status_code == 303
    assert _status(employee) == "disabled"
    device = _device(employee)
    assert device.disabled_until is not None
    assert timedelta(days=2, hours=23) < device.disabled_until - utcnow() <= timedelta(days=3)
    assert "until=" in events_of("otp_disabled")[0].details
    assert 'data-otp-status="disabled"' in _page(admin_client.get(_tab(employee)))
    # Time passes: the switch-off ends without anyone doing anything.
    db.session.execute(
        update(OtpDevice)
        .where(OtpDevice.user_id == employee.id)
        .values(disabled_until=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    assert _status(employee) == "active"
    assert 'data-otp-status="active"' in _page(admin_client.get(_tab(employee)))


def test_disable_until_enabled_then_enable(on: Any, admin_client: Any, employee: Any) -> None:
    _connect_hotp_token(admin_client, employee)
    assert admin_client.post(_url(employee, "disable"), data={"days": "0"}).status_code == 303
    assert _status(employee) == "disabled" and _device(employee).disabled_until is None
    assert admin_client.post(_url(employee, "enable")).status_code == 303
    assert _status(employee) == "active"
    assert len(events_of("otp_reenabled")) == 1


@pytest.mark.parametrize("days", ["31", "-1", "abc", "", "1" * 30])
def test_disable_refusals(on: Any, admin_client: Any, employee: Any, days: str) -> None:
    _connect_hotp_token(admin_client, employee)
    before = snapshot()
    response = admin_client.post(_url(employee, "disable"), data={"days": days})
    assert response.status_code == 400
    assert 'id="disable-days-error"' in _page(response)
    assert snapshot() == before


def test_disable_needs_the_tick_when_the_form_asked_for_it(
    on: Any, admin_client: Any, employee: Any
) -> None:
    _connect_hotp_token(admin_client, employee)
    page = _page(admin_client.get(_tab(employee)))
    assert 'name="confirm_asked"' in page and "data-confirm=" in page
    before = snapshot()
    response = admin_client.post(
        _url(employee, "disable"), data={"days": "0", "confirm_asked": "1"}
    )
    assert response.status_code == 303
    assert snapshot() == before
    assert message("otp.confirm_needed") in _page(admin_client.get(_tab(employee)))
    response = admin_client.post(
        _url(employee, "disable"), data={"days": "0", "confirm_asked": "1", "confirm": "y"}
    )
    assert response.status_code == 303
    assert _status(employee) == "disabled"


def _age_sign_in(user: Any) -> None:
    """Move the user's last full sign-in back past the 10-minute window."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(authenticated_at=utcnow() - timedelta(minutes=30))
    )
    db.session.commit()


def test_disable_needs_a_recent_sign_in(
    on: Any, admin: Any, admin_client: Any, employee: Any
) -> None:
    _connect_hotp_token(admin_client, employee)
    _age_sign_in(admin)
    before = snapshot()
    response = admin_client.post(_url(employee, "disable"), data={"days": "0"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/my/reauth")
    assert _unchanged_but_events(before)
    assert _status(employee) == "active"


def test_a_first_connection_for_someone_needs_a_recent_sign_in(
    on: Any, admin: Any, admin_client: Any, employee: Any
) -> None:
    """A stale administrator session must not bind a token it holds to a user."""
    _age_sign_in(admin)
    before = snapshot()
    page = admin_client.get(f"/admin/users/{employee.id}/otp/connect?source=hardware")
    assert page.headers["Location"].startswith("/my/reauth")
    response = _connect_hardware(
        admin_client, employee, type="hotp", digits="6", code=hotp_code(0), code2=hotp_code(1)
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/my/reauth")
    assert _unchanged_but_events(before)
    assert two_step.device_of(employee.id) is None


def test_unlock_clears_a_lock(on: Any, admin: Any, admin_client: Any, employee: Any) -> None:
    _connect_hotp_token(admin_client, employee)
    account = two_step.ensure_account(employee.id)
    account.failed_attempts = 3
    account.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    assert _status(employee) == "locked"
    page = _page(admin_client.get(_tab(employee)))
    assert 'data-otp-status="locked"' in page and 'data-fact="failed">3' in page
    response = admin_client.post(_url(employee, "unlock"))
    assert response.status_code == 303
    account = _account(employee)
    assert account.locked_until is None and account.failed_attempts == 0
    assert _status(employee) == "active"
    [event] = events_of("otp_unlocked")
    assert (event.actor_id, event.subject_id) == (admin.id, employee.id)


def test_delete_removes_device_and_recovery_codes(
    on: Any, admin_client: Any, employee: Any
) -> None:
    _connect_hotp_token(admin_client, employee)
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == employee.id)).all()
    response = admin_client.post(_url(employee, "delete"))
    assert response.status_code == 303
    assert _device(employee) is None
    assert not db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == employee.id)
    ).all()
    assert len(events_of("otp_deleted")) == 1
    # Nothing left to delete: a message, no change.
    before = snapshot()
    assert admin_client.post(_url(employee, "delete")).status_code == 303
    assert snapshot() == before


# --- grace, exemption, computers -------------------------------------------------------------


def test_defer_extends_the_grace_deadline(
    two_step_on: Any, admin_client: Any, employee: Any
) -> None:
    two_step_on(mandatory=True, mandatory_groups="2", mandatory_days=5)
    account = two_step.ensure_account(employee.id)
    deadline = utcnow() - timedelta(days=1)
    account.grace_deadline = deadline
    db.session.commit()
    assert _status(employee) == "overdue"
    page = _page(admin_client.get(_tab(employee)))
    assert 'data-otp-status="overdue"' in page and _url(employee, "defer") in page
    response = admin_client.post(_url(employee, "defer"), data={"days": "7"})
    assert response.status_code == 303
    new_deadline = _account(employee).grace_deadline
    assert timedelta(days=6, hours=23) < new_deadline - utcnow() <= timedelta(days=7)
    assert _status(employee) == "pending"
    [event] = events_of("otp_grace_extended")
    assert event.subject_id == employee.id
    for bad in ("0", "366", "x"):
        before = snapshot()
        response = admin_client.post(_url(employee, "defer"), data={"days": bad})
        assert response.status_code == 400, bad
        assert 'id="defer-days-error"' in _page(response)
        assert snapshot() == before


def test_exempt_and_end_the_exemption(two_step_on: Any, admin_client: Any, employee: Any) -> None:
    two_step_on(mandatory=True, mandatory_groups="2", mandatory_days=0)
    account = two_step.ensure_account(employee.id)
    account.grace_deadline = utcnow() - timedelta(days=1)
    db.session.commit()
    assert _status(employee) == "overdue"
    until = (utcnow() + timedelta(days=10)).date().isoformat()
    response = admin_client.post(_url(employee, "exempt"), data={"until": until})
    assert response.status_code == 303
    assert _status(employee) == "not_configured"
    assert _account(employee).exempt_until.date().isoformat() == until
    assert events_of("otp_exempted")[0].details == f"until={until}"
    assert admin_client.post(_url(employee, "exempt"), data={"until": ""}).status_code == 303
    assert _account(employee).exempt_until is None
    assert _status(employee) == "overdue"
    assert len(events_of("otp_exempted")) == 2
    for bad in ("2001-01-01", "not a date"):
        before = snapshot()
        response = admin_client.post(_url(employee, "exempt"), data={"until": bad})
        assert response.status_code == 400, bad
        assert 'id="until-error"' in _page(response)
        assert snapshot() == before


def test_forget_remembered_computers(on: Any, admin_client: Any, employee: Any) -> None:
    _connect_hotp_token(admin_client, employee)
    remembered_computers.remember_computer(
        employee, now=utcnow(), ip="10.0.0.1", user_agent="Test", days=30
    )
    db.session.commit()
    page = _page(admin_client.get(_tab(employee)))
    assert "10.0.0.1" in page
    assert admin_client.post(_url(employee, "forget-computers")).status_code == 303
    assert remembered_computers.list_remembered(employee.id, now=utcnow()) == []
    assert len(events_of("remembered_devices_forgotten")) == 1


# --- recovery codes ----------------------------------------------------------------------------


def test_recovery_codes_for_a_user(on: Any, admin: Any, admin_client: Any, employee: Any) -> None:
    _connect_hotp_token(admin_client, employee)
    url = f"/admin/users/{employee.id}/recovery-codes"
    page = _page(admin_client.get(url))
    assert 'data-recovery-left="10"' in page
    assert "Not used" in page
    response = admin_client.post(url)
    assert response.status_code == 200
    page = _page(response)
    codes = RECOVERY_ITEM.findall(page)
    assert len(codes) == 10
    assert '<ol class="recovery-codes">' in page
    assert 'download="recovery_codes.txt"' in page and "data-print" in page
    # The old codes stopped working; the new ones are only digests in the database.
    stored = db.session.scalars(
        select(RecoveryCode.digest).where(RecoveryCode.user_id == employee.id)
    ).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    events = events_of("recovery_codes_generated")
    assert events[-1].actor_id == admin.id and events[-1].subject_id == employee.id
    # A used code shows its date and address.
    assert recovery_code_store.spend_recovery_code(employee, codes[0], now=utcnow(), ip="192.0.2.7")
    db.session.commit()
    page = _page(admin_client.get(url))
    assert 'data-recovery-left="9"' in page and "192.0.2.7" in page
    # The form's own "I understand" must be ticked when it was asked.
    before = snapshot()
    assert admin_client.post(url, data={"confirm_asked": "1"}).status_code == 303
    assert snapshot() == before


def test_recovery_codes_refused_without_device_or_when_switched_off(
    two_step_on: Any, admin_client: Any, employee: Any
) -> None:
    two_step_on(allow_recovery_codes=False)
    url = f"/admin/users/{employee.id}/recovery-codes"
    before = snapshot()
    assert admin_client.post(url).status_code == 303
    assert snapshot() == before
    assert admin_client.get(url).status_code == 200
    two_step_on(allow_recovery_codes=True)
    assert admin_client.post(url).status_code == 303
    assert message("otp.no_device") in _page(admin_client.get(_tab(employee)))


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_tab_actions_need_the_csrf_token(
    two_step_on: Any, app: Flask, admin: Any, employee: Any
) -> None:
    two_step_on()
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 303
    account = two_step.ensure_account(employee.id)
    account.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    before = snapshot()
    assert client.post(_url(employee, "unlock")).status_code == 400
    assert _connect_hardware(client, employee).status_code == 400
    assert snapshot() == before
    page = client.get(_tab(employee)).get_data(as_text=True)
    token = csrf_token_from(page)
    assert client.post(_url(employee, "unlock"), data={"csrf_token": token}).status_code == 303
    assert not two_step.is_locked(_account(employee), utcnow())


def test_unknown_user_is_404(on: Any, admin_client: Any) -> None:
    assert admin_client.get("/admin/users/9999/otp").status_code == 404
    assert admin_client.post("/admin/users/9999/otp/unlock").status_code == 404
    assert admin_client.get("/admin/users/9999/otp/connect").status_code == 404
