"""The helpdesk's temporary code: the answer to "I left my phone at home".

An administrator (or a holder of "Manage one-time passwords") issues a user a random code
that works at the second step in place of a one-time password for 1 to 72 hours. It is
shown once and stored only as an HMAC-SHA256 digest under the recovery-code key, kept
outside the database. Unlike a recovery code it is not spent by a sign-in: it works until
it expires, is revoked, or the device it stands in for is replaced or removed
(security.two_step.remove_device_data deletes it). A wrong one counts toward the lock like
any wrong code (security.second_step). It never remembers a computer.

A code is 15 characters of lowercase letters and digits (about 77 bits: it lives for days
and can be used many times), shown as ``xxxxx-xxxxx-xxxxx``. Its length tells it apart
from a recovery code (10) and a one-time password (digits), so the second step checks it
only when such a code is typed: a sign-in with a one-time password reads nothing more.
Everything takes `now`; nothing knows about requests.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.util import identity_key

from extensions import db
from models import OtpSettings, TemporaryCode, User
from security import events, keys, notices, recovery_codes
from security.statements import rowcount
from security.two_step import (
    TwoStepError,
    account_of,
    device_of,
    is_mandatory_for,
    refuse_own_mandatory,
)

CODE_LENGTH = 15
GROUP = 5
MIN_HOURS = 1
MAX_HOURS = 72

_CODE_RE = re.compile(rf"[a-z0-9]{{{CODE_LENGTH}}}")
# Under the same key as the recovery codes: a prefix keeps the two kinds of digest apart.
_DIGEST_PREFIX = "temporary-code:"


def generate_code() -> str:
    """Make a random code, unformatted."""
    return "".join(secrets.choice(recovery_codes.ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """Show a code as ``xxxxx-xxxxx-xxxxx``."""
    normalized = normalize_code(code)
    if normalized is None:
        raise ValueError("not a temporary code")
    return "-".join(normalized[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalize_code(text: str) -> str | None:
    """Return a typed temporary code as 15 lowercase characters, or None.

    Case, spaces and dashes do not matter, as for recovery codes.
    """
    compact = recovery_codes.compact_code(text)
    return compact if _CODE_RE.fullmatch(compact) else None


def code_digest(code: str) -> str:
    """Return the keyed digest a code is stored as."""
    normalized = normalize_code(code)
    if normalized is None:
        raise ValueError("not a temporary code")
    return recovery_codes.keyed_digest(_DIGEST_PREFIX + normalized, keys.recovery_key())


def active_code(user_id: int, *, now: datetime) -> TemporaryCode | None:
    """Return the user's temporary code if it still works at `now` (never its text)."""
    return db.session.scalar(
        select(TemporaryCode).where(
            TemporaryCode.user_id == user_id, TemporaryCode.expires_at > now
        )
    )


def issue(
    user: User,
    hours: int,
    *,
    now: datetime,
    actor: User,
    ip: str,
    settings: OtpSettings,
) -> tuple[str, datetime]:
    """Give the user a temporary code for `hours`; return it formatted (to show once) and its end.

    A code issued earlier stops working: only the new one is kept.
    """
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise TwoStepError("otp.temporary_code_hours", "hours", max=MAX_HOURS)
    if device_of(user.id) is None:
        raise TwoStepError("otp.no_device", status=409)
    if is_mandatory_for(user, settings, account_of(user.id), now):
        # A code of one's own would be one's own mandatory two-step without the device.
        refuse_own_mandatory(user, actor, events.TEMPORARY_CODE_ISSUED, now=now, ip=ip)
    code = generate_code()
    expires_at = now + timedelta(hours=hours)
    _store(user.id, code_digest(code), now=now, expires_at=expires_at, created_by=actor.login)
    events.record(
        events.TEMPORARY_CODE_ISSUED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"hours": hours, "until": events.moment(expires_at)},
    )
    notices.notify(
        user,
        notices.TEMPORARY_CODE_ISSUED,
        now=now,
        values={"actor": actor.login, "until": notices.moment(expires_at)},
    )
    return format_code(code), expires_at


def _store(
    user_id: int, digest: str, *, now: datetime, expires_at: datetime, created_by: str
) -> None:
    """Write the user's one code, replacing an earlier one, without racing another issuer."""
    values = {
        "user_id": user_id,
        "digest": digest,
        "created_at": now,
        "expires_at": expires_at,
        "created_by": created_by[:160],
        "last_used_at": None,
    }
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(TemporaryCode).values(**values)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=[TemporaryCode.user_id],
                set_={name: statement.excluded[name] for name in values if name != "user_id"},
            )
        )
    else:
        db.session.execute(delete(TemporaryCode).where(TemporaryCode.user_id == user_id))
        db.session.add(TemporaryCode(**values))
    # The statement went around the ORM: a copy of the old row in the session is stale.
    stale = db.session.identity_map.get(identity_key(TemporaryCode, user_id))
    if stale is not None:
        db.session.expire(stale)


def revoke(user: User, *, now: datetime, actor: User, ip: str) -> None:
    """End the user's temporary code before it expires."""
    result = db.session.execute(
        delete(TemporaryCode)
        .where(TemporaryCode.user_id == user.id, TemporaryCode.expires_at > now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 0:
        raise TwoStepError("otp.temporary_code_none", status=409)
    events.record(events.TEMPORARY_CODE_REVOKED, now=now, ip=ip, actor=actor, subject=user)


def use_code(user: User, code: str, *, now: datetime) -> datetime | None:
    """Check a typed temporary code at the second step; return when it ends if it works.

    It is not spent: the same code works again until it expires.
    """
    row = db.session.execute(
        select(TemporaryCode.digest, TemporaryCode.expires_at).where(
            TemporaryCode.user_id == user.id, TemporaryCode.expires_at > now
        )
    ).one_or_none()
    if row is None or not hmac.compare_digest(code_digest(code), row.digest):
        return None
    db.session.execute(
        update(TemporaryCode)
        .where(TemporaryCode.user_id == user.id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    expires_at: datetime = row.expires_at
    return expires_at
