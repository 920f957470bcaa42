"""Storing and spending a user's recovery codes.

Generating a new set (shown once, stored as digests), spending one at the second step
(once, whatever else races for it), and counting and listing what is left. The code
format and its digest are in security.recovery_codes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from extensions import db
from models import RecoveryCode, User
from security import events, keys, notices, recovery_codes
from security.statements import rowcount
from security.untrusted_text import neutralize


def generate_recovery_codes(
    user: User, *, now: datetime, actor: User, ip: str, announce: bool = True
) -> list[str]:
    """Replace the user's recovery codes; return the new ones formatted, to show once.

    `announce` tells the user (a notice, never the codes); a connection tells its own.
    """
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
    if announce:
        notices.notify(
            user,
            notices.RECOVERY_CODES_GENERATED,
            now=now,
            values={"actor": actor.login if actor.id != user.id else ""},
        )
    return [recovery_codes.format_code(code) for code in codes]


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
