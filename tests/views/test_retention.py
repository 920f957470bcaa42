"""Retention: `maintenance prune` removes exactly the rows past their window."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

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
    utcnow,
)
from security import retention
from security.sessions import SessionLimits
from tests.support import events_of

LIMITS = SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


def _seed(now: Any, user: Any, other: Any) -> None:
    """Rows on both sides of every window; names starting with "keep" must stay."""
    minute = timedelta(minutes=1)
    day = timedelta(days=1)

    def session(name: str, *, created: Any, seen: Any, ended: Any = None) -> UserSession:
        return UserSession(
            id=name,
            user_id=user.id,
            created_at=created,
            last_seen_at=seen,
            authenticated_at=created,
            ended_at=ended,
        )

    db.session.add_all(
        [
            session("keep-live", created=now - 11 * 60 * minute, seen=now - 29 * minute),
            session("gone-ended", created=now - minute, seen=now - minute, ended=now - minute),
            session("gone-idle", created=now - 60 * minute, seen=now - 31 * minute),
            session("gone-old", created=now - 12 * 60 * minute - minute, seen=now - minute),
            PendingSignIn(
                id="keep-pending", user_id=user.id, created_at=now, expires_at=now + minute
            ),
            PendingSignIn(
                id="gone-pending", user_id=user.id, created_at=now, expires_at=now - minute
            ),
            SpentConnection(id="keep-spent", user_id=user.id, spent_at=now - 14 * minute),
            SpentConnection(id="gone-spent", user_id=user.id, spent_at=now - 16 * minute),
            TemporaryCode(user_id=user.id, digest="keep", created_at=now, expires_at=now + minute),
            TemporaryCode(user_id=other.id, digest="gone", created_at=now, expires_at=now - minute),
        ]
    )
    for name, expires in (("keep", now + day), ("gone", now - minute)):
        db.session.add(
            RememberedComputer(
                user_id=user.id,
                token_digest=name,
                user_agent=name,
                created_at=now - 30 * day,
                last_used_at=now - day,
                expires_at=expires,
            )
        )
    for name, age in (("keep", 364), ("gone", 366)):
        db.session.add(
            Event(created_at=now - age * day, type="sign_in", details=f"{name}-event", count=1)
        )

    def notice(name: str, *, read: Any, mail: str | None = None, sent: Any = None) -> None:
        row = Notice(user_id=user.id, kind="otp_locked", created_at=now - 400 * day, read_at=read)
        row.values = f'{{"name": "{name}"}}'
        db.session.add(row)
        if mail is not None:
            db.session.add(
                OutgoingMail(
                    notice=row,
                    recipient=f"{name}@example.com",
                    created_at=now - 400 * day,
                    status=mail,
                    next_attempt_at=now - 400 * day,
                    sent_at=sent,
                )
            )

    notice("keep-unread", read=None)
    notice("keep-read-recently", read=now - 364 * day)
    notice("gone-read-long-ago", read=now - 366 * day)
    # Read long ago, but its e-mail is still to go: it stays until the mail is sent.
    notice("keep-mail-pending", read=now - 366 * day, mail="pending")
    # The e-mail was sent long ago; the notice is unread, so only the e-mail goes.
    notice("keep-notice-gone-mail", read=None, mail="sent", sent=now - 366 * day)
    notice("keep-mail-sent-recently", read=None, mail="sent", sent=now - 364 * day)
    notice("keep-mail-failed", read=None, mail="failed")
    db.session.commit()


def _left() -> dict[str, set[str]]:
    db.session.expire_all()
    return {
        "sessions": set(db.session.scalars(select(UserSession.id))),
        "pending": set(db.session.scalars(select(PendingSignIn.id))),
        "spent": set(db.session.scalars(select(SpentConnection.id))),
        "temporary": set(db.session.scalars(select(TemporaryCode.digest))),
        "remembered": set(db.session.scalars(select(RememberedComputer.token_digest))),
        "events": set(
            db.session.scalars(select(Event.details).where(Event.details.like("%-event")))
        ),
        "notices": set(db.session.scalars(select(Notice.values))),
        "mail": set(db.session.scalars(select(OutgoingMail.recipient))),
    }


def test_prune_removes_exactly_the_rows_past_their_window(make_user: Any) -> None:
    user, other = make_user("employee"), make_user("other")
    now = utcnow()
    _seed(now, user, other)

    summary = retention.prune(now, retention_days=365, session_limits=LIMITS, batch_size=1)

    left = _left()
    assert left["sessions"] == {"keep-live"}
    assert left["pending"] == {"keep-pending"}
    assert left["spent"] == {"keep-spent"}
    assert left["temporary"] == {"keep"}
    assert left["remembered"] == {"keep"}
    assert left["events"] == {"keep-event"}
    assert left["notices"] == {
        f'{{"name": "{name}"}}'
        for name in (
            "keep-unread",
            "keep-read-recently",
            "keep-mail-pending",
            "keep-notice-gone-mail",
            "keep-mail-sent-recently",
            "keep-mail-failed",
        )
    }
    assert left["mail"] == {
        "keep-mail-pending@example.com",
        "keep-mail-sent-recently@example.com",
        "keep-mail-failed@example.com",
    }
    assert summary.removed == {
        "sessions": 3,
        "pending sign-ins": 1,
        "remembered computers": 1,
        "spent connections": 1,
        "temporary codes": 1,
        "sent e-mails": 1,
        "read notices": 1,
        "events": 1,
    }
    # The removal of records is itself recorded.
    (pruned,) = events_of("events_pruned")
    assert pruned.details == "count=1; days=365"

    # A second run finds nothing more.
    again = retention.prune(now, retention_days=365, session_limits=LIMITS)
    assert again.total == 0
    assert len(events_of("events_pruned")) == 1


@pytest.mark.settings(EVENT_RETENTION_DAYS=30)
def test_the_command_uses_the_retention_setting(runner: Any, make_user: Any) -> None:
    user, other = make_user("employee"), make_user("other")
    now = utcnow()
    _seed(now, user, other)
    db.session.add(Event(created_at=now - timedelta(days=31), type="sign_in", details="x-event"))
    db.session.add(Event(created_at=now - timedelta(days=29), type="sign_in", details="y-event"))
    db.session.commit()

    result = runner.invoke(args=["maintenance", "prune"])

    assert result.exit_code == 0, result.output
    assert "events 3" in result.output
    assert _left()["events"] == {"y-event"}
    assert "sessions 3" in result.output


def test_the_notice_sender_prunes_when_it_starts(runner: Any, make_user: Any) -> None:
    """`notify send` runs the prune once a day, the first time as it starts."""
    now = utcnow()
    db.session.add(Event(created_at=now - timedelta(days=400), type="sign_in", details="o-event"))
    db.session.commit()
    before = signal.getsignal(signal.SIGTERM)

    def stop_soon() -> None:
        give_up = time.monotonic() + 30
        while signal.getsignal(signal.SIGTERM) is before and time.monotonic() < give_up:
            time.sleep(0.05)
        time.sleep(0.5)
        # Only while the command's own handler is in place: else the signal would end pytest.
        if signal.getsignal(signal.SIGTERM) is not before:
            os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_soon)
    stopper.start()
    try:
        result = runner.invoke(args=["notify", "send", "--interval", "0.1"])
    finally:
        stopper.join(timeout=60)

    assert result.exit_code == 0, result.output
    assert any(
        line.startswith("removed ") and "events 1" in line for line in result.output.splitlines()
    )
    assert _left()["events"] == set()
