"""The second step at sign-in: a one-time password, a recovery code or a temporary code,
failures and the lock.

After the password, the person gives a code from their OTP device, one of their recovery
codes, or the temporary code the helpdesk issued (security.temporary_codes). One-time
passwords and recovery codes are spent once (security.device_spend,
security.recovery_code_store); a temporary code works until it ends;
wrong codes are counted in the database and lock the second step at the limit; a right
code re-enables a device that mandatory two-step made ask for it. Everything takes
`now`; nothing knows about requests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, null, select, update

from extensions import db
from models import SETTINGS_ROW_ID, OtpDevice, OtpSettings, TwoStepAccount, User
from security import events, notices, observers, otp, recovery_codes, temporary_codes
from security.device_spend import spend_counter, spend_step
from security.otp_settings import keep_for_session, load_settings
from security.recovery_code_store import recovery_codes_left, spend_recovery_code
from security.statements import rowcount
from security.two_step import device_is_active, ensure_account, is_locked, params_of, secret_of


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    RECOVERY_ACCEPTED = "recovery_accepted"
    TEMPORARY_ACCEPTED = "temporary_accepted"
    MALFORMED = "malformed"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class CodeResult:
    outcome: Outcome
    locked_until: datetime | None = None
    recovery_codes_left: int | None = None
    clock_offset: str | None = None
    # A right one-time password already spent (refused and counted as wrong all the same).
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.outcome in (
            Outcome.ACCEPTED,
            Outcome.RECOVERY_ACCEPTED,
            Outcome.TEMPORARY_ACCEPTED,
        )


def verify_sign_in_code(
    user: User, text: str, *, now: datetime, ip: str, settings: OtpSettings | None = None
) -> CodeResult:
    """Check the second step's code (one-time password, recovery or temporary code) with locks.

    The settings, the device and the lock record come in one query. Nothing is flushed
    until the caller commits: the events wait in the session and go in as one batch
    with the sign-in's own rows, since no statement here depends on them.
    """
    with db.session.no_autoflush:
        stored_settings, device, account = _sign_in_state(user.id)
        result = _verify(user, text, settings or stored_settings, device, account, now=now, ip=ip)
    observers.announce(observers.StepOutcome(observers.SECOND_STEP, _observed_outcome(result)))
    return result


_OBSERVED_OUTCOMES = {
    Outcome.ACCEPTED: observers.CODE_OK,
    Outcome.RECOVERY_ACCEPTED: observers.CODE_RECOVERY,
    Outcome.TEMPORARY_ACCEPTED: observers.CODE_TEMPORARY,
    Outcome.MALFORMED: observers.CODE_MALFORMED,
    Outcome.WRONG: observers.CODE_WRONG,
    Outcome.LOCKED: observers.CODE_LOCKED,
}


def _observed_outcome(result: CodeResult) -> str:
    if result.outcome is Outcome.WRONG and result.replayed:
        return observers.CODE_REPLAYED
    return _OBSERVED_OUTCOMES[result.outcome]


def _verify(
    user: User,
    text: str,
    settings: OtpSettings,
    device: OtpDevice | None,
    account: TwoStepAccount | None,
    *,
    now: datetime,
    ip: str,
) -> CodeResult:
    # Most users have the row already: read it, and create it only when missing.
    account = account or ensure_account(user.id)
    if settings.log_requests:
        events.record(events.OTP_CODE_REQUESTED, now=now, ip=ip, actor=user, subject=user)
    if is_locked(account, now):
        return CodeResult(Outcome.LOCKED, locked_until=account.locked_until)
    digits = device.digits if device else 6
    otp_code = otp.normalize_code(text, (digits,))
    recovery = recovery_codes.normalize_code(text) if otp_code is None else None
    # Told apart by their length, so a one-time password never costs a look for a temporary
    # code; a wrong temporary code counts toward the lock like any wrong code.
    temporary = (
        temporary_codes.normalize_code(text) if otp_code is None and recovery is None else None
    )
    if otp_code is None and recovery is None and temporary is None:
        return CodeResult(Outcome.MALFORMED)
    # Only a device that mandatory two-step made ask for its code gets here switched off.
    switched_off = device is not None and not device_is_active(device, now)
    accepted = False
    temporary_until: datetime | None = None
    if otp_code is not None and device is not None:
        accepted = spend_otp(device, otp_code, now=now, settings=settings)
    elif recovery is not None and settings.allow_recovery_codes:
        accepted = spend_recovery_code(user, recovery, now=now, ip=ip)
    elif temporary is not None:
        temporary_until = temporary_codes.use_code(user, temporary, now=now)
        accepted = temporary_until is not None
    if not accepted:
        locked_until = register_failure(user, now=now, ip=ip, settings=settings)
        if locked_until is not None:
            return CodeResult(Outcome.LOCKED, locked_until=locked_until)
        replayed = (
            otp_code is not None
            and device is not None
            and was_spent(device, otp_code, now=now, settings=settings)
        )
        return CodeResult(Outcome.WRONG, replayed=replayed)
    # The lock was read before the spend: a burst of guesses sent at once all read "not
    # locked". Read it again now, after the spend's UPDATE, so that a lock another request
    # set meanwhile refuses even the right code (which stays spent).
    locked_until = db.session.scalar(
        select(TwoStepAccount.locked_until).where(TwoStepAccount.user_id == user.id)
    )
    if locked_until is not None and locked_until > now:
        return CodeResult(Outcome.LOCKED, locked_until=locked_until)
    if account.failed_attempts:
        # A failure counted meanwhile by another process may survive: never fewer counts.
        db.session.execute(
            update(TwoStepAccount)
            .where(TwoStepAccount.user_id == user.id)
            .values(failed_attempts=0)
            .execution_options(synchronize_session=False)
        )
    if temporary is not None:
        # It stands in for a device the user does not have: a switched-off device stays
        # as it is, and nothing is spent.
        events.record(
            events.TEMPORARY_CODE_USED,
            now=now,
            ip=ip,
            actor=user,
            subject=user,
            details={"until": events.moment(temporary_until)} if temporary_until else None,
        )
        return CodeResult(Outcome.TEMPORARY_ACCEPTED)
    if switched_off:
        _switch_back_on(user, now=now, ip=ip)
    if recovery is not None:
        left = recovery_codes_left(user.id)
        events.record(
            events.RECOVERY_CODE_USED,
            now=now,
            ip=ip,
            actor=user,
            subject=user,
            details={"left": left},
        )
        notices.notify(user, notices.RECOVERY_CODE_USED, now=now, values={"left": left})
        return CodeResult(Outcome.RECOVERY_ACCEPTED, recovery_codes_left=left)
    events.record(events.OTP_CODE_ACCEPTED, now=now, ip=ip, actor=user, subject=user)
    return CodeResult(Outcome.ACCEPTED)


def _sign_in_state(
    user_id: int,
) -> tuple[OtpSettings, OtpDevice | None, TwoStepAccount | None]:
    """Return the settings, the user's device and lock record (either may be missing), in
    one query."""
    row = db.session.execute(
        select(OtpSettings, OtpDevice, TwoStepAccount)
        .select_from(OtpSettings)
        .outerjoin(OtpDevice, OtpDevice.user_id == user_id)
        .outerjoin(TwoStepAccount, TwoStepAccount.user_id == user_id)
        .where(OtpSettings.id == SETTINGS_ROW_ID)
    ).one_or_none()
    if row is None:  # a database emptied by hand: the settings row is made again
        return load_settings(), None, None
    return keep_for_session(row[0]), row[1], row[2]


def spend_otp(device: OtpDevice, code: str, *, now: datetime, settings: OtpSettings) -> bool:
    """Check a one-time password and spend it in one conditional UPDATE."""
    secret = secret_of(device)
    params = params_of(device)
    if params.kind == "totp":
        match = otp.verify_totp(
            secret,
            params,
            code,
            now,
            last_step=device.last_step,
            drift=device.drift,
            window=settings.totp_window,
        )
        return match is not None and spend_step(device, match, now=now)
    matched = otp.verify_hotp(
        secret, params, code, counter=device.counter, window=settings.hotp_window
    )
    return matched is not None and spend_counter(device, matched, now=now)


def was_spent(device: OtpDevice, code: str, *, now: datetime, settings: OtpSettings) -> bool:
    """Tell whether a refused one-time password is one the device showed and spent already.

    Asked only after a refusal, to tell a replayed code from a wrong one: the TOTP steps of
    the tolerance window at or before the last spent step, the HOTP counters of the
    look-ahead window just below the next unused one.
    """
    secret = secret_of(device)
    params = params_of(device)
    if params.kind == "totp":
        if device.last_step is None:
            return False
        match = otp.verify_totp(
            secret,
            params,
            code,
            now,
            last_step=None,
            drift=device.drift,
            window=settings.totp_window,
        )
        return match is not None and match.step <= device.last_step
    if device.counter < 1:
        return False
    low = max(0, device.counter - settings.hotp_window - 1)
    matched = otp.verify_hotp(secret, params, code, counter=low, window=device.counter - 1 - low)
    return matched is not None


def _switch_back_on(user: User, *, now: datetime, ip: str) -> None:
    """Re-enable a device whose code mandatory two-step asked for at sign-in."""
    db.session.execute(
        update(OtpDevice)
        .where(OtpDevice.user_id == user.id)
        .values(enabled=True, disabled_until=None)
        .execution_options(synchronize_session=False)
    )
    events.record(
        events.OTP_REENABLED,
        now=now,
        ip=ip,
        actor=user,
        subject=user,
        details={"reason": "mandatory"},
    )


def register_failure(
    user: User, *, now: datetime, ip: str, settings: OtpSettings
) -> datetime | None:
    """Count a failed code in the database; lock at the limit; return the lock's end if set.

    The count stays visible while the lock lasts; the first failure after a lock has
    ended starts a new count.
    """
    lock_over = and_(TwoStepAccount.locked_until.is_not(None), TwoStepAccount.locked_until <= now)
    db.session.execute(
        update(TwoStepAccount)
        .where(TwoStepAccount.user_id == user.id)
        .values(
            failed_attempts=case((lock_over, 1), else_=TwoStepAccount.failed_attempts + 1),
            locked_until=case((lock_over, null()), else_=TwoStepAccount.locked_until),
        )
        .execution_options(synchronize_session=False)
    )
    attempts = (
        db.session.scalar(
            select(TwoStepAccount.failed_attempts).where(TwoStepAccount.user_id == user.id)
        )
        or 0
    )
    if settings.log_requests:
        events.record(
            events.OTP_CODE_FAILED,
            now=now,
            ip=ip,
            actor=user,
            subject=user,
            outcome=events.FAILURE,
            details={"attempt": attempts},
        )
    if attempts < settings.max_attempts:
        return None
    until = now + timedelta(minutes=settings.lockout_minutes)
    result = db.session.execute(
        update(TwoStepAccount)
        .where(TwoStepAccount.user_id == user.id, TwoStepAccount.locked_until.is_(None))
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 1:
        events.record(
            events.OTP_LOCKED,
            now=now,
            ip=ip,
            actor=user,
            subject=user,
            outcome=events.REFUSED,
            details={"until": events.moment(until), "attempts": attempts},
        )
        notices.notify(user, notices.OTP_LOCKED, now=now, values={"until": notices.moment(until)})
        if user.is_admin:
            notices.notify_administrators(
                notices.ADMIN_LOCKED,
                now=now,
                values={"login": user.login, "until": notices.moment(until)},
                except_user_id=user.id,
            )
    db.session.expire_all()
    return until
