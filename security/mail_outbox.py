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
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Final

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from models import OutgoingMail
from security.statements import rowcount

log = logging.getLogger(__name__)

PENDING: Final = "pending"
SENT: Final = "sent"
FAILED: Final = "failed"

SECURITY_NONE: Final = "none"
SECURITY_STARTTLS: Final = "starttls"
SECURITY_SSL: Final = "ssl"

# Temporary failures are retried for this long after the message was written.
RETRY_FOR: Final = timedelta(hours=24)
FIRST_RETRY_DELAY: Final = timedelta(minutes=1)
LONGEST_RETRY_DELAY: Final = timedelta(minutes=60)
DEFAULT_LEASE: Final = timedelta(minutes=5)
DEFAULT_BATCH: Final = 100
# The longest server answer kept in last_error.
ERROR_LENGTH: Final = 1000

# CRLF line ends and 7-bit bodies (quoted-printable or base64, whichever is shorter), so
# any server takes them, 8BITMIME or not.
_POLICY: Final = email_policy.SMTP.clone(cte_type="7bit")
# For a non-ASCII address: UTF-8 headers, sent only to a server offering SMTPUTF8.
_POLICY_UTF8: Final = email_policy.SMTPUTF8


@dataclass(frozen=True)
class RenderedMail:
    """An e-mail put into words for its recipient: subject, plain text, HTML alternative."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class MailServer:
    """Where and how mail goes out (FLASK_MAIL_*)."""

    host: str
    port: int
    security: str  # none, starttls or ssl
    username: str
    password: str = field(repr=False)  # never shown, logged or stored
    sender: str  # the From header; its address is the envelope sender
    timeout: float
    ca_file: str  # empty: the system's certificate authorities

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1] or self.sender

    @property
    def sender_domain(self) -> str:
        return self.sender_address.rpartition("@")[2] or "localhost"


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


class MailError(Exception):
    """A message the server did not take; the text is the server's answer (or what failed)."""


def mail_server_from(config: Mapping[str, Any]) -> MailServer | None:
    """The configured mail server, or None when FLASK_MAIL_SERVER is empty."""
    host = str(config.get("MAIL_SERVER") or "").strip()
    if not host:
        return None
    return MailServer(
        host=host,
        port=int(config["MAIL_PORT"]),
        security=str(config["MAIL_SECURITY"]),
        username=str(config["MAIL_USERNAME"] or ""),
        password=str(config["MAIL_PASSWORD"] or ""),
        sender=str(config["MAIL_FROM"]),
        timeout=float(config["MAIL_TIMEOUT"]),
        ca_file=str(config["MAIL_CA_FILE"] or ""),
    )


# ---------------------------------------------------------------------------- the message


def build_message(
    server: MailServer, recipient: str, rendered: RenderedMail, *, now: datetime, message_id: str
) -> EmailMessage:
    """The e-mail as it goes out: plain text with an HTML alternative, and its headers."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = server.sender
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(now.timestamp(), usegmt=True)
    message["Message-ID"] = message_id
    # RFC 3834: sent by a machine; vacation responders and auto-repliers keep quiet.
    message["Auto-Submitted"] = "auto-generated"
    # The same wish in Exchange's words (out-of-office and delivery receipts).
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def new_message_id(server: MailServer) -> str:
    return make_msgid(domain=server.sender_domain)


# ---------------------------------------------------------------------------- talking SMTP


class _Failure(Exception):
    """Why a message did not go: permanent (5xx to the message) or worth another try."""

    def __init__(self, text: str, permanent: bool) -> None:
        super().__init__(text)
        self.text = text
        self.permanent = permanent


def _answer(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}".strip()


def _failure(error: BaseException, *, stage: str, server: MailServer) -> _Failure:
    """Classify what smtplib, ssl or the socket raised; never mentions the password."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = list(error.recipients.values())
        permanent = bool(answers) and all(code >= 500 for code, _ in answers)
        text = "; ".join(_answer(code, reply) for code, reply in answers)
        return _Failure(text[:ERROR_LENGTH], permanent)
    if isinstance(error, smtplib.SMTPResponseException):
        text = _answer(error.smtp_code, error.smtp_error)
        # Before the message (greeting, EHLO, STARTTLS, AUTH) a 5xx is about the server or
        # its settings: every message would get it, so it is worth waiting for a fix.
        permanent = stage == "send" and 500 <= error.smtp_code < 600
        prefix = "" if stage == "send" else f"{stage}: "
        return _Failure(f"{prefix}{text}"[:ERROR_LENGTH], permanent)
    where = f"{server.host}:{server.port}"
    if isinstance(error, TimeoutError):
        text = f"{stage}: no answer from {where} within {server.timeout:g} s"
    elif isinstance(error, smtplib.SMTPServerDisconnected):
        text = f"{stage}: {where} closed the connection ({error})"
    elif isinstance(error, ssl.SSLError):
        text = f"{stage}: TLS with {where} failed: {error}"
    elif isinstance(error, OSError):
        text = f"{stage}: {where}: {error.strerror or error}"
    else:
        text = f"{stage}: {type(error).__name__}: {error}"
    return _Failure(text[:ERROR_LENGTH], False)


def _tls_context(server: MailServer) -> ssl.SSLContext:
    """Certificates and the host name are checked, against MAIL_CA_FILE when it is set."""
    return ssl.create_default_context(cafile=server.ca_file or None)


def _connect(server: MailServer) -> smtplib.SMTP:
    """Open a connection, secure it as configured and log in; raise _Failure if it fails."""
    stage = "connect"
    smtp: smtplib.SMTP | None = None
    try:
        if server.security == SECURITY_SSL:
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=_tls_context(server)
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        stage = "EHLO"
        smtp.ehlo_or_helo_if_needed()
        if server.security == SECURITY_STARTTLS:
            stage = "STARTTLS"
            smtp.starttls(context=_tls_context(server))
            smtp.ehlo_or_helo_if_needed()  # again, over TLS: what the server offers now
        if server.username:
            stage = "login"
            smtp.login(server.username, server.password)
    except (smtplib.SMTPException, OSError) as error:
        _close(smtp)
        raise _failure(error, stage=stage, server=server) from None
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _transmit(smtp: smtplib.SMTP, server: MailServer, recipient: str, message: EmailMessage) -> str:
    """MAIL, RCPT and DATA for one message; return the server's final answer.

    Done step by step rather than with sendmail() to keep the answer to DATA, which the
    settings page shows after a test message.
    """
    sender = server.sender_address
    international = not (sender.isascii() and recipient.isascii())
    if international and not smtp.has_extn("smtputf8"):
        raise _Failure(f"{server.host} does not take non-ASCII addresses (no SMTPUTF8)", True)
    data = message.as_bytes(policy=_POLICY_UTF8 if international else _POLICY)
    try:
        code, reply = smtp.mail(sender, ["SMTPUTF8", "BODY=8BITMIME"] if international else [])
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = smtp.data(data)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
    except smtplib.SMTPResponseException:
        _reset(smtp)
        raise
    return _answer(code, reply)


def _reset(smtp: smtplib.SMTP) -> None:
    """Start the next message on a clean transaction (RSET), as sendmail() does."""
    try:
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class _Connection:
    """One SMTP connection for a round, opened when first needed and again after a drop.

    When the server cannot be reached, the rest of the round gets the same answer without
    a new try each: a server that is down costs one timeout per round, not one per message.
    """

    def __init__(self, server: MailServer) -> None:
        self.server = server
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: _Failure | None = None

    def send(self, recipient: str, message: EmailMessage) -> str:
        if self._unreachable is not None:
            raise self._unreachable
        if self._smtp is None or self._smtp.sock is None:
            try:
                self._smtp = _connect(self.server)
            except _Failure as failure:
                self._unreachable = failure
                raise
        try:
            return _transmit(self._smtp, self.server, recipient, message)
        except smtplib.SMTPResponseException as error:
            raise _failure(error, stage="send", server=self.server) from None
        except (smtplib.SMTPException, OSError) as error:
            # The connection is in an unknown state: the next message opens a new one.
            _close(self._smtp)
            self._smtp = None
            raise _failure(error, stage="send", server=self.server) from None

    def close(self) -> None:
        _close(self._smtp)
        self._smtp = None


def send_test_message(
    server: MailServer, recipient: str, rendered: RenderedMail, now: datetime
) -> str:
    """Send one message now (not through the outbox); return the server's answer.

    Raises MailError with the server's answer, or what went wrong, when it is not taken.
    """
    message = build_message(server, recipient, rendered, now=now, message_id=new_message_id(server))
    connection = _Connection(server)
    try:
        return connection.send(recipient, message)
    except _Failure as failure:
        raise MailError(failure.text) from None
    finally:
        connection.close()


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


def _record(mail: OutgoingMail, token: str, outcome: str | _Failure, *, now: datetime) -> str:
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
    connection = _Connection(server)
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
            if isinstance(outcome, _Failure):
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
    connection: _Connection,
    server: MailServer,
    mail: OutgoingMail,
    render: Callable[[OutgoingMail], RenderedMail],
    *,
    now: datetime,
) -> str | _Failure:
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
        return _Failure(f"not written: {type(error).__name__}: {error}"[:ERROR_LENGTH], True)
    try:
        return connection.send(mail.recipient, message)
    except _Failure as failure:
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
