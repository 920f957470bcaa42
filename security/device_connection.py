"""Connecting an OTP device: the connection in progress, confirming it, the provisioning URI.

A connection starts with a fresh secret (or a hardware token's own), travels sealed in
the page's hidden field while the person scans it, and is confirmed by the codes that
prove the app or token has it: then the device is stored, replacing any earlier one,
and new recovery codes come with it. A connection is spent at its first success, so a
second submission of the same page never stores the device twice. (The "pending"
sign-in is another thing: the password accepted, the second step not yet done.)
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import OtpDevice, OtpSettings, SpentConnection, User
from security import events, keys, notices, otp, sessions
from security.otp import OtpParams, TotpMatch
from security.recovery_code_store import generate_recovery_codes
from security.secret_box import SecretBoxError
from security.two_step import (
    SYNC_HOTP_LOOKAHEAD,
    SYNC_TOTP_OFFSET,
    TwoStepError,
    ensure_account,
    normalize_or_refuse,
    record_tokens_returned,
    remove_device_data,
)

# How long the page that shows a new secret stays valid.
CONNECTION_MAX_AGE = 15 * 60
# A single TOTP code at connection is searched this far either side, so that a phone
# whose clock is off still connects and its owner is told by how much.
CONNECT_TOTP_WINDOW = 10


class ConnectionExpired(TwoStepError):
    """The page's connection is too old, damaged or someone else's: start over."""

    def __init__(self) -> None:
        super().__init__("otp.connection_expired")


class AlreadyConnected(TwoStepError):
    """The connection already stored its device (the form was sent twice)."""

    def __init__(self) -> None:
        super().__init__("otp.already_connected", status=409)


@dataclass(frozen=True)
class ConnectionInProgress:
    """A secret shown to the user, waiting for the codes that prove the app has it."""

    user_id: int
    secret: bytes
    params: OtpParams
    source: str
    # Names this connection, so that its first success spends it (SpentConnection).
    connection_id: str
    # HOTP: where the token's counter stands (an inventory token's, from the vendor's file).
    start_counter: int = 0

    def seal(self, now: datetime) -> str:
        """Encrypt the connection in progress for the page's hidden field (never a cookie)."""
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
    start_counter: int = 0,
) -> ConnectionInProgress:
    """Start connecting a device with a fresh secret (or a hardware token's own)."""
    params = OtpParams(
        kind=cast(Literal["totp", "hotp"], kind),
        digits=digits,
        period=period,
        t0=t0,
        algorithm=cast(Literal["SHA1", "SHA256", "SHA512"], algorithm),
    )
    return ConnectionInProgress(
        user_id=user.id,
        secret=secret or otp.new_secret(),
        params=params,
        source=source,
        connection_id=secrets.token_hex(16),
        start_counter=start_counter,
    )


def open_connection(token: str, user: User, *, now: datetime) -> ConnectionInProgress:
    """Read back a connection in progress from its sealed token, for the same user only."""
    try:
        payload: dict[str, Any] = json.loads(
            keys.secret_box().open_sealed(token, max_age=CONNECTION_MAX_AGE, now=now)
        )
    except (SecretBoxError, ValueError):
        raise ConnectionExpired() from None
    connection_id = payload.get("c")
    if payload.get("u") != user.id or not isinstance(connection_id, str):
        raise ConnectionExpired()
    if db.session.get(SpentConnection, connection_id) is not None:
        # Already stored a device: never show its secret again, never store it twice.
        raise AlreadyConnected()
    return ConnectionInProgress(
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


def provisioning_uri(connection: ConnectionInProgress, issuer: str, login: str) -> str:
    """Return the otpauth:// link for the connection in progress."""
    return otp.provisioning_uri(connection.secret, connection.params, issuer, login)


@dataclass(frozen=True)
class Connected:
    device: OtpDevice
    recovery_codes: list[str]
    clock_offset: str | None


def confirm_connection(
    connection: ConnectionInProgress,
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
    params = connection.params
    first = normalize_or_refuse(code, params.digits, "code")
    wide = connection.source == "hardware"
    counter = 0
    last_step: int | None = None
    drift = 0
    if params.kind == "hotp":
        second = normalize_or_refuse(code2, params.digits, "code2")
        lookahead = SYNC_HOTP_LOOKAHEAD if wide else max(settings.hotp_window, 1) + 1
        spent = otp.synchronize_hotp(
            connection.secret,
            params,
            first,
            second,
            counter=connection.start_counter,
            max_lookahead=lookahead,
        )
        if spent is None:
            _record_connect_failure(user, actor, now, ip)
            raise TwoStepError("otp.codes_wrong", "code")
        counter = spent + 1
    else:
        match: TotpMatch | None
        if code2.strip():
            second = normalize_or_refuse(code2, params.digits, "code2")
            match = otp.synchronize_totp(
                connection.secret,
                params,
                first,
                second,
                now,
                max_offset=SYNC_TOTP_OFFSET if wide else CONNECT_TOTP_WINDOW,
            )
        else:
            window = SYNC_TOTP_OFFSET if wide else CONNECT_TOTP_WINDOW
            match = otp.verify_totp(
                connection.secret, params, first, now, last_step=None, drift=0, window=window
            )
        if match is None:
            _record_connect_failure(user, actor, now, ip)
            raise TwoStepError("otp.code_wrong", "code")
        last_step, drift = match.step, match.drift

    _spend_connection(connection, now=now)
    returned = remove_device_data(user.id)
    record_tokens_returned(returned, [user], now=now, actor=actor, ip=ip)
    device = OtpDevice(
        user_id=user.id,
        kind=params.kind,
        source=connection.source,
        secret_encrypted=keys.secret_box().encrypt(connection.secret),
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
        details={"type": params.kind, "source": connection.source, "drift_steps": drift},
    )
    notices.notify(
        user,
        notices.OTP_CONNECTED,
        now=now,
        values={"actor": actor.login if actor.id != user.id else ""},
    )
    codes = (
        # Codes that come with a connection are told with it, not as new codes.
        generate_recovery_codes(user, now=now, actor=actor, ip=ip, announce=False)
        if settings.allow_recovery_codes
        else []
    )
    offset = otp.describe_clock_offset(drift, params.period) if params.kind == "totp" else None
    return Connected(device=device, recovery_codes=codes, clock_offset=offset)


def _spend_connection(connection: ConnectionInProgress, *, now: datetime) -> None:
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
                SpentConnection(
                    id=connection.connection_id, user_id=connection.user_id, spent_at=now
                )
            )
    except IntegrityError:
        raise AlreadyConnected() from None


def _record_connect_failure(user: User, actor: User, now: datetime, ip: str) -> None:
    events.record(
        events.OTP_CONNECT_FAILED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        outcome=events.FAILURE,
    )
