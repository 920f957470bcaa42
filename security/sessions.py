"""Server-side session records: created at sign-in, checked on every request, ended at will."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from extensions import db
from models import User, UserSession
from security.text import neutralize

# Writing last_seen on every request would make every page a write; once a
# minute is precise enough for a 30-minute idle limit.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, now: datetime, ip: str, user_agent: str) -> str:
    """Create a session record for a full sign-in; return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            id=_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            authenticated_at=now,
            ip=neutralize(ip, 64),
            user_agent=neutralize(user_agent, 255),
        )
    )
    return token


def resolve_session(
    token: str | None, *, now: datetime, limits: SessionLimits
) -> UserSession | None:
    """Return the live session record for a cookie token, ending it if it has expired."""
    if not token or len(token) > 100:
        return None
    record = db.session.get(UserSession, _digest(token))
    if record is None or record.ended_at is not None:
        return None
    if not record.user.active:
        end_session(record, now=now, reason="user_blocked")
        return None
    if now - record.last_seen_at > limits.idle:
        end_session(record, now=now, reason="idle")
        return None
    if now - record.created_at > limits.absolute:
        end_session(record, now=now, reason="expired")
        return None
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now
    return record


def session_id_for(token: str) -> str:
    """Return the record id that belongs to a cookie token."""
    return _digest(token)


def end_session(record: UserSession, *, now: datetime, reason: str) -> None:
    """Mark one session ended."""
    if record.ended_at is None:
        record.ended_at = now
        record.end_reason = reason


def end_user_sessions(
    user_id: int, *, now: datetime, reason: str, keep_session_id: str | None = None
) -> int:
    """End every live session of a user, except one if given; return how many ended."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    if keep_session_id is not None:
        statement = statement.where(UserSession.id != keep_session_id)
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def active_sessions(user_id: int, *, now: datetime, limits: SessionLimits) -> list[UserSession]:
    """List a user's sessions that are still live, newest activity first."""
    rows = db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > now - limits.idle,
            UserSession.created_at > now - limits.absolute,
        )
        .order_by(UserSession.last_seen_at.desc())
    )
    return list(rows)


def end_user_sessions_by_id(session_id: str, *, now: datetime, reason: str) -> None:
    """End the session with this record id, if it is still live."""
    record = db.session.get(UserSession, session_id)
    if record is not None:
        end_session(record, now=now, reason=reason)


def mark_authenticated(session_id: str, *, now: datetime) -> None:
    """Record that the password was just given again in this session."""
    record = db.session.get(UserSession, session_id)
    if record is not None:
        record.authenticated_at = now
