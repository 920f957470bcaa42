"""Confirming a device connection (security.device_connection), with the time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from extensions import db
from models import OtpDevice
from security import device_connection, events, otp
from security.otp_settings import load_settings
from security.two_step import TwoStepError
from tests.support import RFC_SECRET, event_types, hotp_code, totp_code

NOW = datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)
STEP = 30
TOTP = otp.OtpParams(kind="totp")


@pytest.fixture
def user(make_user: Any, two_step_on: Any) -> Any:
    two_step_on()
    return make_user("employee")


def confirm(connection: Any, user: Any, code: str, code2: str = "") -> Any:
    connected = device_connection.confirm_connection(
        connection, user, code, code2, now=NOW, settings=load_settings(), actor=user, ip="test"
    )
    db.session.commit()
    return connected


def device_count() -> int:
    return int(db.session.scalar(select(func.count(OtpDevice.id))) or 0)


def refusal(connection: Any, user: Any, code: str, code2: str = "") -> str:
    """Return the catalog key of the refusal, after checking nothing was stored."""
    with pytest.raises(TwoStepError) as refused:
        confirm(connection, user, code, code2)
    db.session.commit()
    assert device_count() == 0
    return refused.value.key


# --- TOTP ---------------------------------------------------------------------------


def test_a_totp_code_of_now_connects_without_drift(user: Any) -> None:
    connection = device_connection.new_connection(user, "totp", secret=RFC_SECRET)
    connected = confirm(connection, user, totp_code(at=NOW))
    assert (connected.device.drift, connected.clock_offset) == (0, None)
    assert connected.device.last_step == otp.totp_step(TOTP, NOW)
    assert len(connected.recovery_codes) > 0
    assert events.OTP_CONNECTED in event_types("employee")


def test_a_phone_clock_three_steps_ahead_connects_and_its_drift_is_kept(user: Any) -> None:
    connection = device_connection.new_connection(user, "totp", secret=RFC_SECRET)
    ahead = NOW + timedelta(seconds=3 * STEP)
    connected = confirm(connection, user, totp_code(at=ahead))
    assert connected.device.drift == 3
    assert connected.device.last_step == otp.totp_step(TOTP, ahead)
    assert connected.clock_offset == otp.describe_clock_offset(3, STEP)
    assert connected.clock_offset is not None


def test_a_phone_clock_beyond_the_window_is_refused(user: Any) -> None:
    connection = device_connection.new_connection(user, "totp", secret=RFC_SECRET)
    far = NOW + timedelta(seconds=(device_connection.CONNECT_TOTP_WINDOW + 1) * STEP)
    assert refusal(connection, user, totp_code(at=far)) == "otp.code_wrong"
    assert event_types("employee")[-1] == events.OTP_CONNECT_FAILED


def test_a_wrong_totp_code_is_refused(user: Any) -> None:
    connection = device_connection.new_connection(user, "totp", secret=RFC_SECRET)
    wrong = f"{(int(totp_code(at=NOW)) + 1) % 1_000_000:06d}"
    assert refusal(connection, user, wrong) == "otp.code_wrong"


def test_a_malformed_code_is_refused_for_its_field(user: Any) -> None:
    connection = device_connection.new_connection(user, "totp", secret=RFC_SECRET)
    with pytest.raises(TwoStepError) as refused:
        confirm(connection, user, "12ab56")
    assert refused.value.field == "code"
    assert device_count() == 0


# --- HOTP ---------------------------------------------------------------------------


def test_two_consecutive_hotp_codes_connect_and_spend_both(user: Any) -> None:
    connection = device_connection.new_connection(user, "hotp", secret=RFC_SECRET)
    connected = confirm(connection, user, hotp_code(3), hotp_code(4))
    assert connected.device.counter == 5
    assert connected.clock_offset is None


def test_hotp_codes_out_of_order_are_refused(user: Any) -> None:
    connection = device_connection.new_connection(user, "hotp", secret=RFC_SECRET)
    assert refusal(connection, user, hotp_code(1), hotp_code(0)) == "otp.codes_wrong"


def test_hotp_codes_that_are_not_neighbours_are_refused(user: Any) -> None:
    connection = device_connection.new_connection(user, "hotp", secret=RFC_SECRET)
    assert refusal(connection, user, hotp_code(0), hotp_code(2)) == "otp.codes_wrong"


def test_hotp_needs_its_second_code(user: Any) -> None:
    connection = device_connection.new_connection(user, "hotp", secret=RFC_SECRET)
    with pytest.raises(TwoStepError) as refused:
        confirm(connection, user, hotp_code(0))
    assert refused.value.field == "code2"
    assert device_count() == 0


# --- the sealed connection ----------------------------------------------------------


def test_a_sealed_connection_opens_until_its_last_second(user: Any) -> None:
    connection = device_connection.new_connection(user, "totp", secret=RFC_SECRET)
    token = connection.seal(NOW)
    last = NOW + timedelta(seconds=device_connection.CONNECTION_MAX_AGE)
    assert device_connection.open_connection(token, user, now=last) == connection
    with pytest.raises(TwoStepError) as refused:
        device_connection.open_connection(token, user, now=last + timedelta(seconds=1))
    assert refused.value.key == "otp.connection_expired"


def test_a_sealed_connection_is_refused_to_another_user(user: Any, make_user: Any) -> None:
    other = make_user("other")
    token = device_connection.new_connection(user, "totp", secret=RFC_SECRET).seal(NOW)
    with pytest.raises(TwoStepError) as refused:
        device_connection.open_connection(token, other, now=NOW)
    assert refused.value.key == "otp.connection_expired"


def test_a_confirmed_connection_cannot_be_opened_or_stored_again(user: Any) -> None:
    connection = device_connection.new_connection(user, "totp", secret=RFC_SECRET)
    token = connection.seal(NOW)
    confirm(device_connection.open_connection(token, user, now=NOW), user, totp_code(at=NOW))
    with pytest.raises(TwoStepError) as reopened:
        device_connection.open_connection(token, user, now=NOW)
    assert reopened.value.key == "otp.already_connected"
    with pytest.raises(TwoStepError) as resent:
        confirm(connection, user, totp_code(at=NOW + timedelta(seconds=STEP)))
    assert resent.value.key == "otp.already_connected"
    db.session.rollback()
    assert device_count() == 1
