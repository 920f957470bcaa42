"""Notices by e-mail, against a real SMTP server (aiosmtpd in the test process).

Time is passed in: a retry is shown by handing the sender a later `now`, never by sleeping.
Messages are written by `notices.notify`, as the console writes them; most tests put them
into words with `in_words` below, the command line tests with the console's own renderer.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, update

from extensions import db
from integrations import mail
from integrations.mail import MailError, RenderedMail
from models import Notice, OutgoingMail, TwoStepAccount, User, utcnow
from security import mail_outbox, notices
from security.mail_outbox import QueueCounts, SendSummary
from tests.support import TEST_DATABASE_URL
from tests.support.mail import Certificates, SmtpServer, make_certificates

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SENDER = "Two-step console <console@example.org>"
RACED_MESSAGES = 200
ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def mail_enabled(app: Flask) -> Iterator[None]:
    """E-mail goes out, as when FLASK_MAIL_SERVER is set at start-up."""
    notices.configure(mail_enabled=True)
    yield
    notices.configure(mail_enabled=False)


@pytest.fixture
def smtp(app: Flask, mail_enabled: None) -> Iterator[SmtpServer]:
    """A plain SMTP server, and the console's mail settings pointing at it."""
    server = SmtpServer().start()
    app.config.update(server.settings(MAIL_FROM=SENDER))
    yield server
    server.stop()


@pytest.fixture
def certificates(tmp_path: Any) -> Certificates:
    return make_certificates(tmp_path)


@pytest.fixture
def tls_smtp(app: Flask, mail_enabled: None, certificates: Certificates) -> Iterator[SmtpServer]:
    """A server offering STARTTLS with a certificate of a private CA (not the system's)."""
    server = SmtpServer(tls_context=certificates.server_context()).start()
    app.config.update(server.settings(MAIL_FROM=SENDER, MAIL_SECURITY="starttls"))
    yield server
    server.stop()


def in_words(mail: OutgoingMail) -> RenderedMail:
    """A stand-in renderer: the message's id in the subject, so each can be counted."""
    return RenderedMail(
        subject=f"Notice {mail.id}: {mail.notice.kind}",
        text=f"Plain words of notice {mail.id}.\n",
        html=f"<p>HTML words of notice {mail.id}.</p>",
    )


def outbox_server(app: Flask) -> mail.MailServer:
    server = mail.mail_server_from(app.config)
    assert server is not None
    return server


def send(
    app: Flask, now: datetime, render: Callable[[OutgoingMail], RenderedMail] = in_words
) -> SendSummary:
    """One round of the sender at `now`."""
    return mail_outbox.send_due(now, server=outbox_server(app), render=render)


def queue(user: User, now: datetime = NOW, kind: str = notices.PASSWORD_CHANGED) -> int:
    """Tell `user` something, as a change would, and commit; return the e-mail's id."""
    notice = notices.notify(user, kind, now=now)
    db.session.commit()
    mail_id = db.session.scalar(select(OutgoingMail.id).where(OutgoingMail.notice_id == notice.id))
    assert mail_id is not None, "no e-mail was queued"
    return mail_id


def mail_row(mail_id: int) -> OutgoingMail:
    db.session.expire_all()
    row = db.session.get(OutgoingMail, mail_id)
    assert row is not None
    return row


def count(model: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def subject_ids(server: SmtpServer) -> Counter[int]:
    """How many times each message (by the id in its subject) arrived."""
    return Counter(int(str(r.message["Subject"]).split()[1].rstrip(":")) for r in server.received)


# --- what arrives ----------------------------------------------------------------------------


def test_a_message_arrives_with_its_recipient_subject_both_parts_and_headers(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    ann = make_user("ann", email="ann@example.com")
    mail_id = queue(ann)
    text = "Ваш пароль изменён.\nЕсли это были не вы, обратитесь к администратору.\n"

    def russian(mail: OutgoingMail) -> RenderedMail:
        return RenderedMail("Пароль изменён", text, "<p>Ваш пароль <b>изменён</b>.</p>")

    assert send(app, NOW, russian) == SendSummary(sent=1)

    [received] = smtp.received
    message = received.message
    assert received.recipients == ("ann@example.com",)
    assert received.mail_from == "console@example.org"
    assert (message["To"], message["From"]) == ("ann@example.com", SENDER)
    assert message["Subject"] == "Пароль изменён"
    assert message.get_content_type() == "multipart/alternative"
    assert received.text == text
    assert "<p>Ваш пароль <b>изменён</b>.</p>" in received.html
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message["Auto-Submitted"] == "auto-generated"
    row = mail_row(mail_id)
    assert message["Message-ID"] == row.message_id
    assert row.message_id.startswith("<") and row.message_id.endswith("@example.org>")
    assert (row.status, row.sent_at, row.attempts) == ("sent", NOW, 1)
    assert (row.claimed_until, row.claim_token) == (None, None)

    # Sent is sent: later rounds leave it alone.
    assert send(app, NOW + timedelta(hours=1)) == SendSummary()
    assert len(smtp.received) == 1


def test_starttls_with_the_private_ca_in_mail_ca_file_delivers(
    app: Flask, tls_smtp: SmtpServer, certificates: Certificates, make_user: Any
) -> None:
    app.config["MAIL_CA_FILE"] = str(certificates.ca_file)
    mail_id = queue(make_user("ann", email="ann@example.com"))

    assert send(app, NOW) == SendSummary(sent=1)

    assert [(r.recipients, r.over_tls) for r in tls_smtp.received] == [(("ann@example.com",), True)]
    assert mail_row(mail_id).status == "sent"


def test_starttls_without_the_ca_file_refuses_the_server_and_keeps_the_message(
    app: Flask, tls_smtp: SmtpServer, certificates: Certificates, make_user: Any
) -> None:
    mail_id = queue(make_user("ann", email="ann@example.com"))

    # The system's authorities do not know the server's certificate: nothing is sent.
    assert send(app, NOW) == SendSummary(retried=1)
    assert tls_smtp.received == []
    assert tls_smtp.handler.data_attempts == 0
    row = mail_row(mail_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + MINUTE)
    assert "STARTTLS" in row.last_error and "certificate verify failed" in row.last_error

    # Given the CA, the same message goes at its next attempt.
    app.config["MAIL_CA_FILE"] = str(certificates.ca_file)
    assert send(app, NOW + MINUTE) == SendSummary(sent=1)
    assert [r.over_tls for r in tls_smtp.received] == [True]


# --- temporary and permanent answers -------------------------------------------------------


def test_a_server_answering_451_then_250_gets_the_message_once(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    smtp.handler.answer_data("451 4.3.0 Mailbox busy, try again later")
    mail_id = queue(make_user("ann", email="ann@example.com"))

    assert send(app, NOW) == SendSummary(retried=1)
    row = mail_row(mail_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + MINUTE)
    assert row.last_error == "451 4.3.0 Mailbox busy, try again later"
    first_message_id = row.message_id

    # Not before its time...
    assert send(app, NOW + MINUTE - timedelta(seconds=1)) == SendSummary()
    assert smtp.handler.data_attempts == 1
    # ...then once.
    assert send(app, NOW + MINUTE) == SendSummary(sent=1)
    assert send(app, NOW + timedelta(hours=2)) == SendSummary()

    assert smtp.handler.data_attempts == 2
    [received] = smtp.received
    row = mail_row(mail_id)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 2, NOW + MINUTE)
    # The second attempt carries the first one's Message-ID: a repeat can be told.
    assert received.message["Message-ID"] == row.message_id == first_message_id


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_server_answering_550_gets_no_retry(
    app: Flask, smtp: SmtpServer, make_user: Any, stage: str
) -> None:
    answer = "550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown"
    if stage == "RCPT":
        smtp.handler.answer_rcpt(answer)
    else:
        smtp.handler.answer_data(answer)
    refused = queue(make_user("ann", email="ann@example.com"))
    taken = queue(make_user("bob", email="bob@example.com"))

    # The refusal spoils nothing else of the round.
    assert send(app, NOW) == SendSummary(sent=1, failed=1)
    row = mail_row(refused)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, answer)
    assert mail_row(taken).status == "sent"

    assert send(app, NOW + timedelta(days=2)) == SendSummary()
    assert [r.recipients for r in smtp.received] == [("bob@example.com",)]
    # The settings page lists it, with the notice's kind and the server's answer.
    [failed] = mail_outbox.failed_messages()
    assert (failed.id, failed.recipient, failed.notice.kind) == (
        refused,
        "ann@example.com",
        notices.PASSWORD_CHANGED,
    )
    assert "550" in failed.last_error
    assert mail_outbox.queue_counts() == QueueCounts(pending=0, sent=1, failed=1)


def test_a_server_that_is_down_keeps_the_messages_queued_until_it_is_back(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    mail_ids = [
        queue(make_user("ann", email="ann@example.com")),
        queue(make_user("bob", email="bob@example.com")),
    ]
    with smtp.down():
        assert send(app, NOW) == SendSummary(retried=2)
        for mail_id in mail_ids:
            row = mail_row(mail_id)
            assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + MINUTE)
            assert "Connection refused" in row.last_error
        assert send(app, NOW + MINUTE) == SendSummary(retried=2)
        assert mail_row(mail_ids[0]).next_attempt_at == NOW + 3 * MINUTE

    # Back on the same port: each message goes once, at its time.
    assert send(app, NOW + 2 * MINUTE) == SendSummary()
    assert send(app, NOW + 3 * MINUTE) == SendSummary(sent=2)
    assert send(app, NOW + timedelta(hours=1)) == SendSummary()
    assert sorted(r.recipients for r in smtp.received) == [
        ("ann@example.com",),
        ("bob@example.com",),
    ]
    assert [mail_row(mail_id).attempts for mail_id in mail_ids] == [3, 3]


def test_temporary_failures_for_24_hours_give_the_message_up(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    smtp.handler.always_data("451 4.7.1 Greylisted, please try again later")
    mail_id = queue(make_user("ann", email="ann@example.com"))

    tries: list[datetime] = []
    now = NOW
    while True:
        summary = send(app, now)
        tries.append(now)
        row = mail_row(mail_id)
        if row.status != "pending":
            break
        assert summary == SendSummary(retried=1)
        assert send(app, row.next_attempt_at - timedelta(seconds=1)) == SendSummary()
        now = row.next_attempt_at
        assert len(tries) < 100, "never given up"

    assert (row.status, summary) == ("failed", SendSummary(failed=1))
    assert "451 4.7.1 Greylisted" in row.last_error
    gaps = [(later - earlier) / MINUTE for earlier, later in zip(tries, tries[1:], strict=False)]
    assert gaps[:7] == [1, 2, 4, 8, 16, 32, 60]
    assert max(gaps) == 60
    # Tried until the 24th hour, and given up at it.
    assert tries[-1] == NOW + timedelta(hours=24)
    assert tries[-2] < NOW + timedelta(hours=24)
    assert row.attempts == len(tries) == smtp.handler.data_attempts
    assert smtp.received == []
    assert send(app, NOW + timedelta(days=3)) == SendSummary()


# --- the outbox and its claims -------------------------------------------------------------


def test_a_rolled_back_change_leaves_no_message(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    ann = make_user("ann", email="ann@example.com")
    ann_id = ann.id
    notices.notify(ann, notices.PASSWORD_CHANGED, now=NOW)
    db.session.flush()
    # Written into the change's transaction...
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 1
    db.session.rollback()
    # ...and gone with it.
    assert (count(OutgoingMail), count(Notice)) == (0, 0)
    assert send(app, NOW) == SendSummary()
    assert smtp.received == []

    # The same change committed is told, once.
    user = db.session.get(User, ann_id)
    assert user is not None
    queue(user)
    assert send(app, NOW) == SendSummary(sent=1)
    assert [r.recipients for r in smtp.received] == [("ann@example.com",)]


def test_a_claimed_message_waits_for_the_lease_and_is_taken_over_after_it(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    mail_id = queue(make_user("ann", email="ann@example.com"))
    # Another sender claimed it and went silent (a host that died mid-round).
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(claimed_until=NOW + 5 * MINUTE, claim_token="a-sender-that-died")
    )
    db.session.commit()

    assert send(app, NOW) == SendSummary()
    assert send(app, NOW + 5 * MINUTE) == SendSummary()
    assert smtp.received == []
    assert send(app, NOW + 5 * MINUTE + timedelta(seconds=1)) == SendSummary(sent=1)
    assert len(smtp.received) == 1


def test_only_the_holder_of_the_claim_writes_the_outcome(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    mail_id = queue(make_user("ann", email="ann@example.com"))

    def taken_over_meanwhile(mail: OutgoingMail) -> RenderedMail:
        # Between the committed claim and the answer, another sender takes the message
        # over (as if this one's lease had run out).
        with db.engine.begin() as connection:
            connection.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id == mail.id)
                .values(claim_token="the-other-sender", claimed_until=NOW + 10 * MINUTE)
            )
        return in_words(mail)

    send(app, NOW, taken_over_meanwhile)

    row = mail_row(mail_id)
    assert (row.status, row.attempts, row.claim_token) == ("pending", 0, "the-other-sender")


def _pending() -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(OutgoingMail).where(OutgoingMail.status == "pending")
        )
        or 0
    )


def _race(app: Flask, server: mail.MailServer) -> list[list[SendSummary]]:
    """Two senders, each with its own app context, session and connection, started together."""
    barrier = threading.Barrier(2)
    rounds: list[list[SendSummary]] = [[], []]
    errors: list[BaseException] = []

    def sender(index: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                # Each goes on while anything is pending, so every round is contested.
                while _pending() > 0:
                    summary = mail_outbox.send_due(NOW, server=server, render=in_words, limit=10)
                    rounds[index].append(summary)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a sender hung"
    assert errors == []
    return rounds


def _queue_many(user: User) -> list[int]:
    created = [notices.notify(user, notices.NEW_BROWSER, now=NOW) for _ in range(RACED_MESSAGES)]
    db.session.commit()
    ids = {notice.id for notice in created}
    return list(db.session.scalars(select(OutgoingMail.id).where(OutgoingMail.notice_id.in_(ids))))


def _each_sent_once(
    app: Flask, smtp: SmtpServer, rounds: list[list[SendSummary]], mail_ids: list[int]
) -> None:
    assert len(mail_ids) == RACED_MESSAGES
    assert subject_ids(smtp) == Counter(dict.fromkeys(mail_ids, 1))
    assert sum(summary.sent for summary in rounds[0] + rounds[1]) == RACED_MESSAGES
    db.session.expire_all()
    statuses = db.session.execute(
        select(OutgoingMail.status, OutgoingMail.attempts, func.count()).group_by(
            OutgoingMail.status, OutgoingMail.attempts
        )
    ).all()
    assert [tuple(row) for row in statuses] == [("sent", 1, RACED_MESSAGES)]


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_two_senders_racing_on_postgresql_deliver_each_of_200_messages_once(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    mail_ids = _queue_many(make_user("ann", email="ann@example.com"))
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        rounds = _race(app, outbox_server(app))
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)

    _each_sent_once(app, smtp, rounds, mail_ids)
    assert any("FOR UPDATE SKIP LOCKED" in statement for statement in statements)


@pytest.mark.skipif(ON_POSTGRESQL, reason="the suite runs on PostgreSQL")
def test_two_senders_racing_on_sqlite_deliver_each_of_200_messages_once(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    mail_ids = _queue_many(make_user("ann", email="ann@example.com"))
    rounds = _race(app, outbox_server(app))
    _each_sent_once(app, smtp, rounds, mail_ids)


# --- the administrator's test message, the settings, the login ------------------------------


def test_a_test_message_answers_with_the_server_reply(app: Flask, smtp: SmtpServer) -> None:
    server = outbox_server(app)
    words = RenderedMail("Test message", "It works.\n", "<p>It works.</p>")

    reply = mail.send_test_message(server, "admin@example.com", words, NOW)

    assert reply == "250 2.0.0 Ok: queued"
    [received] = smtp.received
    assert (received.recipients, received.message["Subject"]) == (
        ("admin@example.com",),
        "Test message",
    )
    smtp.handler.answer_rcpt("550 5.1.1 <admin@example.com>: User unknown")
    with pytest.raises(MailError, match="550 5.1.1 <admin@example.com>: User unknown"):
        mail.send_test_message(server, "admin@example.com", words, NOW)
    with smtp.down(), pytest.raises(MailError, match="Connection refused"):
        mail.send_test_message(server, "admin@example.com", words, NOW)
    # Not through the outbox.
    assert count(OutgoingMail) == 0


def test_mail_settings_without_a_server_are_none_and_never_show_the_password(app: Flask) -> None:
    assert mail.mail_server_from(app.config) is None
    app.config.update(
        MAIL_SERVER="smtp.example.com",
        MAIL_PORT=587,
        MAIL_SECURITY="starttls",
        MAIL_USERNAME="console",
        MAIL_PASSWORD="not-for-anyone-to-see",
    )
    server = mail.mail_server_from(app.config)
    assert server is not None
    assert (server.host, server.port, server.security, server.username, server.timeout) == (
        "smtp.example.com",
        587,
        "starttls",
        "console",
        10,
    )
    assert "not-for-anyone-to-see" not in repr(server)


def test_a_refused_login_keeps_the_message_queued_and_never_records_the_password(
    app: Flask,
    mail_enabled: None,
    certificates: Certificates,
    make_user: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = "the-right-password-42"
    server = SmtpServer(
        tls_context=certificates.server_context(), logins={"console": password}
    ).start()
    try:
        app.config.update(
            server.settings(
                MAIL_FROM=SENDER,
                MAIL_SECURITY="starttls",
                MAIL_CA_FILE=str(certificates.ca_file),
                MAIL_USERNAME="console",
                MAIL_PASSWORD="a-wrong-password-17",
            )
        )
        mail_id = queue(make_user("ann", email="ann@example.com"))
        caplog.set_level(logging.DEBUG)

        # A login refused is the settings' fault, not the message's: it waits for a fix.
        assert send(app, NOW) == SendSummary(retried=1)
        row = mail_row(mail_id)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error.startswith("login: 535")
        assert "a-wrong-password-17" not in row.last_error + caplog.text

        app.config["MAIL_PASSWORD"] = password
        assert send(app, NOW + MINUTE) == SendSummary(sent=1)
        assert [(r.login, r.over_tls) for r in server.received] == [("console", True)]
        assert password not in caplog.text
    finally:
        server.stop()


# --- flask notify send ----------------------------------------------------------------------


def _grace_ends_in(user: User, left: timedelta) -> None:
    """Mandatory two-step applies to `user`, who has no device yet; the deadline is near."""
    db.session.merge(
        TwoStepAccount(user_id=user.id, failed_attempts=0, grace_deadline=utcnow() + left)
    )
    db.session.commit()


def _summary_of(result: Any) -> str:
    assert result.exit_code == 0, result.output
    return str(result.output).strip().splitlines()[-1]


def test_notify_send_once_sends_what_is_due_and_prints_the_summary(
    app: Flask, smtp: SmtpServer, make_user: Any, runner: Any
) -> None:
    smtp.handler.answer_rcpt("550 5.1.1 <ann@example.com>: User unknown")
    now = utcnow()
    for login in ("ann", "bob", "cyril"):
        queue(make_user(login, email=f"{login}@example.com"), now=now)

    result = runner.invoke(args=["notify", "send", "--once"])

    assert _summary_of(result) == "sent 2, retried 0, failed 1, reminders 0"
    assert sorted(r.recipients for r in smtp.received) == [
        ("bob@example.com",),
        ("cyril@example.com",),
    ]
    # Put into words by the console, with both parts.
    for received in smtp.received:
        assert received.message["Subject"] and received.text.strip() and received.html.strip()
    assert _summary_of(runner.invoke(args=["notify", "send", "--once"])) == (
        "sent 0, retried 0, failed 0, reminders 0"
    )
    assert len(smtp.received) == 2


def test_a_grace_reminder_is_sent_once_however_many_times_notify_send_once_runs(
    app: Flask, smtp: SmtpServer, make_user: Any, runner: Any
) -> None:
    dora = make_user("dora", email="dora@example.com")
    _grace_ends_in(dora, timedelta(days=2, hours=12))

    summaries = [_summary_of(runner.invoke(args=["notify", "send", "--once"])) for _ in range(3)]

    assert summaries == [
        "sent 1, retried 0, failed 0, reminders 1",
        "sent 0, retried 0, failed 0, reminders 0",
        "sent 0, retried 0, failed 0, reminders 0",
    ]
    assert [r.recipients for r in smtp.received] == [("dora@example.com",)]
    kinds = db.session.scalars(select(Notice.kind).where(Notice.user_id == dora.id)).all()
    assert kinds == [notices.GRACE_REMINDER_3_DAYS]


def test_notify_send_once_without_a_mail_server_still_creates_reminders(
    app: Flask, make_user: Any, runner: Any
) -> None:
    dora = make_user("dora", email="dora@example.com")
    _grace_ends_in(dora, timedelta(days=2, hours=12))

    result = runner.invoke(args=["notify", "send", "--once"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "no mail server: notices stay on My page",
        "sent 0, retried 0, failed 0, reminders 1",
    ]
    assert (count(Notice), count(OutgoingMail)) == (1, 0)


def test_notify_send_runs_until_sigterm_and_then_stops_cleanly(
    app: Flask, smtp: SmtpServer, make_user: Any, runner: Any
) -> None:
    mail_id = queue(make_user("ann", email="ann@example.com"), now=utcnow())
    before = signal.getsignal(signal.SIGTERM)

    def stop_once_delivered() -> None:
        give_up = time.monotonic() + 30
        while not smtp.received and time.monotonic() < give_up:
            time.sleep(0.05)
        # Only while the command's own handler is in place: else the signal would end pytest.
        if signal.getsignal(signal.SIGTERM) is not before:
            os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_once_delivered)
    stopper.start()
    try:
        result = runner.invoke(args=["notify", "send", "--interval", "0.1"])
    finally:
        stopper.join(timeout=60)

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "sent 1, retried 0, failed 0, reminders 0" in lines
    assert lines[-1] == "stopped"
    assert len(smtp.received) == 1
    assert mail_row(mail_id).status == "sent"
    assert signal.getsignal(signal.SIGTERM) is before
