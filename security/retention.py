"""Retention: rows that have served their purpose go, in short batches.

Every sign-in leaves a session row, remembered computers, pending sign-ins and spent
connection forms stay after they expire, and the event log grows with every request.
`prune` removes what can no longer be used and what is older than the retention window,
each batch its own short transaction, so that sign-ins never wait long behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select

from extensions import db
from models import (
    Event,
    Notice,
    OutgoingMail,
    PendingSignIn,
    RememberedComputer,
    SpentConnection,
    TemporaryCode,
    UserSession,
)
from security import events
from security.device_connection import CONNECTION_MAX_AGE
from security.sessions import SessionLimits
from security.statements import rowcount

# Rows per transaction: small enough that a batch takes milliseconds (a sign-in waiting
# behind it on SQLite does not notice), large enough that a million rows take seconds.
DEFAULT_BATCH = 2000
DEFAULT_RETENTION_DAYS = 365


@dataclass
class PruneSummary:
    """How many rows of each kind went."""

    removed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def line(self) -> str:
        return ", ".join(f"{kind} {count}" for kind, count in self.removed.items())


def prune(
    now: datetime,
    *,
    retention_days: int,
    session_limits: SessionLimits,
    batch_size: int = DEFAULT_BATCH,
    between_batches: Callable[[], None] = lambda: None,
) -> PruneSummary:
    """Remove expired and out-of-window rows, committing after every batch.

    :param retention_days: events, read notices and sent e-mails older than this go.
    :param between_batches: called after each committed batch (a pause, a stop check).
    """
    cutoff = now - timedelta(days=retention_days)
    summary = PruneSummary()
    work: list[tuple[str, Any, ColumnElement[bool]]] = [
        (
            "sessions",
            UserSession.id,
            or_(
                UserSession.ended_at.is_not(None),
                UserSession.last_seen_at < now - session_limits.idle,
                UserSession.created_at < now - session_limits.absolute,
            ),
        ),
        ("pending sign-ins", PendingSignIn.id, PendingSignIn.expires_at < now),
        ("remembered computers", RememberedComputer.id, RememberedComputer.expires_at < now),
        (
            "spent connections",
            SpentConnection.id,
            SpentConnection.spent_at < now - timedelta(seconds=CONNECTION_MAX_AGE),
        ),
        ("temporary codes", TemporaryCode.user_id, TemporaryCode.expires_at < now),
        (
            "sent e-mails",
            OutgoingMail.id,
            and_(OutgoingMail.status == "sent", OutgoingMail.sent_at < cutoff),
        ),
        (
            "read notices",
            Notice.id,
            and_(
                Notice.read_at < cutoff,
                # A notice whose e-mail is still to be sent stays with it.
                ~exists().where(
                    OutgoingMail.notice_id == Notice.id, OutgoingMail.status == "pending"
                ),
            ),
        ),
        ("events", Event.id, Event.created_at < cutoff),
    ]
    for kind, key, condition in work:
        summary.removed[kind] = _delete_in_batches(key, condition, batch_size, between_batches)
    if summary.removed["events"]:
        # Removing records is itself on the record.
        events.record(
            events.EVENTS_PRUNED,
            now=now,
            ip="cli",
            details={"count": summary.removed["events"], "days": retention_days},
        )
        db.session.commit()
    return summary


def _delete_in_batches(
    key: Any,
    condition: ColumnElement[bool],
    batch_size: int,
    between_batches: Callable[[], None],
) -> int:
    """Delete the rows matching `condition`, `batch_size` at a time, one commit each."""
    table = key.class_
    removed = 0
    while True:
        chosen = select(key).where(condition).limit(batch_size).scalar_subquery()
        count = rowcount(
            db.session.execute(
                delete(table).where(key.in_(chosen)),
                execution_options={"synchronize_session": False},
            )
        )
        db.session.commit()
        removed += count
        if count < batch_size:
            return removed
        between_batches()
