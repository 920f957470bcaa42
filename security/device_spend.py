"""Spending a one-time password on the stored OTP device, once.

The device's HOTP counter or last TOTP step moves past the spent code in a single
conditional UPDATE whose row count says who won, so a code works once across sessions,
flows and server processes. The second step at sign-in and the administrator's
synchronisation both spend through here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, update

from extensions import db
from models import OtpDevice
from security.otp import TotpMatch
from security.statements import rowcount


def spend_step(device: OtpDevice, match: TotpMatch, *, now: datetime) -> bool:
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


def spend_counter(device: OtpDevice, matched: int, *, now: datetime) -> bool:
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
