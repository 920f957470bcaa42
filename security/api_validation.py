"""The API's check of a person's credentials, by the console's own sign-in rules.

Another service (a VPN gateway, a mail server) sends a login with a password and a code,
or with an application password. The answer is `accept`, `reject` or `locked` with a
reason. The password goes through security.signin.check_password (the same argon2
check, grace period and mandatory two-step), the code through
security.second_step.verify_sign_in_code (the same atomic spend, failure count and lock,
recovery codes where the settings allow): a code spent here is spent at the console's
sign-in too, and the other way round. Every answer is an event naming the client.
Everything takes `now`; nothing knows about requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from models import User
from security import accounts, app_passwords, events, second_step, signin
from security.second_step import Outcome
from security.signin import SignInState
from security.untrusted_text import has_control_characters, neutralize

ACCEPT: Final = "accept"
REJECT: Final = "reject"
LOCKED: Final = "locked"
RESULTS: Final = (ACCEPT, REJECT, LOCKED)

# Why: what the calling service may tell its user (never which of login or password).
REASONS: Final = (
    "otp",
    "recovery_code",
    "temporary_code",
    "app_password",
    "no_second_step",
    "invalid_credentials",
    "code_required",
    "code_malformed",
    "code_incorrect",
    "connect_required",
    "locked",
    "directory_unavailable",
)

INVALID: Final = "invalid_credentials"

_ACCEPTED_REASONS: Final = {
    Outcome.ACCEPTED: "otp",
    Outcome.RECOVERY_ACCEPTED: "recovery_code",
    Outcome.TEMPORARY_ACCEPTED: "temporary_code",
}


@dataclass(frozen=True)
class Verdict:
    result: str
    reason: str
    locked_until: datetime | None = None

    @property
    def refused(self) -> bool:
        return self.result != ACCEPT


def _record(
    verdict: Verdict, login: str, user: User | None, *, now: datetime, ip: str, client: str
) -> Verdict:
    events.record(
        events.API_VALIDATION,
        now=now,
        ip=ip,
        actor=user,
        subject=user,
        subject_login=neutralize(login, 60),
        outcome=events.SUCCESS if verdict.result == ACCEPT else events.FAILURE,
        details={"client": client, "result": verdict.result, "reason": verdict.reason},
    )
    return verdict


def validate_password_and_code(
    login: str, password: str, code: str | None, *, now: datetime, ip: str, client: str
) -> Verdict:
    """Check a login, its password and (when the person's two-step asks) a code."""
    user, verdict = _password_and_code(login, password, code, now=now, ip=ip)
    return _record(verdict, login, user, now=now, ip=ip, client=client)


def _password_and_code(
    login: str, password: str, code: str | None, *, now: datetime, ip: str
) -> tuple[User | None, Verdict]:
    if has_control_characters(login) or "\x00" in password:
        return None, Verdict(REJECT, INVALID)
    outcome = signin.check_password(login, password, now=now, ip=ip)
    if outcome.directory_down:
        # Not a wrong password: the service may tell its user to try again later.
        return None, Verdict(REJECT, "directory_unavailable")
    user = outcome.user
    if user is None:
        return None, Verdict(REJECT, INVALID)
    if outcome.next_state is SignInState.AWAITING_CONNECTION:
        return user, Verdict(REJECT, "connect_required")
    if outcome.next_state is SignInState.SIGNED_IN:
        return user, Verdict(ACCEPT, "no_second_step")
    if not code:
        return user, Verdict(REJECT, "code_required")
    result = second_step.verify_sign_in_code(user, code, now=now, ip=ip)
    if result.accepted:
        return user, Verdict(ACCEPT, _ACCEPTED_REASONS[result.outcome])
    if result.outcome is Outcome.LOCKED:
        return user, Verdict(LOCKED, "locked", result.locked_until)
    if result.outcome is Outcome.MALFORMED:
        return user, Verdict(REJECT, "code_malformed")
    return user, Verdict(REJECT, "code_incorrect")


def validate_app_password(login: str, text: str, *, now: datetime, ip: str, client: str) -> Verdict:
    """Check a login and one of its application passwords."""
    user = None if has_control_characters(login) else accounts.find_by_login(login)
    accepted = user is not None and app_passwords.check_app_password(
        user, text, now=now, ip=ip, client=client
    )
    verdict = Verdict(ACCEPT, "app_password") if accepted else Verdict(REJECT, INVALID)
    return _record(verdict, login, user, now=now, ip=ip, client=client)
