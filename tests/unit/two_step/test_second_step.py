"""The second step at sign-in (security.second_step), with the time passed in.

Every call gets an explicit `now`: the devices are connected at NOW - 60 s (that
TOTP step is spent), and the lock's end is checked at the exact second it falls.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from extensions import db
from models import OtpDevice, TwoStepAccount
from security import events, otp, second_step
from security.otp_settings import load_settings
from security.second_step import Outcome
from tests.support import event_types, hotp_code, totp_code

NOW = datetime(2030, 5, 1, 12, 0, 10, tzinfo=UTC)
IP = "192.0.2.7"


@pytest.fixture
def user(make_user: Any, two_step_on: Any) -> Any:
    two_step_on(max_attempts=3, lockout_minutes=15)
    return make_user("employee")


def verify(user: Any, code: str, at: datetime = NOW) -> second_step.CodeResult:
    """Check a code as the sign-in view does, and commit what it wrote."""
    result = second_step.verify_sign_in_code(user, code, now=at, ip=IP, settings=load_settings())
    db.session.commit()
    return result


def account_of(user: Any) -> TwoStepAccount:
    db.session.expire_all()
    account = db.session.get(TwoStepAccount, user.id)
    assert account is not None
    return account


# --- one-time passwords -------------------------------------------------------------


def test_the_code_of_the_current_step_is_accepted(user: Any, connect_device: Any) -> None:
    connect_device(user, now=NOW)
    result = verify(user, totp_code(at=NOW))
    assert result.outcome is Outcome.ACCEPTED
    assert result.accepted
    assert account_of(user).failed_attempts == 0
    assert event_types("employee")[-1] == events.OTP_CODE_ACCEPTED


def test_a_code_written_with_spaces_is_accepted(user: Any, connect_device: Any) -> None:
    connect_device(user, now=NOW)
    code = totp_code(at=NOW)
    assert verify(user, f" {code[:3]} {code[3:]} ").outcome is Outcome.ACCEPTED


def test_a_wrong_code_is_refused_and_counted(user: Any, connect_device: Any) -> None:
    connect_device(user, now=NOW)
    wrong = f"{(int(totp_code(at=NOW)) + 1) % 1_000_000:06d}"
    result = verify(user, wrong)
    assert result.outcome is Outcome.WRONG
    assert not result.accepted
    assert account_of(user).failed_attempts == 1


@pytest.mark.parametrize("text", ["", "12345", "1234567", "12a456", "abc"])
def test_a_malformed_code_is_refused_without_counting(
    user: Any, connect_device: Any, text: str
) -> None:
    connect_device(user, now=NOW)
    assert verify(user, text).outcome is Outcome.MALFORMED
    assert account_of(user).failed_attempts == 0


def test_a_totp_step_is_accepted_once(user: Any, connect_device: Any) -> None:
    connect_device(user, now=NOW)
    code = totp_code(at=NOW)
    assert verify(user, code).outcome is Outcome.ACCEPTED
    # The same code again within its 30 s, as a second tab or an eavesdropper would send it.
    assert verify(user, code, NOW + timedelta(seconds=5)).outcome is Outcome.WRONG


def test_the_step_used_to_connect_is_spent(user: Any, connect_device: Any) -> None:
    connect_device(user, now=NOW)
    earlier = NOW - timedelta(seconds=60)
    assert verify(user, totp_code(at=earlier)).outcome is Outcome.WRONG


def test_hotp_accepts_the_next_counter_once_and_never_one_behind(
    user: Any, connect_device: Any
) -> None:
    connect_device(user, "hotp", now=NOW)  # spends counters 0 and 1
    assert verify(user, hotp_code(1)).outcome is Outcome.WRONG
    assert verify(user, hotp_code(2)).outcome is Outcome.ACCEPTED
    assert verify(user, hotp_code(2)).outcome is Outcome.WRONG
    # A token pressed twice without signing in: counter 4 is within the look-ahead window.
    assert verify(user, hotp_code(4)).outcome is Outcome.ACCEPTED
    assert verify(user, hotp_code(3)).outcome is Outcome.WRONG


# --- recovery codes -----------------------------------------------------------------


def test_a_recovery_code_is_accepted_once(user: Any, connect_device: Any) -> None:
    codes = connect_device(user, now=NOW)
    result = verify(user, codes[0])
    assert result.outcome is Outcome.RECOVERY_ACCEPTED
    assert result.recovery_codes_left == len(codes) - 1
    assert event_types("employee")[-1] == events.RECOVERY_CODE_USED
    assert verify(user, codes[0]).outcome is Outcome.WRONG


def test_recovery_codes_are_refused_when_the_settings_forbid_them(
    user: Any, connect_device: Any, two_step_on: Any
) -> None:
    codes = connect_device(user, now=NOW)
    two_step_on(allow_recovery_codes=False)
    assert verify(user, codes[0]).outcome is Outcome.WRONG
    two_step_on(allow_recovery_codes=True)
    assert verify(user, codes[0]).outcome is Outcome.RECOVERY_ACCEPTED


# --- the lock -----------------------------------------------------------------------


def test_the_last_allowed_failure_locks_until_an_exact_time(user: Any, connect_device: Any) -> None:
    connect_device(user, now=NOW)
    assert verify(user, "000000").outcome is Outcome.WRONG
    assert verify(user, "000001").outcome is Outcome.WRONG
    result = verify(user, "000002")
    assert result.outcome is Outcome.LOCKED
    assert result.locked_until == NOW + timedelta(minutes=15)
    assert account_of(user).failed_attempts == 3
    assert event_types("employee")[-1] == events.OTP_LOCKED


def test_the_lock_refuses_the_right_code_until_its_last_second(
    user: Any, connect_device: Any
) -> None:
    connect_device(user, now=NOW)
    for guess in ("000000", "000001", "000002"):
        verify(user, guess)
    until = NOW + timedelta(minutes=15)
    just_before = until - timedelta(seconds=1)
    refused = verify(user, totp_code(at=just_before), just_before)
    assert refused.outcome is Outcome.LOCKED
    assert refused.locked_until == until
    # At the lock's end, to the second, the right code goes through and the count restarts.
    assert verify(user, totp_code(at=until), until).outcome is Outcome.ACCEPTED
    assert account_of(user).failed_attempts == 0


def test_the_first_failure_after_a_lock_starts_a_new_count(user: Any, connect_device: Any) -> None:
    connect_device(user, now=NOW)
    for guess in ("000000", "000001", "000002"):
        verify(user, guess)
    after = NOW + timedelta(minutes=15)
    assert verify(user, "000003", after).outcome is Outcome.WRONG
    account = account_of(user)
    assert account.failed_attempts == 1
    assert account.locked_until is None


def test_a_lock_set_meanwhile_refuses_even_the_right_code(
    user: Any, connect_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request locks the step between this one's read of the lock and its spend."""
    connect_device(user, now=NOW)
    spend = second_step.spend_otp
    until = NOW + timedelta(minutes=15)

    def spend_while_another_request_locks(*args: Any, **kwargs: Any) -> bool:
        db.session.execute(
            update(TwoStepAccount)
            .where(TwoStepAccount.user_id == user.id)
            .values(locked_until=until)
            .execution_options(synchronize_session=False)
        )
        return spend(*args, **kwargs)

    monkeypatch.setattr(second_step, "spend_otp", spend_while_another_request_locks)
    code = totp_code(at=NOW)
    result = verify(user, code)
    assert result.outcome is Outcome.LOCKED
    assert result.locked_until == until
    # The code stays spent: its step is the device's last one.
    db.session.expire_all()
    device = db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == user.id))
    assert device is not None
    assert device.last_step == otp.totp_step(otp.OtpParams(kind="totp"), NOW)
