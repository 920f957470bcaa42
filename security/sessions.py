"""Server-side session records: created at sign-in, checked on every request, ended at will."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import lazyload

from extensions import db
from models import PendingSignIn, User, UserSession
from security.statements import rowcount
from security.untrusted_text import neutralize

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


@dataclass(frozen=True)
class ResolvedSession:
    """A cookie's session record if it is live, and whether checking it changed it (to
    commit): the last-seen time moved, or the record was ended just now."""

    record: UserSession | None
    changed: bool = False


def resolve_session(token: str | None, *, now: datetime, limits: SessionLimits) -> ResolvedSession:
    """Return the live session record for a cookie token, ending it if it has expired."""
    if not token or len(token) > 100:
        return ResolvedSession(None)
    record = db.session.get(UserSession, _digest(token))
    if record is None or record.ended_at is not None:
        return ResolvedSession(None)
    reason = _end_reason(record, now=now, limits=limits)
    if reason is not None:
        end_session(record, now=now, reason=reason)
        return ResolvedSession(None, changed=True)
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now
        return ResolvedSession(record, changed=True)
    return ResolvedSession(record)


def _end_reason(record: UserSession, *, now: datetime, limits: SessionLimits) -> str | None:
    if not record.user.active:
        return "user_blocked"
    if now - record.last_seen_at > limits.idle:
        return "idle"
    if now - record.created_at > limits.absolute:
        return "expired"
    return None


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
    return end_sessions_of_users([user_id], now=now, reason=reason, keep_session_id=keep_session_id)


def end_sessions_of_users(
    user_ids: Sequence[int], *, now: datetime, reason: str, keep_session_id: str | None = None
) -> int:
    """End every live session of these users, except one if given; return how many ended."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id.in_(user_ids), UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    if keep_session_id is not None:
        statement = statement.where(UserSession.id != keep_session_id)
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return rowcount(result)


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


# --- the pending sign-in: password accepted, second step not done ----------------------


def open_pending_sign_in(user: User, *, now: datetime, lifetime: timedelta) -> str:
    """Record a half-finished sign-in on the server; return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    # The user's own expired rows go here, so that the table holds only live ones.
    db.session.execute(
        delete(PendingSignIn)
        .where(PendingSignIn.user_id == user.id, PendingSignIn.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        PendingSignIn(id=_digest(token), user_id=user.id, created_at=now, expires_at=now + lifetime)
    )
    return token


def pending_sign_in_user(token: str | None, *, now: datetime) -> User | None:
    """Return the user of a live pending sign-in, or None when it was used up or ended."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(User)
        .join(PendingSignIn, PendingSignIn.user_id == User.id)
        .where(PendingSignIn.id == _digest(token), PendingSignIn.expires_at > now)
        # Groups load when first read (where to go after signing in), not for the code page.
        .options(lazyload(User.groups))
    )


def consume_pending_sign_in(token: str | None, *, now: datetime) -> bool:
    """Use up a pending sign-in; only the one request whose DELETE removed the row wins."""
    if not token or len(token) > 100:
        return False
    # No flush first: the sign-in's pending rows (events, its session) go in with the
    # commit, in one batch, and this DELETE does not depend on them.
    with db.session.no_autoflush:
        result = db.session.execute(
            delete(PendingSignIn)
            .where(PendingSignIn.id == _digest(token), PendingSignIn.expires_at > now)
            .execution_options(synchronize_session=False)
        )
    return rowcount(result) == 1


def discard_pending_sign_in(token: str | None) -> None:
    """End a pending sign-in (cancel, logout, a new password attempt)."""
    if token and len(token) <= 100:
        db.session.execute(
            delete(PendingSignIn)
            .where(PendingSignIn.id == _digest(token))
            .execution_options(synchronize_session=False)
        )


def end_pending_sign_ins(user_id: int) -> None:
    """End every pending sign-in of a user (the password they were started with changed)."""
    db.session.execute(
        delete(PendingSignIn)
        .where(PendingSignIn.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
