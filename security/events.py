"""The one way to write a security event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final, cast

from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from extensions import db
from models import Event, User
from security import observers
from security.statements import rowcount
from security.untrusted_text import neutralize

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
PREFERENCES_CHANGED: Final = "preferences_changed"
ACCESS_DENIED: Final = "access_denied"
# Two-step authentication
OTP_ENABLED: Final = "otp_enabled"
OTP_DISABLED_GLOBALLY: Final = "otp_disabled_globally"
OTP_SETTINGS_CHANGED: Final = "otp_settings_changed"
OTP_CONNECTED: Final = "otp_connected"
OTP_CONNECT_FAILED: Final = "otp_connect_failed"
OTP_DISABLED: Final = "otp_disabled"
OTP_REENABLED: Final = "otp_reenabled"
OTP_DELETED: Final = "otp_deleted"
OTP_SYNCHRONIZED: Final = "otp_synchronized"
OTP_CODE_REQUESTED: Final = "otp_code_requested"
OTP_CODE_ACCEPTED: Final = "otp_code_accepted"
OTP_CODE_FAILED: Final = "otp_code_failed"
OTP_LOCKED: Final = "otp_locked"
OTP_UNLOCKED: Final = "otp_unlocked"
OTP_GRACE_STARTED: Final = "otp_grace_started"
OTP_GRACE_EXTENDED: Final = "otp_grace_extended"
OTP_EXEMPTED: Final = "otp_exempted"
RECOVERY_CODES_GENERATED: Final = "recovery_codes_generated"
RECOVERY_CODE_USED: Final = "recovery_code_used"
# The helpdesk's temporary code for a lost device
TEMPORARY_CODE_ISSUED: Final = "temporary_code_issued"
TEMPORARY_CODE_REVOKED: Final = "temporary_code_revoked"
TEMPORARY_CODE_USED: Final = "temporary_code_used"
# The hardware token inventory
TOKENS_IMPORTED: Final = "tokens_imported"  # noqa: S105 - an event name
TOKENS_IMPORT_REFUSED: Final = "tokens_import_refused"  # noqa: S105 - an event name
TOKEN_ASSIGNED: Final = "token_assigned"  # noqa: S105 - an event name
TOKEN_UNASSIGNED: Final = "token_unassigned"  # noqa: S105 - an event name
COMPUTER_REMEMBERED: Final = "device_remembered"
REMEMBERED_COMPUTERS_FORGOTTEN: Final = "remembered_devices_forgotten"
REAUTHENTICATED: Final = "reauthenticated"
# Form settings (the gear of admin forms)
FORM_LAYOUT_SAVED: Final = "form_layout_saved"
FORM_LAYOUT_RESET: Final = "form_layout_reset"
FORM_LAYOUT_DISABLED: Final = "form_layout_disabled"
FORM_LAYOUT_ENABLED: Final = "form_layout_enabled"
NOTICE_SETTINGS_CHANGED: Final = "notice_settings_changed"
TEST_MAIL_SENT: Final = "test_mail_sent"
# Application passwords and the API for other services
APP_PASSWORD_CREATED: Final = "app_password_created"  # noqa: S105 - an event name
APP_PASSWORD_REVOKED: Final = "app_password_revoked"  # noqa: S105 - an event name
APP_PASSWORD_USED: Final = "app_password_used"  # noqa: S105 - an event name
API_CLIENT_CREATED: Final = "api_client_created"
API_CLIENT_REVOKED: Final = "api_client_revoked"
API_VALIDATION: Final = "api_validation"
API_REFUSED: Final = "api_refused"
API_USER_READ: Final = "api_user_read"
# Retention: `maintenance prune` removed events older than the window
EVENTS_PRUNED: Final = "events_pruned"
# The company directory
DIRECTORY_SETTINGS_CHANGED: Final = "directory_settings_changed"
DIRECTORY_TESTED: Final = "directory_tested"
DIRECTORY_SYNCED: Final = "directory_synced"
DIRECTORY_UNAVAILABLE: Final = "directory_unavailable"

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
    PREFERENCES_CHANGED,
    ACCESS_DENIED,
    OTP_ENABLED,
    OTP_DISABLED_GLOBALLY,
    OTP_SETTINGS_CHANGED,
    OTP_CONNECTED,
    OTP_CONNECT_FAILED,
    OTP_DISABLED,
    OTP_REENABLED,
    OTP_DELETED,
    OTP_SYNCHRONIZED,
    OTP_CODE_REQUESTED,
    OTP_CODE_ACCEPTED,
    OTP_CODE_FAILED,
    OTP_LOCKED,
    OTP_UNLOCKED,
    OTP_GRACE_STARTED,
    OTP_GRACE_EXTENDED,
    OTP_EXEMPTED,
    RECOVERY_CODES_GENERATED,
    RECOVERY_CODE_USED,
    TEMPORARY_CODE_ISSUED,
    TEMPORARY_CODE_REVOKED,
    TEMPORARY_CODE_USED,
    TOKENS_IMPORTED,
    TOKENS_IMPORT_REFUSED,
    TOKEN_ASSIGNED,
    TOKEN_UNASSIGNED,
    COMPUTER_REMEMBERED,
    REMEMBERED_COMPUTERS_FORGOTTEN,
    REAUTHENTICATED,
    FORM_LAYOUT_SAVED,
    FORM_LAYOUT_RESET,
    FORM_LAYOUT_DISABLED,
    FORM_LAYOUT_ENABLED,
    NOTICE_SETTINGS_CHANGED,
    TEST_MAIL_SENT,
    APP_PASSWORD_CREATED,
    APP_PASSWORD_REVOKED,
    APP_PASSWORD_USED,
    API_CLIENT_CREATED,
    API_CLIENT_REVOKED,
    API_VALIDATION,
    API_REFUSED,
    API_USER_READ,
    EVENTS_PRUNED,
    DIRECTORY_SETTINGS_CHANGED,
    DIRECTORY_TESTED,
    DIRECTORY_SYNCED,
    DIRECTORY_UNAVAILABLE,
)

SUCCESS: Final = "success"
FAILURE: Final = "failure"
REFUSED: Final = "refused"

# Refusals from one client within this time share one event row and count up in it.
REFUSAL_WINDOW: Final = timedelta(minutes=1)


def moment(value: datetime) -> str:
    """A time as event details keep it: ISO 8601 in UTC, to the second (as the CSV shows)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
) -> None:
    """Add an event to the current transaction; the caller commits.

    The events of a transaction wait in the session and go in as one INSERT when it
    flushes or commits: a sign-in writes three, and one statement costs less than three
    ORM inserts (on SQLite the ORM inserts rows with generated ids one at a time).
    Never pass a password, a code or a secret in `details`.
    """
    detail_text = _detail_text(details)
    # The row is built first: reading a login may load it, and that load may flush.
    row: dict[str, object] = {
        "created_at": now,
        "type": event_type,
        "outcome": outcome,
        "actor_id": actor.id if actor is not None else None,
        "actor_login": neutralize(actor.login, 160) if actor is not None else "",
        "subject_id": subject.id if subject is not None else None,
        "subject_login": neutralize(
            subject.login if subject is not None else (subject_login or ""), 160
        ),
        "ip": neutralize(ip, 64),
        "details": neutralize(detail_text, 2000),
        "count": 1,
    }
    session = db.session()  # the request's Session itself, behind the scoped proxy
    if session.get_transaction() is None:
        session.begin()  # so that a rollback or a close ends the waiting events too
    _waiting(session).append(row)
    observers.announce(_announcement(row))


def _detail_text(details: dict[str, object] | None) -> str:
    return "; ".join(
        f"{neutralize(str(key), 40)}={neutralize(str(value), 300)}"
        for key, value in (details or {}).items()
    )


def _announcement(row: dict[str, object], *, repeated: bool = False) -> observers.RecordedEvent:
    """What the listeners hear of an event row, once its transaction commits."""
    return observers.RecordedEvent(
        type=str(row["type"]),
        created_at=cast(datetime, row["created_at"]),
        outcome=str(row["outcome"]),
        actor_login=str(row["actor_login"]),
        subject_login=str(row["subject_login"]),
        ip=str(row["ip"]),
        details=str(row["details"]),
        repeated=repeated,
    )


def _waiting(session: Session) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = session.info.setdefault(_WAITING, [])
    return rows


_WAITING: Final = "events_waiting"


@sa_event.listens_for(Session, "before_flush")
@sa_event.listens_for(Session, "before_commit")
def _write_waiting_events(session: Session, *_: object) -> None:
    """Insert the transaction's waiting events, in the order they happened."""
    rows = session.info.get(_WAITING)
    if rows:
        del session.info[_WAITING]
        # Core, on the session's connection: no ORM flush inside the flush.
        session.connection().execute(insert(Event), rows)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_waiting_events(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without a commit (rollback, close) takes its events along."""
    if transaction.parent is None:
        session.info.pop(_WAITING, None)


def record_refusal(
    event_type: str,
    *,
    now: datetime,
    ip: str,
    actor: User | None = None,
    subject_login: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Count a refusal in the client's latest event of this type within the window, else add one.

    A client refused again and again (429, 403) must not write a row per request: one row
    per event type, client address and signed-in actor counts them. The row keeps the
    subject and details of the first refusal. The caller commits.
    """
    ip = neutralize(ip, 64)
    same_actor = Event.actor_id.is_(None) if actor is None else Event.actor_id == actor.id
    latest = (
        select(func.max(Event.id))
        .where(
            Event.type == event_type,
            Event.created_at > now - REFUSAL_WINDOW,
            Event.ip == ip,
            same_actor,
        )
        .scalar_subquery()
    )
    # One statement: counts from several processes add up, none is lost. Two processes
    # refusing a client's first request at once may each add a row; both count.
    result = db.session.execute(
        update(Event)
        .where(Event.id == latest)
        .values(count=Event.count + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 0:
        record(
            event_type,
            now=now,
            ip=ip,
            actor=actor,
            subject_login=subject_login,
            outcome=REFUSED,
            details=details,
        )
    else:
        # Counted into an earlier row: the metrics still count it (syslog does not repeat it).
        observers.announce(
            _announcement(
                {
                    "created_at": now,
                    "type": event_type,
                    "outcome": REFUSED,
                    "actor_login": neutralize(actor.login, 160) if actor is not None else "",
                    "subject_login": neutralize(subject_login or "", 160),
                    "ip": ip,
                    "details": neutralize(_detail_text(details), 2000),
                },
                repeated=True,
            )
        )
