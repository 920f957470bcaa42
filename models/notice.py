"""Notices to people: on their My page, and as e-mail through an outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Base
from models.base import UTCDateTime

NOTICE_SETTINGS_ROW_ID = 1


class Notice(Base):
    """Something a person is told about their account (or, for administrators, the console)."""

    __tablename__ = "notices"
    __table_args__ = (
        # My page lists a person's notices newest first and counts the unread ones.
        Index("ix_notices_user_id_id", "user_id", "id"),
        # A reminder is told once per person and deadline, however many senders run.
        UniqueConstraint("user_id", "once_key", name="uq_notices_user_id_once_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What the sentence needs, as JSON: times in ISO 8601 UTC, logins, counts. Never a
    # password, a code or a secret.
    values: Mapped[str] = mapped_column(Text, default="{}")
    once_key: Mapped[str | None] = mapped_column(String(120), nullable=True)


class OutgoingMail(Base):
    """An e-mail waiting to be sent, sent, or given up; written with the notice it carries."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        # The sender's question: what is due now?
        Index("ix_outgoing_mail_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # pending (to send, maybe again), sent, or failed (given up: the answer says why).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A sender owns a message until this time; another takes it over only after it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    message_id: Mapped[str] = mapped_column(String(200), default="")

    notice: Mapped[Notice] = relationship(lazy="joined")


class NoticeSettings(Base):
    """Which kinds of notice go out by e-mail (one row); My page shows every kind."""

    __tablename__ = "notice_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kinds an administrator stopped mailing, comma-separated: a kind added later is
    # mailed until someone says otherwise.
    kinds_not_mailed: Mapped[str] = mapped_column(Text, default="")
