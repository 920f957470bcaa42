"""Telling people: a notice on their My page and, when mail goes out, an e-mail in the outbox.

A notice is added to the transaction of the change it tells about, with its e-mail: a
change rolled back tells nothing, and a change committed cannot lose its message. The
sender (security.mail_outbox) delivers the e-mails later, each once.

A notice holds its kind and the values its sentence needs (times in ISO 8601 UTC, an
administrator's login, a count) and is put into words when it is read, in the reader's
language. It never holds a password, a code or a secret.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import (
    ADMINISTRATORS_GROUP_ID,
    NOTICE_SETTINGS_ROW_ID,
    Notice,
    NoticeSettings,
    OtpDevice,
    OutgoingMail,
    TwoStepAccount,
    User,
    user_groups,
)
from security import events
from security.statements import rowcount

# What a person is told about their own account.
OTP_CONNECTED: Final = "otp_connected"
OTP_DISABLED: Final = "otp_disabled"
OTP_ENABLED: Final = "otp_enabled"
OTP_REMOVED: Final = "otp_removed"
RECOVERY_CODES_GENERATED: Final = "recovery_codes_generated"
RECOVERY_CODE_USED: Final = "recovery_code_used"
TEMPORARY_CODE_ISSUED: Final = "temporary_code_issued"
OTP_LOCKED: Final = "otp_locked"
NEW_BROWSER: Final = "new_browser"
PASSWORD_CHANGED: Final = "password_changed"  # noqa: S105 - a notice kind
# Mandatory two-step: when it starts to apply, reminders before the deadline, and after it.
GRACE_STARTED: Final = "grace_started"
GRACE_REMINDER_3_DAYS: Final = "grace_reminder_3_days"
GRACE_REMINDER_1_DAY: Final = "grace_reminder_1_day"
GRACE_OVERDUE: Final = "grace_overdue"
# What administrators are told about the console.
ADMIN_LOCKED: Final = "admin_locked"
TWO_STEP_SWITCHED_OFF: Final = "two_step_switched_off"
# An administrator's reminder to connect, sent to many users at once (bulk actions).
BULK_REMINDER: Final = "connect_reminder"
# A password change revoked the person's application passwords.
APP_PASSWORDS_REVOKED: Final = "app_passwords_revoked"  # noqa: S105 - a notice kind

KINDS: Final = (
    OTP_CONNECTED,
    OTP_DISABLED,
    OTP_ENABLED,
    OTP_REMOVED,
    RECOVERY_CODES_GENERATED,
    RECOVERY_CODE_USED,
    TEMPORARY_CODE_ISSUED,
    OTP_LOCKED,
    NEW_BROWSER,
    PASSWORD_CHANGED,
    GRACE_STARTED,
    GRACE_REMINDER_3_DAYS,
    GRACE_REMINDER_1_DAY,
    GRACE_OVERDUE,
    ADMIN_LOCKED,
    TWO_STEP_SWITCHED_OFF,
    BULK_REMINDER,
    APP_PASSWORDS_REVOKED,
)

# The reminders before a deadline: (kind, how long before it), latest first.
REMINDERS: Final = (
    (GRACE_REMINDER_1_DAY, timedelta(days=1)),
    (GRACE_REMINDER_3_DAYS, timedelta(days=3)),
)

_mail_enabled = False


def configure(*, mail_enabled: bool) -> None:
    """Say whether e-mail goes out (a mail server is configured); set once at start-up."""
    global _mail_enabled
    _mail_enabled = mail_enabled


def moment(value: datetime) -> str:
    """A time as a notice keeps it: ISO 8601 in UTC."""
    return events.moment(value)


# ---------------------------------------------------------------------------- writing


def notice_settings() -> NoticeSettings:
    """The one row of notification settings, created when missing."""
    settings = db.session.get(NoticeSettings, NOTICE_SETTINGS_ROW_ID)
    if settings is None:
        settings = NoticeSettings(id=NOTICE_SETTINGS_ROW_ID, kinds_not_mailed="")
        db.session.add(settings)
    return settings


def kinds_not_mailed() -> frozenset[str]:
    """The kinds an administrator stopped mailing (reading adds no row)."""
    settings = db.session.get(NoticeSettings, NOTICE_SETTINGS_ROW_ID)
    text = settings.kinds_not_mailed if settings is not None else ""
    return frozenset(kind for kind in (text or "").split(",") if kind)


def set_mailed_kinds(kinds: set[str], *, now: datetime, actor: User, ip: str) -> bool:
    """Choose which kinds go out by e-mail; return whether that changed. The caller commits."""
    wanted_off = ",".join(kind for kind in KINDS if kind not in kinds)
    settings = notice_settings()
    if settings.kinds_not_mailed == wanted_off:
        return False
    settings.kinds_not_mailed = wanted_off
    events.record(
        events.NOTICE_SETTINGS_CHANGED,
        now=now,
        ip=ip,
        actor=actor,
        details={"not_mailed": wanted_off or "-"},
    )
    return True


def notify(
    user: User,
    kind: str,
    *,
    now: datetime,
    values: dict[str, object] | None = None,
    once_key: str | None = None,
) -> Notice:
    """Add a notice for `user` and, when it goes out by mail, its e-mail. The caller commits."""
    notice = Notice(
        user_id=user.id,
        kind=kind,
        created_at=now,
        values=json.dumps(values or {}, sort_keys=True, default=str),
        once_key=once_key,
    )
    db.session.add(notice)
    if _mail_enabled and user.email and kind not in kinds_not_mailed():
        db.session.add(
            OutgoingMail(
                notice=notice,
                recipient=user.email,
                created_at=now,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                message_id="",
            )
        )
    return notice


def notify_administrators(
    kind: str,
    *,
    now: datetime,
    values: dict[str, object] | None = None,
    except_user_id: int | None = None,
) -> int:
    """Tell every active administrator (but one) about the console; return how many."""
    administrators = db.session.scalars(
        select(User)
        .join(user_groups, user_groups.c.user_id == User.id)
        .where(user_groups.c.group_id == ADMINISTRATORS_GROUP_ID, User.active.is_(True))
        .order_by(User.id)
    ).all()
    told = 0
    for administrator in administrators:
        if administrator.id != except_user_id:
            notify(administrator, kind, now=now, values=values)
            told += 1
    return told


# ---------------------------------------------------------------------------- reading


def values_of(notice: Notice) -> dict[str, object]:
    """The values a notice's sentence is filled with."""
    try:
        loaded = json.loads(notice.values or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def unread_count(user_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        )
        or 0
    )


def notices_of(user_id: int, *, limit: int = 100) -> list[Notice]:
    """A person's notices, newest first."""
    return list(
        db.session.scalars(
            select(Notice).where(Notice.user_id == user_id).order_by(Notice.id.desc()).limit(limit)
        )
    )


def mark_all_read(user_id: int, *, now: datetime) -> int:
    """Mark a person's notices read; return how many were unread. The caller commits."""
    result = db.session.execute(
        update(Notice)
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .values(read_at=now)
    )
    return rowcount(result)


# ---------------------------------------------------------------------------- reminders


def _due_reminder(deadline: datetime, now: datetime) -> str | None:
    """The reminder a deadline calls for now, if any."""
    if now >= deadline:
        return GRACE_OVERDUE
    for kind, before in REMINDERS:
        if now >= deadline - before:
            return kind
    return None


def create_due_reminders(now: datetime) -> int:
    """Tell each person still to connect what their deadline calls for, once per deadline.

    Run by every sender at every round; the unique (user, once_key) pair makes a second
    sender's attempt, or a second round, a no-op. Commits each reminder on its own.
    """
    soonest = now + REMINDERS[-1][1]
    rows = db.session.execute(
        select(User, TwoStepAccount.grace_deadline)
        .join(TwoStepAccount, TwoStepAccount.user_id == User.id)
        .where(
            TwoStepAccount.grace_deadline.is_not(None),
            TwoStepAccount.grace_deadline <= soonest,
            User.active.is_(True),
            ~exists().where(OtpDevice.user_id == User.id),
        )
        .order_by(User.id)
    ).all()
    created = 0
    for user, deadline in rows:
        if deadline is None:
            continue
        kind = _due_reminder(deadline, now)
        if kind is None:
            continue
        once_key = f"{kind}:{moment(deadline)}"
        already = db.session.scalar(
            select(Notice.id).where(Notice.user_id == user.id, Notice.once_key == once_key)
        )
        if already is not None:
            continue
        try:
            with db.session.begin_nested():
                notify(
                    user, kind, now=now, once_key=once_key, values={"deadline": moment(deadline)}
                )
        except IntegrityError:
            continue  # another sender told this person a moment ago
        db.session.commit()
        created += 1
    return created
