"""The sign-in flow as an explicit state machine.

The states a browser session can be in, the moves between them, and the domain
work each move does (checking the password, recording events, opening the
server-side session). The web adapter in blueprints/signin_session.py is the only
code that stores the state in the cookie session and calls Flask-Login.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from models import User
from security import accounts, events, sessions
from security.passwords import hash_password, needs_rehash, verify_password
from security.text import neutralize


class SignInState(enum.Enum):
    ANONYMOUS = "anonymous"
    # Password accepted; a one-time code is still needed (second step).
    AWAITING_CODE = "awaiting_code"
    # Password accepted; two-step is mandatory and overdue, a device must be connected.
    AWAITING_CONNECTION = "awaiting_connection"
    SIGNED_IN = "signed_in"


# Every move the flow may make; anything else is a bug and raises.
TRANSITIONS: dict[SignInState, frozenset[SignInState]] = {
    SignInState.ANONYMOUS: frozenset(
        {SignInState.AWAITING_CODE, SignInState.AWAITING_CONNECTION, SignInState.SIGNED_IN}
    ),
    SignInState.AWAITING_CODE: frozenset({SignInState.SIGNED_IN, SignInState.ANONYMOUS}),
    SignInState.AWAITING_CONNECTION: frozenset({SignInState.SIGNED_IN, SignInState.ANONYMOUS}),
    SignInState.SIGNED_IN: frozenset({SignInState.ANONYMOUS}),
}


class InvalidTransition(RuntimeError):
    """A move the state machine does not allow."""


def check_transition(current: SignInState, target: SignInState) -> None:
    """Raise when the flow would move from `current` to `target` without a rule for it."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"{current.value} -> {target.value}")


@dataclass(frozen=True)
class PasswordOutcome:
    """What a password attempt led to: no user means refused."""

    user: User | None
    next_state: SignInState


def second_step_for(user: User, *, now: datetime) -> SignInState:
    """Decide what a user with a correct password must do before being signed in."""
    # Two-step authentication plugs in here: a device → AWAITING_CODE, mandatory
    # and overdue → AWAITING_CONNECTION.
    return SignInState.SIGNED_IN


def check_password(login: str, password: str, *, now: datetime, ip: str) -> PasswordOutcome:
    """Check a login and password; refuse unknown, wrong and blocked alike."""
    user = accounts.find_by_login(login)
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        reason = (
            "unknown login" if user is None else ("blocked" if password_ok else "wrong password")
        )
        events.record(
            events.SIGN_IN_FAILED,
            now=now,
            ip=ip,
            subject=user,
            subject_login=neutralize(login, 60),
            outcome=events.FAILURE,
            details={"reason": reason},
        )
        return PasswordOutcome(None, SignInState.ANONYMOUS)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return PasswordOutcome(user, second_step_for(user, now=now))


def complete_sign_in(
    user: User, *, now: datetime, ip: str, user_agent: str, method: str = "password"
) -> str:
    """Record a full sign-in and open its server-side session; return the cookie token."""
    user.last_sign_in_at = now
    events.record(
        events.SIGN_IN, now=now, ip=ip, actor=user, subject=user, details={"method": method}
    )
    return sessions.start_session(user, now=now, ip=ip, user_agent=user_agent)


def sign_out(user: User, session_id: str | None, *, now: datetime, ip: str) -> None:
    """End the current session on the server and record it."""
    if session_id is not None:
        sessions.end_user_sessions_by_id(session_id, now=now, reason="logout")
    events.record(events.SIGN_OUT, now=now, ip=ip, actor=user, subject=user)
