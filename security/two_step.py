"""Two-step authentication for one user: state, connection, codes, locks, grace, recovery codes.

Everything here takes `now`; nothing knows about requests. Spending a code is a single
conditional UPDATE whose row count says who won, so a code works once across
sessions, flows and server processes.
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import and_, case, delete, func, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import (
    OtpDevice,
    OtpSettings,
    RecoveryCode,
    RememberedDevice,
    SpentConnection,
    TwoStepAccount,
    User,
)
from security import events, keys, otp, recovery_codes, sessions
from security.messages import Refusal
from security.otp import OtpParams, TotpMatch
from security.otp_settings import load_settings
from security.secret_box import SecretBoxError
from security.statements import rowcount
from security.untrusted_text import neutralize

# How long the page that shows a new secret stays valid.
CONNECTION_MAX_AGE = 15 * 60
# A single TOTP code at connection is searched this far either side, so that a phone
# whose clock is off still connects and its owner is told by how much.
CONNECT_TOTP_WINDOW = 10
# Synchronisation searches (RFC 4226 appendix, the reference product's numbers).
SYNC_HOTP_LOOKAHEAD = 15_000
SYNC_TOTP_OFFSET = 180
MAX_DISABLE_DAYS = 30


class TwoStepError(Refusal):
    """A refused two-step action."""


class Status(enum.StrEnum):
    """A user's two-step state, as the user list and the overview show it."""

    NOT_CONFIGURED = "not_configured"
    ACTIVE = "active"
    DISABLED = "disabled"
    PENDING = "pending"
    OVERDUE = "overdue"
    LOCKED = "locked"


# --- reading the state ---------------------------------------------------------------


def device_of(user_id: int) -> OtpDevice | None:
    """Return the user's device, if one is connected."""
    return db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == user_id))


def account_of(user_id: int) -> TwoStepAccount | None:
    """Return the user's lock and grace record, if any."""
    return db.session.get(TwoStepAccount, user_id)


def _device_and_account(user_id: int) -> tuple[OtpDevice | None, TwoStepAccount | None]:
    """Return the user's device and lock record, either may be missing, in one query."""
    row = db.session.execute(
        select(OtpDevice, TwoStepAccount)
        .select_from(User)
        .outerjoin(OtpDevice, OtpDevice.user_id == User.id)
        .outerjoin(TwoStepAccount, TwoStepAccount.user_id == User.id)
        .where(User.id == user_id)
    ).one_or_none()
    return (row[0], row[1]) if row is not None else (None, None)


def ensure_account(user_id: int) -> TwoStepAccount:
    """Return the user's lock and grace record, creating it without racing other processes."""
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.session.execute(
            insert(TwoStepAccount)
            .values(user_id=user_id, failed_attempts=0)
            .on_conflict_do_nothing()
        )
    elif db.session.get(TwoStepAccount, user_id) is None:
        db.session.add(TwoStepAccount(user_id=user_id, failed_attempts=0))
        db.session.flush()
    account = db.session.get(TwoStepAccount, user_id, populate_existing=True)
    if account is None:
        raise RuntimeError("the two-step account row was not created")
    return account


def device_is_active(device: OtpDevice, now: datetime) -> bool:
    """Tell whether a device asks for codes now: a temporary switch-off ends by itself."""
    return device.enabled or (device.disabled_until is not None and device.disabled_until <= now)


def device_applies(device: OtpDevice, *, mandatory: bool, now: datetime) -> bool:
    """Tell whether a device asks for codes at sign-in.

    Under mandatory two-step only an administrator's temporary switch-off, with its end
    date, lets the password alone in: a device switched off "until re-enabled" (by its
    owner before two-step became mandatory for them) still asks for the code.
    """
    return device_is_active(device, now) or (mandatory and device.disabled_until is None)


def is_locked(account: TwoStepAccount | None, now: datetime) -> bool:
    """Tell whether the second step is locked for the account at `now`."""
    return bool(account and account.locked_until and account.locked_until > now)


def is_exempt(account: TwoStepAccount | None, now: datetime) -> bool:
    """Tell whether an administrator exempted the user from mandatory two-step until later."""
    return bool(account and account.exempt_until and account.exempt_until > now)


def is_mandatory_for(
    user: User, settings: OtpSettings, account: TwoStepAccount | None, now: datetime
) -> bool:
    """Tell whether two-step is mandatory for the user at `now`."""
    return is_bound_by_mandatory(user, settings) and not is_exempt(account, now)


def status_of(
    user: User,
    settings: OtpSettings,
    device: OtpDevice | None,
    account: TwoStepAccount | None,
    now: datetime,
) -> Status:
    """Compute the user's state when read: nothing expires in the background."""
    if is_locked(account, now):
        return Status.LOCKED
    if device is not None:
        mandatory = not device_is_active(device, now) and is_mandatory_for(
            user, settings, account, now
        )
        return (
            Status.ACTIVE
            if device_applies(device, mandatory=mandatory, now=now)
            else Status.DISABLED
        )
    if is_mandatory_for(user, settings, account, now):
        deadline = account.grace_deadline if account else None
        if deadline is not None and deadline <= now:
            return Status.OVERDUE
        return Status.PENDING
    return Status.NOT_CONFIGURED


def params_of(device: OtpDevice) -> OtpParams:
    """Return the code parameters of a stored device."""
    return OtpParams(
        kind=cast(Literal["totp", "hotp"], device.kind),
        digits=device.digits,
        period=device.period,
        t0=device.t0,
        algorithm=cast(Literal["SHA1", "SHA256", "SHA512"], device.algorithm),
    )


def _secret_of(device: OtpDevice) -> bytes:
    try:
        return keys.secret_box().decrypt(device.secret_encrypted)
    except SecretBoxError:
        raise TwoStepError("otp.secret_unreadable") from None


# --- connecting a device --------------------------------------------------------------


@dataclass(frozen=True)
class PendingConnection:
    """A secret shown to the user, waiting for the codes that prove the app has it."""

    user_id: int
    secret: bytes
    params: OtpParams
    source: str
    # Names this connection, so that its first success spends it (SpentConnection).
    connection_id: str

    def seal(self, now: datetime) -> str:
        """Encrypt the pending connection for the page's hidden field (never a cookie)."""
        payload = {
            "u": self.user_id,
            "s": self.secret.hex(),
            "k": self.params.kind,
            "d": self.params.digits,
            "p": self.params.period,
            "t": self.params.t0,
            "a": self.params.algorithm,
            "src": self.source,
            "c": self.connection_id,
        }
        return keys.secret_box().seal(json.dumps(payload).encode(), now=now)


def new_connection(
    user: User,
    kind: str,
    *,
    source: str = "mobile",
    secret: bytes | None = None,
    digits: int = 6,
    period: int = 30,
    t0: int = 0,
    algorithm: str = "SHA1",
) -> PendingConnection:
    """Start connecting a device with a fresh secret (or a hardware token's own)."""
    params = OtpParams(
        kind=cast(Literal["totp", "hotp"], kind),
        digits=digits,
        period=period,
        t0=t0,
        algorithm=cast(Literal["SHA1", "SHA256", "SHA512"], algorithm),
    )
    return PendingConnection(
        user_id=user.id,
        secret=secret or otp.new_secret(),
        params=params,
        source=source,
        connection_id=secrets.token_hex(16),
    )


def open_connection(token: str, user: User, *, now: datetime) -> PendingConnection:
    """Read back a pending connection from its sealed token, for the same user only."""
    try:
        payload: dict[str, Any] = json.loads(
            keys.secret_box().open_sealed(token, max_age=CONNECTION_MAX_AGE, now=now)
        )
    except (SecretBoxError, ValueError):
        raise TwoStepError("otp.connection_expired") from None
    connection_id = payload.get("c")
    if payload.get("u") != user.id or not isinstance(connection_id, str):
        raise TwoStepError("otp.connection_expired")
    if db.session.get(SpentConnection, connection_id) is not None:
        # Already stored a device: never show its secret again, never store it twice.
        raise TwoStepError("otp.already_connected")
    return PendingConnection(
        user_id=user.id,
        secret=bytes.fromhex(payload["s"]),
        params=OtpParams(
            kind=payload["k"],
            digits=payload["d"],
            period=payload["p"],
            t0=payload["t"],
            algorithm=payload["a"],
        ),
        source=payload["src"],
        connection_id=connection_id,
    )


def provisioning_uri(pending: PendingConnection, issuer: str, login: str) -> str:
    """Return the otpauth:// link for the pending connection."""
    return otp.provisioning_uri(pending.secret, pending.params, issuer, login)


@dataclass(frozen=True)
class Connected:
    device: OtpDevice
    recovery_codes: list[str]
    clock_offset: str | None


def _normalize_or_refuse(text: str, digits: int, field: str) -> str:
    code = otp.normalize_code(text or "", (digits,))
    if code is None:
        raise TwoStepError("otp.code_malformed", field, digits=digits)
    return code


def confirm_connection(
    pending: PendingConnection,
    user: User,
    code: str,
    code2: str = "",
    *,
    now: datetime,
    settings: OtpSettings,
    actor: User,
    ip: str,
    keep_session_id: str | None = None,
) -> Connected:
    """Store the device once its codes verify; replace any earlier one; return new codes."""
    params = pending.params
    first = _normalize_or_refuse(code, params.digits, "code")
    wide = pending.source == "hardware"
    counter = 0
    last_step: int | None = None
    drift = 0
    if params.kind == "hotp":
        second = _normalize_or_refuse(code2, params.digits, "code2")
        lookahead = SYNC_HOTP_LOOKAHEAD if wide else max(settings.hotp_window, 1) + 1
        spent = otp.synchronize_hotp(
            pending.secret, params, first, second, counter=0, max_lookahead=lookahead
        )
        if spent is None:
            _record_connect_failure(user, actor, now, ip)
            raise TwoStepError("otp.codes_wrong", "code")
        counter = spent + 1
    else:
        match: TotpMatch | None
        if code2.strip():
            second = _normalize_or_refuse(code2, params.digits, "code2")
            match = otp.synchronize_totp(
                pending.secret,
                params,
                first,
                second,
                now,
                max_offset=SYNC_TOTP_OFFSET if wide else CONNECT_TOTP_WINDOW,
            )
        else:
            window = SYNC_TOTP_OFFSET if wide else CONNECT_TOTP_WINDOW
            match = otp.verify_totp(
                pending.secret, params, first, now, last_step=None, drift=0, window=window
            )
        if match is None:
            _record_connect_failure(user, actor, now, ip)
            raise TwoStepError("otp.code_wrong", "code")
        last_step, drift = match.step, match.drift

    _spend_connection(pending, now=now)
    _remove_device_data(user.id)
    device = OtpDevice(
        user_id=user.id,
        kind=params.kind,
        source=pending.source,
        secret_encrypted=keys.secret_box().encrypt(pending.secret),
        digits=params.digits,
        period=params.period,
        t0=params.t0,
        algorithm=params.algorithm,
        counter=counter,
        last_step=last_step,
        drift=drift,
        enabled=True,
        created_at=now,
        last_used_at=now,
    )
    db.session.add(device)
    account = ensure_account(user.id)
    account.failed_attempts = 0
    account.locked_until = None
    sessions.end_user_sessions(
        user.id, now=now, reason="device_replaced", keep_session_id=keep_session_id
    )
    db.session.flush()
    events.record(
        events.OTP_CONNECTED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"type": params.kind, "source": pending.source, "drift_steps": drift},
    )
    codes = (
        generate_recovery_codes(user, now=now, actor=actor, ip=ip)
        if settings.allow_recovery_codes
        else []
    )
    offset = otp.describe_clock_offset(drift, params.period) if params.kind == "totp" else None
    return Connected(device=device, recovery_codes=codes, clock_offset=offset)


def _spend_connection(pending: PendingConnection, *, now: datetime) -> None:
    """Mark the sealed connection used, or refuse: of two submissions only one stores.

    The insert of its id is the race's referee: a second submission, even a concurrent
    one in another process, fails on the primary key (it waits for the first to commit
    on PostgreSQL; SQLite serialises the writers).
    """
    db.session.execute(
        delete(SpentConnection).where(
            SpentConnection.spent_at < now - timedelta(seconds=CONNECTION_MAX_AGE)
        )
    )
    try:
        with db.session.begin_nested():
            db.session.add(
                SpentConnection(id=pending.connection_id, user_id=pending.user_id, spent_at=now)
            )
    except IntegrityError:
        raise TwoStepError("otp.already_connected") from None


def _record_connect_failure(user: User, actor: User, now: datetime, ip: str) -> None:
    events.record(
        events.OTP_CONNECT_FAILED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        outcome=events.FAILURE,
    )


def _remove_device_data(user_id: int) -> None:
    """Drop the device, its recovery codes and remembered computers (a new device wipes them)."""
    db.session.execute(delete(OtpDevice).where(OtpDevice.user_id == user_id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(delete(RememberedDevice).where(RememberedDevice.user_id == user_id))


# --- codes at sign-in -----------------------------------------------------------------


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    RECOVERY_ACCEPTED = "recovery_accepted"
    MALFORMED = "malformed"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class CodeResult:
    outcome: Outcome
    locked_until: datetime | None = None
    recovery_codes_left: int | None = None
    clock_offset: str | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.ACCEPTED, Outcome.RECOVERY_ACCEPTED)


def spend_otp(device: OtpDevice, code: str, *, now: datetime, settings: OtpSettings) -> bool:
    """Check a one-time password and spend it in one conditional UPDATE."""
    secret = _secret_of(device)
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
        return match is not None and _spend_step(device, match, now=now)
    matched = otp.verify_hotp(
        secret, params, code, counter=device.counter, window=settings.hotp_window
    )
    return matched is not None and _spend_counter(device, matched, now=now)


def _spend_step(device: OtpDevice, match: TotpMatch, *, now: datetime) -> bool:
    """Move the device's last TOTP step to `match` unless that step is already spent."""
    statement = (
        update(OtpDevice)
        .where(
            OtpDevice.id == device.id,
            or_(OtpDevice.last_step.is_(None), OtpDevice.last_step < match.step),
        )
        .values(last_step=match.step, drift=match.drift, last_used_at=now)
    )
    return _won(statement, device)


def _spend_counter(device: OtpDevice, matched: int, *, now: datetime) -> bool:
    """Move the device's HOTP counter past `matched` unless it is already there."""
    statement = (
        update(OtpDevice)
        .where(OtpDevice.id == device.id, OtpDevice.counter <= matched)
        .values(counter=matched + 1, last_used_at=now)
    )
    return _won(statement, device)


def _won(statement: Any, device: OtpDevice) -> bool:
    # The row count of the conditional UPDATE says who won a race for the same code.
    won = rowcount(db.session.execute(statement.execution_options(synchronize_session=False)))
    db.session.expire(device)
    return won == 1


def spend_recovery_code(user: User, text: str, *, now: datetime, ip: str) -> bool:
    """Spend an unused recovery code of the user, once, whatever else races for it."""
    digest = recovery_codes.code_digest(text, keys.recovery_key())
    row_id = db.session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.digest == digest,
            RecoveryCode.used_at.is_(None),
        )
    )
    if row_id is None:
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None))
        .values(used_at=now, used_ip=neutralize(ip, 64))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def verify_sign_in_code(
    user: User, text: str, *, now: datetime, ip: str, settings: OtpSettings
) -> CodeResult:
    """Check the second step's code (one-time password or recovery code) with locks."""
    device, account = _device_and_account(user.id)
    # Most users have the row already: read it, and create it only when missing.
    account = account or ensure_account(user.id)
    if settings.log_requests:
        events.record(events.OTP_CODE_REQUESTED, now=now, ip=ip, actor=user, subject=user)
    if is_locked(account, now):
        return CodeResult(Outcome.LOCKED, locked_until=account.locked_until)
    digits = device.digits if device else 6
    otp_code = otp.normalize_code(text, (digits,))
    recovery = recovery_codes.normalize_code(text) if otp_code is None else None
    if otp_code is None and recovery is None:
        return CodeResult(Outcome.MALFORMED)
    # Only a device that mandatory two-step made ask for its code gets here switched off.
    switched_off = device is not None and not device_is_active(device, now)
    accepted = False
    # The events wait in the session and go in with the others in one batch at the
    # commit: the spend below does not depend on them.
    with db.session.no_autoflush:
        if otp_code is not None and device is not None:
            accepted = spend_otp(device, otp_code, now=now, settings=settings)
        elif recovery is not None and settings.allow_recovery_codes:
            accepted = spend_recovery_code(user, recovery, now=now, ip=ip)
    if not accepted:
        locked_until = register_failure(user, now=now, ip=ip, settings=settings)
        if locked_until is not None:
            return CodeResult(Outcome.LOCKED, locked_until=locked_until)
        return CodeResult(Outcome.WRONG)
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
        return CodeResult(Outcome.RECOVERY_ACCEPTED, recovery_codes_left=left)
    events.record(events.OTP_CODE_ACCEPTED, now=now, ip=ip, actor=user, subject=user)
    return CodeResult(Outcome.ACCEPTED)


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
            details={"until": until.strftime("%Y-%m-%d %H:%M UTC"), "attempts": attempts},
        )
    db.session.expire_all()
    return until


# --- what administrators and users do with a device ----------------------------------


def _require_device(user: User) -> OtpDevice:
    device = device_of(user.id)
    if device is None:
        raise TwoStepError("otp.no_device")
    return device


def disable(
    user: User,
    *,
    days: int,
    now: datetime,
    actor: User | None,
    ip: str,
    settings: OtpSettings,
    keep_session_id: str | None = None,
) -> datetime | None:
    """Switch a user's two-step off for `days` (0: until re-enabled); return when it ends."""
    device = _require_device(user)
    if not 0 <= days <= MAX_DISABLE_DAYS:
        raise TwoStepError("otp.disable_days", "days", max=MAX_DISABLE_DAYS)
    mandatory = is_mandatory_for(user, settings, account_of(user.id), now)
    # Nobody switches off their own mandatory two-step, whatever their rights; another
    # administrator may, and so may the command line (actor None) in an emergency.
    if mandatory:
        _refuse_own_mandatory(user, actor, events.OTP_DISABLED, now=now, ip=ip)
    if mandatory and not days:
        # Under mandatory two-step a switch-off "until re-enabled" would not let the user
        # in without a code (device_applies): only one with an end date does.
        raise TwoStepError("otp.mandatory_needs_days", "days", max=MAX_DISABLE_DAYS)
    until = now + timedelta(days=days) if days else None
    device.enabled = False
    device.disabled_until = until
    db.session.execute(delete(RememberedDevice).where(RememberedDevice.user_id == user.id))
    sessions.end_user_sessions(
        user.id, now=now, reason="otp_disabled", keep_session_id=keep_session_id
    )
    events.record(
        events.OTP_DISABLED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"until": until.strftime("%Y-%m-%d %H:%M UTC") if until else "re-enabled"},
    )
    return until


def is_bound_by_mandatory(user: User, settings: OtpSettings) -> bool:
    """Tell whether mandatory two-step names the user's groups, exempt or not."""
    if not (settings.enabled and settings.mandatory):
        return False
    wanted = set(settings.mandatory_group_ids)
    return any(group.id in wanted for group in user.groups)


def _refuse_own_mandatory(
    user: User, actor: User | None, event_type: str, *, now: datetime, ip: str
) -> None:
    """Refuse, on record, a change of one's own mandatory two-step (whatever one's rights).

    A manager of one-time passwords, or an administrator, who could exempt themselves,
    extend their own grace, or remove or switch off their own device would sign in with
    the password alone. Another administrator may; so may the command line (actor None).
    """
    if actor is None or actor.id != user.id:
        return
    events.record(
        event_type,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        outcome=events.REFUSED,
        details={"reason": "own mandatory two-step"},
    )
    raise TwoStepError(
        "otp.mandatory_no_disable" if event_type == events.OTP_DISABLED else "otp.own_mandatory"
    )


def enable(user: User, *, now: datetime, actor: User, ip: str) -> None:
    """Switch a disabled device back on."""
    device = _require_device(user)
    device.enabled = True
    device.disabled_until = None
    events.record(events.OTP_REENABLED, now=now, ip=ip, actor=actor, subject=user)


def remove_device(
    user: User, *, now: datetime, actor: User, ip: str, keep_session_id: str | None = None
) -> None:
    """Remove the device with its recovery codes and remembered computers."""
    _require_device(user)
    if is_mandatory_for(user, load_settings(), account_of(user.id), now):
        _refuse_own_mandatory(user, actor, events.OTP_DELETED, now=now, ip=ip)
    _remove_device_data(user.id)
    sessions.end_user_sessions(
        user.id, now=now, reason="otp_deleted", keep_session_id=keep_session_id
    )
    events.record(events.OTP_DELETED, now=now, ip=ip, actor=actor, subject=user)


def synchronize(
    user: User, code: str, code2: str, *, now: datetime, actor: User, ip: str
) -> OtpDevice:
    """Re-find a counter or clock drift from two consecutive codes; both are spent."""
    device = _require_device(user)
    params = params_of(device)
    first = _normalize_or_refuse(code, params.digits, "code")
    second = _normalize_or_refuse(code2, params.digits, "code2")
    secret = _secret_of(device)
    if params.kind == "hotp":
        spent = otp.synchronize_hotp(
            secret,
            params,
            first,
            second,
            counter=device.counter,
            max_lookahead=SYNC_HOTP_LOOKAHEAD,
        )
        if spent is None or not _spend_counter(device, spent, now=now):
            raise TwoStepError("otp.codes_wrong", "code")
        details: dict[str, object] = {"type": "hotp"}
    else:
        match = otp.synchronize_totp(
            secret,
            params,
            first,
            second,
            now,
            max_offset=SYNC_TOTP_OFFSET,
            last_step=device.last_step,
        )
        if match is None or not _spend_step(device, match, now=now):
            raise TwoStepError("otp.codes_wrong", "code")
        details = {"type": "totp", "drift_seconds": match.drift * params.period}
    events.record(
        events.OTP_SYNCHRONIZED, now=now, ip=ip, actor=actor, subject=user, details=details
    )
    return device


def unlock(user: User, *, now: datetime, actor: User, ip: str) -> None:
    """Clear failed attempts and a lock."""
    account = ensure_account(user.id)
    account.failed_attempts = 0
    account.locked_until = None
    events.record(events.OTP_UNLOCKED, now=now, ip=ip, actor=actor, subject=user)


def start_grace_if_needed(
    user: User, *, now: datetime, settings: OtpSettings, ip: str
) -> TwoStepAccount:
    """At the first sign-in under mandatory two-step, set the deadline to connect."""
    account = ensure_account(user.id)
    if account.grace_deadline is None:
        account.grace_deadline = now + timedelta(days=settings.mandatory_days)
        events.record(
            events.OTP_GRACE_STARTED,
            now=now,
            ip=ip,
            actor=user,
            subject=user,
            details={"deadline": account.grace_deadline.strftime("%Y-%m-%d %H:%M UTC")},
        )
    return account


def extend_grace(user: User, days: int, *, now: datetime, actor: User, ip: str) -> datetime:
    """Give a user more days to connect, counted from the later of now and the deadline."""
    if not 1 <= days <= 365:
        raise TwoStepError("otp.defer_days", "days")
    if is_bound_by_mandatory(user, load_settings()):
        _refuse_own_mandatory(user, actor, events.OTP_GRACE_EXTENDED, now=now, ip=ip)
    account = ensure_account(user.id)
    start = max(account.grace_deadline or now, now)
    account.grace_deadline = start + timedelta(days=days)
    events.record(
        events.OTP_GRACE_EXTENDED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"deadline": account.grace_deadline.strftime("%Y-%m-%d %H:%M UTC")},
    )
    return account.grace_deadline


def exempt(user: User, until: datetime | None, *, now: datetime, actor: User, ip: str) -> None:
    """Exempt a user from mandatory two-step until a date (None ends the exemption)."""
    if until is not None and until <= now:
        raise TwoStepError("otp.exempt_past", "until")
    if until is not None and is_bound_by_mandatory(user, load_settings()):
        # Ending one's own exemption (until None) only gives protection back.
        _refuse_own_mandatory(user, actor, events.OTP_EXEMPTED, now=now, ip=ip)
    account = ensure_account(user.id)
    account.exempt_until = until
    events.record(
        events.OTP_EXEMPTED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"until": until.strftime("%Y-%m-%d") if until else "ended"},
    )


# --- recovery codes -------------------------------------------------------------------


def generate_recovery_codes(user: User, *, now: datetime, actor: User, ip: str) -> list[str]:
    """Replace the user's recovery codes; return the new ones formatted, to show once."""
    codes = recovery_codes.generate_codes()
    key = keys.recovery_key()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all(
        RecoveryCode(
            user_id=user.id,
            digest=recovery_codes.code_digest(code, key),
            position=index,
            created_at=now,
        )
        for index, code in enumerate(codes, start=1)
    )
    events.record(
        events.RECOVERY_CODES_GENERATED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"count": len(codes)},
    )
    return [recovery_codes.format_code(code) for code in codes]


def recovery_codes_left(user_id: int) -> int:
    """Count the user's unused recovery codes."""
    return (
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def recovery_code_rows(user_id: int) -> list[RecoveryCode]:
    """Return the user's recovery code records (no code text: only positions and use)."""
    return list(
        db.session.scalars(
            select(RecoveryCode)
            .where(RecoveryCode.user_id == user_id)
            .order_by(RecoveryCode.position)
        )
    )


# --- remembered computers -------------------------------------------------------------


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember_computer(
    user: User, *, now: datetime, ip: str, user_agent: str, days: int
) -> tuple[str, datetime]:
    """Remember this computer for the user; return the cookie token and its expiry."""
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    db.session.add(
        RememberedDevice(
            user_id=user.id,
            token_digest=_token_digest(token),
            user_agent=neutralize(user_agent, 255),
            ip=neutralize(ip, 64),
            created_at=now,
            last_used_at=now,
            expires_at=expires,
        )
    )
    events.record(
        events.DEVICE_REMEMBERED,
        now=now,
        ip=ip,
        actor=user,
        subject=user,
        details={"days": days},
    )
    return token, expires


def is_remembered(user: User, token: str | None, *, now: datetime) -> bool:
    """Tell whether the cookie token remembers this computer for this user.

    The Parameters tab has the last word: switched off, no computer is remembered; with
    fewer days, none is remembered longer than that since it was remembered.
    """
    if not token or len(token) > 100:
        return False
    settings = load_settings()
    if not settings.allow_remember:
        return False
    record = db.session.scalar(
        select(RememberedDevice).where(
            RememberedDevice.token_digest == _token_digest(token),
            RememberedDevice.user_id == user.id,
            RememberedDevice.expires_at > now,
            RememberedDevice.created_at > now - timedelta(days=settings.remember_days),
        )
    )
    if record is None:
        return False
    record.last_used_at = now
    return True


def remembered_computers(user_id: int, *, now: datetime) -> list[RememberedDevice]:
    """List the user's remembered computers that have not expired."""
    return list(
        db.session.scalars(
            select(RememberedDevice)
            .where(RememberedDevice.user_id == user_id, RememberedDevice.expires_at > now)
            .order_by(RememberedDevice.last_used_at.desc())
        )
    )


def forget_computers(user: User, *, now: datetime, actor: User, ip: str) -> int:
    """Forget every remembered computer of the user; return how many."""
    result = db.session.execute(delete(RememberedDevice).where(RememberedDevice.user_id == user.id))
    count = rowcount(result)
    events.record(
        events.REMEMBERED_DEVICES_FORGOTTEN,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"count": count},
    )
    return count


def rotate_secrets() -> tuple[int, int]:
    """Re-encrypt every stored secret under the newest key; return (rotated, total)."""
    box = keys.secret_box()
    rotated = total = 0
    for device in db.session.scalars(select(OtpDevice)):
        total += 1
        if not box.is_current(device.secret_encrypted):
            device.secret_encrypted = box.rotate(device.secret_encrypted)
            rotated += 1
    return rotated, total


def describe(user: User, *, now: datetime, settings: OtpSettings) -> str:
    """Return the user's two-step state in one line, for the command line."""
    device = device_of(user.id)
    account = account_of(user.id)
    status = status_of(user, settings, device, account, now)
    parts = [f"{user.login}: {status.value}"]
    if not settings.enabled:
        parts.append("two-step authentication is switched off for the console")
    if device is not None:
        parts.append(f"{device.kind.upper()} {device.source}")
        if not device_is_active(device, now):
            until = device.disabled_until
            parts.append(
                f"disabled until {until:%Y-%m-%d %H:%M} UTC" if until else "disabled until enabled"
            )
        parts.append(f"{recovery_codes_left(user.id)} recovery codes left")
    if account is not None and is_locked(account, now) and account.locked_until:
        parts.append(f"locked until {account.locked_until:%Y-%m-%d %H:%M} UTC")
    if account is not None and account.grace_deadline and device is None:
        parts.append(f"connect by {account.grace_deadline:%Y-%m-%d %H:%M} UTC")
    return "; ".join(parts)
