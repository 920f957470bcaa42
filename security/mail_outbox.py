"""Sending the outbox: each e-mail once, retried while the failure is temporary.

A sender claims due messages with a conditional UPDATE (on PostgreSQL it first locks the
candidates with FOR UPDATE SKIP LOCKED, so concurrent senders take different ones), commits
the claim, and only then talks to the mail server; the outcome is written only where the
claim's token still stands. So two senders, on one host or two, never send one message
twice while a claim lasts (`lease`); a sender that dies mid-round leaves its messages to be
taken over when the lease has run out.

Outcomes: accepted → sent. A permanent answer (5xx) to the message → failed at once.
Anything temporary (a 4xx answer, a refused connection, a timeout, a dropped connection, a
TLS or login failure) → tried again after 1, 2, 4 … 60 minutes, until 24 hours after the
message was written; then failed. Failures before the message (connecting, TLS, login) are
about the server or its settings, not the message, so they are always temporary: a wrong
password fixed within the day loses nothing.

What SMTP cannot promise: a connection lost after the server took the message but before
its answer arrived looks like a failure, and the message is sent again. Its Message-ID is
fixed at its first claim and kept on every attempt, so the receiving side can tell.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from integrations.mail import (
    ERROR_LENGTH,
    Connection,
    DeliveryFailure,
    MailServer,
    RenderedMail,
    build_message,
    new_message_id,
)
from models import OutgoingMail
from security.statements import rowcount

log = logging.getLogger(__name__)

PENDING: Final = "pending"
SENT: Final = "sent"
FAILED: Final = "failed"

# Temporary failures are retried for this long after the message was written.
RETRY_FOR: Final = timedelta(hours=24)
FIRST_RETRY_DELAY: Final = timedelta(minutes=1)
LONGEST_RETRY_DELAY: Final = timedelta(minutes=60)
DEFAULT_LEASE: Final = timedelta(minutes=5)
DEFAULT_BATCH: Final = 100


@dataclass(frozen=True)
class SendSummary:
    """What one round did: messages the server took, ones to try again, ones given up."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    sent: int
    failed: int


# ---------------------------------------------------------------------------- the outbox


def _due(now: datetime) -> tuple[Any, ...]:
    """Pending, due, and claimed by nobody (or by a sender whose lease has run out)."""
    return (
        OutgoingMail.status == PENDING,
        OutgoingMail.next_attempt_at <= now,
        or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now),
    )


def _claim(
    now: datetime, *, token: str, limit: int, lease: timedelta, server: MailServer
) -> list[int]:
    """Claim up to `limit` due messages for this round and commit; return their ids.

    On PostgreSQL the candidates are locked (SKIP LOCKED: another sender's candidates are
    passed over, not waited for). On SQLite the first UPDATE takes the database's write
    lock; a second sender's UPDATE waits for this commit and then finds the rows claimed.
    Either way the UPDATE repeats the conditions, and only a row it changed is ours.
    """
    candidates = (
        select(OutgoingMail.id)
        .where(*_due(now))
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed: list[int] = []
    try:
        for mail_id in db.session.scalars(candidates).all():
            result = db.session.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id == mail_id, *_due(now))
                .values(
                    claimed_until=now + lease,
                    claim_token=token,
                    # Fixed at the first claim, kept on every later attempt.
                    message_id=case(
                        (OutgoingMail.message_id == "", new_message_id(server)),
                        else_=OutgoingMail.message_id,
                    ),
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(result) == 1:
                claimed.append(mail_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return claimed


def _release(mail_ids: Sequence[int], token: str) -> None:
    """Give claims back unused, so that the next round (of any sender) takes them at once."""
    if not mail_ids:
        return
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id.in_(mail_ids), OutgoingMail.claim_token == token)
        .values(claimed_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def retry_delay(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, 8 … minutes, at most 60."""
    doublings = min(max(attempts - 1, 0), 6)  # 2**6 minutes is past the cap already
    return min(FIRST_RETRY_DELAY * (1 << doublings), LONGEST_RETRY_DELAY)


def _record(
    mail: OutgoingMail, token: str, outcome: str | DeliveryFailure, *, now: datetime
) -> str:
    """Write one message's outcome, where our claim still stands, and commit.

    Returns the status written: sent, failed, or pending (to try again).
    """
    attempts = mail.attempts + 1
    values: dict[str, Any] = {
        "attempts": OutgoingMail.attempts + 1,
        "claimed_until": None,
        "claim_token": None,
    }
    if isinstance(outcome, str):
        values.update(status=SENT, sent_at=now)
    else:
        values["last_error"] = outcome.text
        give_up_at = mail.created_at + RETRY_FOR
        if outcome.permanent or now >= give_up_at:
            values["status"] = FAILED
        else:
            values["status"] = PENDING
            # The last try falls on the 24th hour, not an hour after it.
            values["next_attempt_at"] = min(now + retry_delay(attempts), give_up_at)
    result = db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail.id, OutgoingMail.claim_token == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if rowcount(result) != 1:
        # Our lease ran out and another sender took the message over: it may go twice.
        log.warning("outgoing mail %s: the claim ran out before the outcome was written", mail.id)
    return str(values["status"])


def send_due(
    now: datetime,
    *,
    server: MailServer,
    render: Callable[[OutgoingMail], RenderedMail],
    limit: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE,
    stopping: Callable[[], bool] = lambda: False,
) -> SendSummary:
    """Send the messages due at `now` (at most `limit`), each under a claim, and say how it went.

    `render` puts a message into words. `stopping` is asked between messages: a sender told
    to stop gives the rest of its claims back. A round also stops, giving the rest back,
    when half the lease has passed (a slow server), so no claim runs out mid-send.
    """
    token = secrets.token_hex(16)
    mail_ids = _claim(now, token=token, limit=limit, lease=lease, server=server)
    if not mail_ids:
        return SendSummary()
    stop_at = time.monotonic() + lease.total_seconds() / 2
    counts = {SENT: 0, PENDING: 0, FAILED: 0}
    connection = Connection(server)
    done = 0
    try:
        for mail_id in mail_ids:
            if stopping() or time.monotonic() > stop_at:
                break
            mail = db.session.get(OutgoingMail, mail_id)
            done += 1
            if mail is None:
                continue  # deleted with its notice (its user) since the claim
            outcome = _deliver(connection, server, mail, render, now=now)
            status = _record(mail, token, outcome, now=now)
            counts[status] += 1
            if isinstance(outcome, DeliveryFailure):
                log.warning("outgoing mail %s: %s (%s)", mail_id, outcome.text, status)
    except BaseException:
        db.session.rollback()
        try:
            _release(mail_ids[done:], token)
        except SQLAlchemyError:
            db.session.rollback()  # the claims run out by themselves
        raise
    finally:
        connection.close()
    _release(mail_ids[done:], token)
    return SendSummary(sent=counts[SENT], retried=counts[PENDING], failed=counts[FAILED])


def _deliver(
    connection: Connection,
    server: MailServer,
    mail: OutgoingMail,
    render: Callable[[OutgoingMail], RenderedMail],
    *,
    now: datetime,
) -> str | DeliveryFailure:
    """Put one message into words and send it: the server's answer, or why it did not go."""
    try:
        rendered = render(mail)
        message = build_message(
            server, mail.recipient, rendered, now=now, message_id=mail.message_id
        )
    except SQLAlchemyError:
        raise  # the database, not the message: the round stops, the claims run out
    except Exception as error:  # noqa: BLE001 - one bad message must not stop the others
        log.exception("outgoing mail %s could not be put into words", mail.id)
        # The same words would fail the same way on every try.
        return DeliveryFailure(f"not written: {type(error).__name__}: {error}"[:ERROR_LENGTH], True)
    try:
        return connection.send(mail.recipient, message)
    except DeliveryFailure as failure:
        return failure


# ---------------------------------------------------------------------------- reading


def failed_messages(limit: int = 50) -> list[OutgoingMail]:
    """Messages given up, newest first, with their notice (its kind) and the server's answer."""
    return list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.status == FAILED)
            .order_by(OutgoingMail.created_at.desc(), OutgoingMail.id.desc())
            .limit(limit)
        )
    )


def queue_counts() -> QueueCounts:
    """How many messages wait, went out, and were given up."""
    rows = db.session.execute(
        select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)
    ).all()
    counts = {str(status): int(count) for status, count in rows}
    return QueueCounts(
        pending=counts.get(PENDING, 0), sent=counts.get(SENT, 0), failed=counts.get(FAILED, 0)
    )
