"""Two-step authentication for one user: state, policy, the administrator's actions.

The feature is "two-step" (a password, then a code); "otp" is only the one-time-password
engine (security.otp: HOTP and TOTP math) and the device that makes the codes. Here: the
user's state as read now (Status, status_of, who must use two-step), the administrator's
actions (disable, enable, remove, synchronise, unlock), grace and exemption under
mandatory two-step, key rotation and the one-line description for the command line.
Connecting a device is in security.device_connection, the second step at sign-in in
security.second_step, remembered computers in security.remembered_computers and the
recovery codes in security.recovery_code_store. Everything takes `now`; nothing knows
about requests.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, cast

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from extensions import db
from models import (
    HardwareToken,
    OtpDevice,
    OtpSettings,
    RecoveryCode,
    RememberedComputer,
    TemporaryCode,
    TwoStepAccount,
    User,
)
from security import events, keys, notices, otp, sessions
from security.device_spend import spend_counter, spend_step
from security.messages import Refusal
from security.otp import OtpParams
from security.otp_settings import load_settings
from security.recovery_code_store import recovery_codes_left
from security.secret_box import SecretBoxError

# Synchronisation searches (RFC 4226 appendix, the reference product's numbers).
SYNC_HOTP_LOOKAHEAD = 15_000
SYNC_TOTP_OFFSET = 180
MAX_DISABLE_DAYS = 30


class TwoStepError(Refusal):
    """A refused two-step action."""


class Unread(enum.Enum):
    """A row the caller has not read (None would say it does not exist)."""

    UNREAD = "unread"


class Status(enum.StrEnum):
    """A user's two-step state, as the user list and the overview show it."""

    NOT_CONFIGURED = "not_configured"
    ACTIVE = "active"
    DISABLED = "disabled"
    # Under mandatory two-step, within the days given to connect a device. The value
    # stays "pending": pages and scripts read it (data-otp-status="pending").
    IN_GRACE = "pending"
    OVERDUE = "overdue"
    LOCKED = "locked"


# --- reading the state ---------------------------------------------------------------


def device_of(user_id: int) -> OtpDevice | None:
    """Return the user's device, if one is connected."""
    return db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == user_id))


def account_of(user_id: int) -> TwoStepAccount | None:
    """Return the user's lock and grace record, if any."""
    return db.session.get(TwoStepAccount, user_id)


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
        return Status.IN_GRACE
    return Status.NOT_CONFIGURED


def is_bound_by_mandatory(user: User, settings: OtpSettings) -> bool:
    """Tell whether mandatory two-step names the user's groups, exempt or not."""
    if not (settings.enabled and settings.mandatory):
        return False
    wanted = set(settings.mandatory_group_ids)
    return any(group.id in wanted for group in user.groups)


def params_of(device: OtpDevice) -> OtpParams:
    """Return the code parameters of a stored device."""
    return OtpParams(
        kind=cast(Literal["totp", "hotp"], device.kind),
        digits=device.digits,
        period=device.period,
        t0=device.t0,
        algorithm=cast(Literal["SHA1", "SHA256", "SHA512"], device.algorithm),
    )


def secret_of(device: OtpDevice) -> bytes:
    """Decrypt the device's secret; refuse the action when no configured key opens it."""
    try:
        return keys.secret_box().decrypt(device.secret_encrypted)
    except SecretBoxError:
        raise TwoStepError("otp.secret_unreadable", status=409) from None


def normalize_or_refuse(text: str, digits: int, field: str) -> str:
    """Return the code as the engine reads it, or refuse it on the form's `field`."""
    code = otp.normalize_code(text or "", (digits,))
    if code is None:
        raise TwoStepError("otp.code_malformed", field, digits=digits)
    return code


def remove_device_data(user_id: int) -> list[tuple[int, str]]:
    """Drop the device, its recovery codes, remembered computers and temporary code (a new
    device wipes them: a temporary code stands in for the lost device only); return the
    inventory token put back on the shelf, if the device was one (user id, serial)."""
    return remove_devices_data([user_id])


def remove_devices_data(user_ids: Sequence[int]) -> list[tuple[int, str]]:
    """Drop these users' devices, recovery codes, remembered computers and temporary codes,
    a statement per table for all of them (a bulk action removes thousands); return the
    inventory tokens put back on the shelf (user id, serial)."""
    # "fetch": the rows deleted are read back (RETURNING) and only those objects leave the
    # session; the default evaluates the condition on every object the session holds, which
    # a bulk action's session makes quadratic.
    for model in (OtpDevice, RecoveryCode, RememberedComputer, TemporaryCode):
        db.session.execute(
            delete(model)
            .where(model.user_id.in_(user_ids))
            .execution_options(synchronize_session="fetch")
        )
    # An inventory token that was the device goes back on the shelf (its seed kept): it
    # can be given again, to whoever shows its codes.
    assigned = (HardwareToken.user_id.in_(user_ids), HardwareToken.state == "assigned")
    returned = [
        (user_id, serial)
        for user_id, serial in db.session.execute(
            select(HardwareToken.user_id, HardwareToken.serial).where(*assigned)
        )
        if user_id is not None
    ]
    if returned:
        db.session.execute(
            update(HardwareToken)
            .where(*assigned)
            .values(state="unassigned", user_id=None, device_id=None)
            .execution_options(synchronize_session=False)
        )
    return returned


def record_tokens_returned(
    returned: Sequence[tuple[int, str]],
    users: Sequence[User],
    *,
    now: datetime,
    actor: User | None,
    ip: str,
) -> None:
    """Record each inventory token that went back on the shelf with its user's device."""
    by_id = {user.id: user for user in users}
    for user_id, serial in returned:
        events.record(
            events.TOKEN_UNASSIGNED,
            now=now,
            ip=ip,
            actor=actor,
            subject=by_id.get(user_id),
            details={"serial": serial, "to": "unassigned"},
        )


# --- what administrators and users do with a device ----------------------------------


def _require_device(user: User) -> OtpDevice:
    device = device_of(user.id)
    if device is None:
        raise TwoStepError("otp.no_device", status=409)
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
    device: OtpDevice | None = None,
    account: TwoStepAccount | None | Unread = Unread.UNREAD,
) -> datetime | None:
    """Switch a user's two-step off for `days` (0: until re-enabled); return when it ends.

    :param device: and `account`: the user's rows, when the caller has read them already (a
        bulk action reads them for many users at once); otherwise read here.
    """
    device = device or _require_device(user)
    if not 0 <= days <= MAX_DISABLE_DAYS:
        raise TwoStepError("otp.disable_days", "days", max=MAX_DISABLE_DAYS)
    if account is Unread.UNREAD:
        account = account_of(user.id)
    mandatory = is_mandatory_for(user, settings, account, now)
    # Nobody switches off their own mandatory two-step, whatever their rights; another
    # administrator may, and so may the command line (actor None) in an emergency.
    if mandatory:
        refuse_own_mandatory(user, actor, events.OTP_DISABLED, now=now, ip=ip)
    if mandatory and not days:
        # Under mandatory two-step a switch-off "until re-enabled" would not let the user
        # in without a code (device_applies): only one with an end date does.
        raise TwoStepError("otp.mandatory_needs_days", "days", max=MAX_DISABLE_DAYS)
    until = now + timedelta(days=days) if days else None
    device.enabled = False
    device.disabled_until = until
    # No remembered computer is loaded here: nothing in the session to keep in step (a bulk
    # action's session holds thousands of objects, and scanning them per user is quadratic).
    db.session.execute(
        delete(RememberedComputer)
        .where(RememberedComputer.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    sessions.end_user_sessions(
        user.id, now=now, reason="otp_disabled", keep_session_id=keep_session_id
    )
    events.record(
        events.OTP_DISABLED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"until": events.moment(until) if until else "re-enabled"},
    )
    _tell_about_administrator(
        user,
        actor,
        notices.OTP_DISABLED,
        now=now,
        values={"until": notices.moment(until) if until else ""},
    )
    return until


def _tell_about_administrator(
    user: User,
    actor: User | None,
    kind: str,
    *,
    now: datetime,
    values: dict[str, object] | None = None,
) -> None:
    """Tell the user what someone else (an administrator, or the command line) did."""
    if actor is not None and actor.id == user.id:
        return
    notices.notify(
        user, kind, now=now, values={"actor": actor.login if actor else "", **(values or {})}
    )


def refuse_own_mandatory(
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
        "otp.mandatory_no_disable" if event_type == events.OTP_DISABLED else "otp.own_mandatory",
        status=403,
    )


def enable(user: User, *, now: datetime, actor: User, ip: str) -> None:
    """Switch a disabled device back on."""
    device = _require_device(user)
    device.enabled = True
    device.disabled_until = None
    events.record(events.OTP_REENABLED, now=now, ip=ip, actor=actor, subject=user)
    _tell_about_administrator(user, actor, notices.OTP_ENABLED, now=now)


def remove_device(
    user: User, *, now: datetime, actor: User, ip: str, keep_session_id: str | None = None
) -> None:
    """Remove the device with its recovery codes and remembered computers."""
    check_device_removal(
        user,
        device=device_of(user.id),
        account=account_of(user.id),
        settings=load_settings(),
        now=now,
        actor=actor,
        ip=ip,
    )
    remove_devices([user], now=now, actor=actor, ip=ip, keep_session_id=keep_session_id)


def check_device_removal(
    user: User,
    *,
    device: OtpDevice | None,
    account: TwoStepAccount | None,
    settings: OtpSettings,
    now: datetime,
    actor: User,
    ip: str,
) -> None:
    """Refuse to remove a device that is not there, or one's own under mandatory two-step."""
    if device is None:
        raise TwoStepError("otp.no_device", status=409)
    if is_mandatory_for(user, settings, account, now):
        refuse_own_mandatory(user, actor, events.OTP_DELETED, now=now, ip=ip)


def remove_devices(
    users: Sequence[User],
    *,
    now: datetime,
    actor: User,
    ip: str,
    keep_session_id: str | None = None,
) -> None:
    """Remove the devices of users that `check_device_removal` allowed: their data, their
    sessions, and an event and a notice each."""
    if not users:
        return
    user_ids = [user.id for user in users]
    returned = remove_devices_data(user_ids)
    record_tokens_returned(returned, users, now=now, actor=actor, ip=ip)
    sessions.end_sessions_of_users(
        user_ids, now=now, reason="otp_deleted", keep_session_id=keep_session_id
    )
    for user in users:
        events.record(events.OTP_DELETED, now=now, ip=ip, actor=actor, subject=user)
        _tell_about_administrator(user, actor, notices.OTP_REMOVED, now=now)


def synchronize(
    user: User, code: str, code2: str, *, now: datetime, actor: User, ip: str
) -> OtpDevice:
    """Re-find a counter or clock drift from two consecutive codes; both are spent."""
    device = _require_device(user)
    params = params_of(device)
    first = normalize_or_refuse(code, params.digits, "code")
    second = normalize_or_refuse(code2, params.digits, "code2")
    secret = secret_of(device)
    if params.kind == "hotp":
        spent = otp.synchronize_hotp(
            secret,
            params,
            first,
            second,
            counter=device.counter,
            max_lookahead=SYNC_HOTP_LOOKAHEAD,
        )
        if spent is None or not spend_counter(device, spent, now=now):
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
        if match is None or not spend_step(device, match, now=now):
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


# --- grace and exemption under mandatory two-step ------------------------------------


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
            details={"deadline": events.moment(account.grace_deadline)},
        )
        notices.notify(
            user,
            notices.GRACE_STARTED,
            now=now,
            values={"deadline": notices.moment(account.grace_deadline)},
        )
    return account


def extend_grace(user: User, days: int, *, now: datetime, actor: User, ip: str) -> datetime:
    """Give a user more days to connect, counted from the later of now and the deadline."""
    if not 1 <= days <= 365:
        raise TwoStepError("otp.defer_days", "days")
    if is_bound_by_mandatory(user, load_settings()):
        refuse_own_mandatory(user, actor, events.OTP_GRACE_EXTENDED, now=now, ip=ip)
    account = ensure_account(user.id)
    start = max(account.grace_deadline or now, now)
    account.grace_deadline = start + timedelta(days=days)
    events.record(
        events.OTP_GRACE_EXTENDED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"deadline": events.moment(account.grace_deadline)},
    )
    return account.grace_deadline


def exempt(user: User, until: datetime | None, *, now: datetime, actor: User, ip: str) -> None:
    """Exempt a user from mandatory two-step until a date (None ends the exemption)."""
    if until is not None and until <= now:
        raise TwoStepError("otp.exempt_past", "until")
    if until is not None and is_bound_by_mandatory(user, load_settings()):
        # Ending one's own exemption (until None) only gives protection back.
        refuse_own_mandatory(user, actor, events.OTP_EXEMPTED, now=now, ip=ip)
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


# --- keys and the command line -------------------------------------------------------


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
