"""`flask otp …`: status, the emergency switch-off, key rotation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select

from extensions import db
from models import OtpDevice
from security import keys
from security.secret_box import load_or_create_keys
from tests.support import event_types, totp_code


def test_status_is_one_line(
    runner: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    result = runner.invoke(args=["otp", "status", "employee"])
    assert result.exit_code == 0
    assert result.output.strip() == "employee: not_configured"
    connect_device(employee)
    result = runner.invoke(args=["otp", "status", "EMPLOYEE"])
    assert result.output.count("\n") == 1
    assert result.output.startswith("employee: active; TOTP mobile; 10 recovery codes left")


def test_status_of_an_unknown_login_fails(runner: Any) -> None:
    result = runner.invoke(args=["otp", "status", "nobody"])
    assert result.exit_code != 0
    assert "no user with the login 'nobody'" in result.output


def test_disable_lets_a_locked_out_user_in_and_is_recorded(
    runner: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    result = runner.invoke(args=["otp", "disable", "employee", "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "disabled until" in result.output
    assert auth.login("employee").headers["Location"] == "/my/"
    assert "otp_disabled" in event_types("employee")


def test_disable_refuses_days_out_of_range(
    runner: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    result = runner.invoke(args=["otp", "disable", "employee", "--days", "31"])
    assert result.exit_code != 0
    device = db.session.scalar(select(OtpDevice))
    assert device is not None and device.enabled


def test_rotate_keys_re_encrypts_every_secret_under_the_newest_key(
    app: Any,
    runner: Any,
    employee: Any,
    auth: Any,
    client: Any,
    two_step_on: Any,
    connect_device: Any,
) -> None:
    two_step_on()
    connect_device(employee)
    old_box = keys.secret_box()
    old_token = db.session.scalar(select(OtpDevice.secret_encrypted))
    new_key = Fernet.generate_key().decode()
    old_keys = load_or_create_keys(Path(app.instance_path) / "otp_keys")
    keys.configure([new_key, *old_keys], keys.recovery_key())
    try:
        result = runner.invoke(args=["otp", "rotate-keys"])
        assert result.output.strip() == "Re-encrypted 1 of 1 secrets under the newest key."
        token = db.session.scalar(select(OtpDevice.secret_encrypted))
        assert token != old_token
        assert Fernet(new_key.encode()).decrypt(token.encode()) == old_box.decrypt(old_token)
        # The codes still work with only the new key loaded.
        keys.configure([new_key], keys.recovery_key())
        auth.login("employee")
        assert client.post("/login/otp", data={"code": totp_code()}).status_code == 303
    finally:
        keys.configure(old_keys, keys.recovery_key())


def test_without_log_requests_code_requests_are_not_events(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(log_requests=False)
    connect_device(employee)
    auth.login("employee")
    client.post("/login/otp", data={"code": "000000" if totp_code() != "000000" else "111111"})
    types = event_types("employee")
    assert "otp_code_requested" not in types
    assert "otp_code_failed" not in types


def test_with_log_requests_each_request_and_failure_is_an_event(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(log_requests=True)
    connect_device(employee)
    auth.login("employee")
    client.post("/login/otp", data={"code": "000000" if totp_code() != "000000" else "111111"})
    types = event_types("employee")
    assert "otp_code_requested" in types
    assert "otp_code_failed" in types
