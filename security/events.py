"""The one way to write a security event."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from extensions import db
from models import Event, User
from security.text import neutralize

# Event types, so that filters and tests name the same strings.
SIGN_IN: Final = "sign_in"
SIGN_IN_FAILED: Final = "sign_in_failed"
SIGN_OUT: Final = "sign_out"
RATE_LIMITED: Final = "rate_limited"
SESSION_ENDED: Final = "session_ended"
USER_CREATED: Final = "user_created"
USER_CHANGED: Final = "user_changed"
USER_BLOCKED: Final = "user_blocked"
USER_UNBLOCKED: Final = "user_unblocked"
PASSWORD_CHANGED: Final = "password_changed"  # noqa: S105 - an event name
ACCESS_DENIED: Final = "access_denied"

EVENT_TYPES: Final = (
    SIGN_IN,
    SIGN_IN_FAILED,
    SIGN_OUT,
    RATE_LIMITED,
    SESSION_ENDED,
    USER_CREATED,
    USER_CHANGED,
    USER_BLOCKED,
    USER_UNBLOCKED,
    PASSWORD_CHANGED,
    ACCESS_DENIED,
)

SUCCESS: Final = "success"
FAILURE: Final = "failure"
REFUSED: Final = "refused"


def record(
    event_type: str,
    *,
    now: datetime,
    ip: str = "",
    actor: User | None = None,
    subject: User | None = None,
    subject_login: str | None = None,
    outcome: str = SUCCESS,
    details: dict[str, object] | None = None,
) -> Event:
    """Add an event to the current transaction; the caller commits.

    Never pass a password, a code or a secret in `details`.
    """
    detail_text = "; ".join(
        f"{neutralize(str(key), 40)}={neutralize(str(value), 300)}"
        for key, value in (details or {}).items()
    )
    event = Event(
        created_at=now,
        type=event_type,
        outcome=outcome,
        actor_id=actor.id if actor is not None else None,
        actor_login=neutralize(actor.login, 160) if actor is not None else "",
        subject_id=subject.id if subject is not None else None,
        subject_login=neutralize(
            subject.login if subject is not None else (subject_login or ""), 160
        ),
        ip=neutralize(ip, 64),
        details=neutralize(detail_text, 2000),
    )
    db.session.add(event)
    return event
