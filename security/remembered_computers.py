"""Remembered computers: skipping the second step on a computer for a while.

A person who passes the second step may ask the console to remember the computer; its
browser then keeps a random token (only its digest is stored) and the second step is
skipped there until the token expires, the Parameters tab shortens or forbids it, or the
computers are forgotten. "Device" is kept for the OTP device; this is a computer.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from extensions import db
from models import RememberedComputer, User
from security import events
from security.otp_settings import load_settings
from security.statements import rowcount
from security.untrusted_text import neutralize


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember_computer(
    user: User, *, now: datetime, ip: str, user_agent: str, days: int
) -> tuple[str, datetime]:
    """Remember this computer for the user; return the cookie token and its expiry."""
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    db.session.add(
        RememberedComputer(
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
        events.COMPUTER_REMEMBERED,
        now=now,
        ip=ip,
        actor=user,
        subject=user,
        details={"days": days},
    )
    return token, expires


def is_remembered(user: User, token: str | None, *, now: datetime, mark_used: bool = True) -> bool:
    """Tell whether the cookie token remembers this computer for this user.

    The Parameters tab has the last word: switched off, no computer is remembered; with
    fewer days, none is remembered longer than that since it was remembered. The sign-in
    that skips the code marks the computer used; a mere look (`mark_used=False`, the
    password limit asking whether the browser is known) leaves it as it was.
    """
    if not token or len(token) > 100:
        return False
    settings = load_settings()
    if not settings.allow_remember:
        return False
    record = db.session.scalar(
        select(RememberedComputer).where(
            RememberedComputer.token_digest == _token_digest(token),
            RememberedComputer.user_id == user.id,
            RememberedComputer.expires_at > now,
            RememberedComputer.created_at > now - timedelta(days=settings.remember_days),
        )
    )
    if record is None:
        return False
    if mark_used:
        record.last_used_at = now
    return True


def list_remembered(user_id: int, *, now: datetime) -> list[RememberedComputer]:
    """List the user's remembered computers that have not expired."""
    return list(
        db.session.scalars(
            select(RememberedComputer)
            .where(RememberedComputer.user_id == user_id, RememberedComputer.expires_at > now)
            .order_by(RememberedComputer.last_used_at.desc())
        )
    )


def forget_computers(user: User, *, now: datetime, actor: User, ip: str) -> int:
    """Forget every remembered computer of the user; return how many."""
    result = db.session.execute(
        delete(RememberedComputer).where(RememberedComputer.user_id == user.id)
    )
    count = rowcount(result)
    events.record(
        events.REMEMBERED_COMPUTERS_FORGOTTEN,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"count": count},
    )
    return count
