"""Application passwords: for a mail or calendar client that cannot ask for a one-time code.

A person names one and sees it once: 16 lowercase letters from `secrets` (about 75 bits),
shown in four groups of four. Only an HMAC-SHA256 digest under the recovery-code key
(kept outside the database) is stored, with a prefix that keeps it apart from the other
digests under that key. It is accepted only by the API (security.api_validation), never
by the console's own sign-in; it stops working when revoked, when the password changes
(security.accounts.set_password) and while the person is blocked. Everything takes `now`.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, func, select, update

from extensions import db
from models import AppPassword, User
from security import events, keys, notices, recovery_codes
from security.messages import Refusal
from security.statements import rowcount
from security.untrusted_text import has_control_characters, neutralize

LENGTH: Final = 16
GROUP: Final = 4
MAX_PER_USER: Final = 20
NAME_MAX: Final = 100
ALPHABET: Final = string.ascii_lowercase
_PASSWORD_RE = re.compile(rf"[a-z]{{{LENGTH}}}")
# Under the same key as the recovery codes: the prefix keeps the kinds of digest apart.
_DIGEST_PREFIX: Final = "app-password:"  # noqa: S105 - a digest's label, not a secret


class AppPasswordError(Refusal):
    """A rule refused the change; the key names the sentence."""


@dataclass(frozen=True)
class NewAppPassword:
    """A password just made: its row, and the text shown once."""

    row: AppPassword
    shown: str


def generate_password() -> str:
    """Make a random application password, unformatted."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def format_password(password: str) -> str:
    """Show a password as four groups of four letters."""
    return " ".join(password[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize_password(text: str) -> str | None:
    """Return typed text as 16 lowercase letters (spaces, dashes and case ignored), or None."""
    compact = recovery_codes.compact_code(text)
    return compact if _PASSWORD_RE.fullmatch(compact) else None


def password_digest(password: str) -> str:
    """Return the keyed digest a normalised password is stored as."""
    return recovery_codes.keyed_digest(_DIGEST_PREFIX + password, keys.recovery_key())


def app_passwords_of(user_id: int) -> list[AppPassword]:
    """Return a person's application passwords, newest first."""
    return list(
        db.session.scalars(
            select(AppPassword)
            .where(AppPassword.user_id == user_id)
            .order_by(AppPassword.created_at.desc(), AppPassword.id.desc())
        )
    )


def _count_of(user_id: int) -> int:
    return (
        db.session.scalar(select(func.count(AppPassword.id)).where(AppPassword.user_id == user_id))
        or 0
    )


def create_app_password(
    user: User, name: str, *, now: datetime, actor: User, ip: str
) -> NewAppPassword:
    """Make a named application password for `user`; the caller commits and shows it once."""
    name = name.strip()
    if not name:
        raise AppPasswordError("app_password.name_required", "name")
    if len(name) > NAME_MAX or has_control_characters(name):
        raise AppPasswordError("app_password.name_invalid", "name")
    if _count_of(user.id) >= MAX_PER_USER:
        raise AppPasswordError("app_password.too_many", "name", max=MAX_PER_USER)
    password = generate_password()
    row = AppPassword(
        user_id=user.id,
        name=name,
        digest=password_digest(password),
        created_at=now,
        last_used_ip="",
        last_used_client="",
    )
    db.session.add(row)
    db.session.flush()
    events.record(
        events.APP_PASSWORD_CREATED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"name": name, "id": row.id},
    )
    return NewAppPassword(row, format_password(password))


def revoke_app_password(
    user: User, password_id: int, *, now: datetime, actor: User, ip: str
) -> bool:
    """Revoke one of the user's application passwords; False when there is no such one."""
    name = db.session.scalar(
        select(AppPassword.name).where(
            AppPassword.id == password_id, AppPassword.user_id == user.id
        )
    )
    if name is None:
        return False
    result = db.session.execute(
        delete(AppPassword).where(AppPassword.id == password_id, AppPassword.user_id == user.id)
    )
    if rowcount(result) != 1:
        return False
    events.record(
        events.APP_PASSWORD_REVOKED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"name": name, "id": password_id},
    )
    return True


def revoke_all(user: User, *, now: datetime, actor: User | None, ip: str, reason: str = "") -> int:
    """Revoke every application password of the user; return how many there were."""
    result = db.session.execute(delete(AppPassword).where(AppPassword.user_id == user.id))
    count = rowcount(result)
    if count:
        details: dict[str, object] = {"count": count}
        if reason:
            details["reason"] = reason
        events.record(
            events.APP_PASSWORD_REVOKED,
            now=now,
            ip=ip,
            actor=actor,
            subject=user,
            details=details,
        )
    return count


def revoke_after_password_change(user: User, *, now: datetime, actor: User | None, ip: str) -> int:
    """End the application passwords made under the old password, and tell the person."""
    count = revoke_all(user, now=now, actor=actor, ip=ip, reason="password_changed")
    if count:
        notices.notify(user, notices.APP_PASSWORDS_REVOKED, now=now, values={"count": count})
    return count


def check_app_password(user: User, text: str, *, now: datetime, ip: str, client: str) -> bool:
    """Tell whether `text` is one of the user's application passwords; note its use.

    A blocked person's passwords do not work. Every check is an event naming the client.
    """
    password = normalize_password(text) if user.active else None
    row_id: int | None = None
    if password is not None:
        # Looked up by its keyed digest: no comparison of secrets in Python at all.
        row_id = db.session.scalar(
            select(AppPassword.id).where(
                AppPassword.user_id == user.id, AppPassword.digest == password_digest(password)
            )
        )
    if row_id is not None:
        db.session.execute(
            update(AppPassword)
            .where(AppPassword.id == row_id)
            .values(
                last_used_at=now,
                last_used_ip=neutralize(ip, 64),
                last_used_client=neutralize(client, 100),
            )
            .execution_options(synchronize_session=False)
        )
    events.record(
        events.APP_PASSWORD_USED,
        now=now,
        ip=ip,
        actor=user,
        subject=user,
        outcome=events.SUCCESS if row_id is not None else events.FAILURE,
        details={"client": client, **({"id": row_id} if row_id is not None else {})},
    )
    return row_id is not None
