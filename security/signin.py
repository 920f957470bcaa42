"""The sign-in flow as an explicit state machine.

The states a browser session can be in, the moves between them, and the domain
work each move does (checking the password, recording events, opening the
server-side session). The web adapter in web/signin_session.py is the only
code that stores the state in the cookie session and calls Flask-Login.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from models import User
from security import accounts, directory, events, notices, observers, sessions, two_step
from security.otp_settings import load_settings
from security.passwords import hash_password, needs_rehash
from security.untrusted_text import neutralize


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
    # The password could not be checked: the directory did not answer.
    directory_down: bool = False


# How long a password stays accepted while the second step is not done.
PENDING_LIFETIME = timedelta(minutes=5)


def second_step_for(user: User, *, now: datetime, ip: str, remembered: bool) -> SignInState:
    """Decide what a user with a correct password must do before being signed in."""
    settings = load_settings()
    if not settings.enabled:
        return SignInState.SIGNED_IN
    device = two_step.device_of(user.id)
    if device is not None:
        if remembered:
            return SignInState.SIGNED_IN
        if two_step.device_is_active(device, now):
            return SignInState.AWAITING_CODE
        # Switched off: the password alone lets the user in, unless two-step is mandatory
        # for them and the switch-off has no end date (see two_step.device_applies).
        mandatory = two_step.is_mandatory_for(user, settings, two_step.account_of(user.id), now)
        applies = two_step.device_applies(device, mandatory=mandatory, now=now)
        return SignInState.AWAITING_CODE if applies else SignInState.SIGNED_IN
    if two_step.is_mandatory_for(user, settings, two_step.account_of(user.id), now):
        account = two_step.start_grace_if_needed(user, now=now, settings=settings, ip=ip)
        if account.grace_deadline is not None and account.grace_deadline <= now:
            return SignInState.AWAITING_CONNECTION
    return SignInState.SIGNED_IN


def check_password(
    login: str,
    password: str,
    *,
    now: datetime,
    ip: str,
    remembered: Callable[[User], bool] = lambda user: False,
) -> PasswordOutcome:
    """Check a login and password; refuse unknown, wrong and blocked alike.

    `remembered(user)` tells whether this computer is remembered for that user.
    """
    user = accounts.find_by_login(login)
    try:
        # Local users' passwords are checked here; directory users' by the directory.
        user, password_ok = directory.check_sign_in_password(user, login, password, now=now, ip=ip)
    except directory.DirectoryDown:
        return PasswordOutcome(None, SignInState.ANONYMOUS, directory_down=True)
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
        observers.announce(
            observers.StepOutcome(
                observers.SIGN_IN_STEP,
                observers.SIGN_IN_BLOCKED if reason == "blocked" else observers.SIGN_IN_WRONG,
            )
        )
        return PasswordOutcome(None, SignInState.ANONYMOUS)
    if needs_rehash(user.password_hash, password):
        user.password_hash = hash_password(password)
    state = second_step_for(user, now=now, ip=ip, remembered=remembered(user))
    observers.announce(observers.StepOutcome(observers.SIGN_IN_STEP, observers.SIGN_IN_OK))
    return PasswordOutcome(user, state)


def complete_sign_in(
    user: User,
    *,
    now: datetime,
    ip: str,
    user_agent: str,
    method: str = "password",
    new_browser: bool = False,
) -> str:
    """Record a full sign-in and open its server-side session; return the cookie token.

    `new_browser`: this browser never signed in as this user before; the user is told,
    unless this is their first sign-in ever (every browser is new then).
    """
    if new_browser and user.last_sign_in_at is not None:
        notices.notify(
            user,
            notices.NEW_BROWSER,
            now=now,
            values={"browser": neutralize(user_agent, 300), "ip": ip},
        )
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


def reauthenticate(
    user: User, password: str, session_id: str | None, *, now: datetime, ip: str
) -> bool:
    """Check the password again for a sensitive action and refresh the sign-in time."""
    if not directory.password_is_right(user, password):
        events.record(
            events.REAUTHENTICATED,
            now=now,
            ip=ip,
            actor=user,
            subject=user,
            outcome=events.FAILURE,
        )
        return False
    if session_id is not None:
        sessions.mark_authenticated(session_id, now=now)
    events.record(events.REAUTHENTICATED, now=now, ip=ip, actor=user, subject=user)
    return True


def signed_in_recently(authenticated_at: datetime | None, *, now: datetime, minutes: int) -> bool:
    """Tell whether the last full sign-in is recent enough for a sensitive action."""
    return authenticated_at is not None and now - authenticated_at <= timedelta(minutes=minutes)
