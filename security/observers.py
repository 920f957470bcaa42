"""Who hears what the domain decided, once it is committed.

The domain announces two kinds of things: every security event the log records
(`RecordedEvent`, from security.events) and the outcome of each sign-in step
(`StepOutcome`, from security.signin and security.second_step). Announcements wait in
the database session and reach the listeners only after its transaction commits, so a
rolled-back request tells nobody anything. Listeners (the metrics, the syslog
forwarder) are plain callables subscribed by the application factory; the domain knows
nothing of them. A listener must be quick and must not touch the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from extensions import db

# The steps of a sign-in whose outcomes are announced.
SIGN_IN_STEP: Final = "sign_in"
SECOND_STEP: Final = "second_step"

# Outcomes of the password step (a sign-in attempt).
SIGN_IN_OK: Final = "ok"
SIGN_IN_WRONG: Final = "wrong"
SIGN_IN_BLOCKED: Final = "blocked"
SIGN_IN_RATE_LIMITED: Final = "rate_limited"
SIGN_IN_OUTCOMES: Final = (SIGN_IN_OK, SIGN_IN_WRONG, SIGN_IN_BLOCKED, SIGN_IN_RATE_LIMITED)

# Outcomes of the second step.
CODE_OK: Final = "ok"
CODE_WRONG: Final = "wrong"
CODE_LOCKED: Final = "locked"
CODE_REPLAYED: Final = "replayed"
CODE_RECOVERY: Final = "recovery_code"
CODE_TEMPORARY: Final = "temporary_code"
CODE_MALFORMED: Final = "malformed"
SECOND_STEP_OUTCOMES: Final = (
    CODE_OK,
    CODE_WRONG,
    CODE_LOCKED,
    CODE_REPLAYED,
    CODE_RECOVERY,
    CODE_TEMPORARY,
    CODE_MALFORMED,
)


@dataclass(frozen=True)
class RecordedEvent:
    """A security event as the log stored it (neutralised text; never a code or secret).

    `repeated`: a refusal counted into an earlier row of the same client and window
    instead of a row of its own (see events.record_refusal).
    """

    type: str
    created_at: datetime
    outcome: str
    actor_login: str
    subject_login: str
    ip: str
    details: str
    repeated: bool = False


@dataclass(frozen=True)
class StepOutcome:
    """How one attempt at a sign-in step ended: `step` and `outcome` are the names above."""

    step: str
    outcome: str


Announcement = RecordedEvent | StepOutcome
Listener = Callable[[Announcement], None]

_listeners: dict[str, Listener] = {}
_PENDING: Final = "observers_pending"

log = logging.getLogger(__name__)


def subscribe(name: str, listener: Listener | None) -> None:
    """Let `listener` hear every committed announcement; None (or a new one) replaces it."""
    if listener is None:
        _listeners.pop(name, None)
    else:
        _listeners[name] = listener


def announce(announcement: Announcement) -> None:
    """Hold an announcement until the current transaction commits; a rollback drops it."""
    if not _listeners:
        return
    session = db.session()
    if session.get_transaction() is None:
        session.begin()  # so that a rollback or a close ends the announcement too
    pending: list[Announcement] = session.info.setdefault(_PENDING, [])
    pending.append(announcement)


@sa_event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    """Tell every listener what the committed transaction announced, in order."""
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction may still roll back
    pending: list[Announcement] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    listeners = list(_listeners.values())
    for announcement in pending:
        for listener in listeners:
            try:
                listener(announcement)
            except Exception:  # a listener's failure must never fail the committed request
                log.exception("an observer of %s failed", type(announcement).__name__)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without a commit (rollback, close) takes its announcements."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
