"""The security event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Base
from models.base import UTCDateTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_type_created_at", "type", "created_at"),
        Index("ix_events_subject_id_created_at", "subject_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    type: Mapped[str] = mapped_column(String(50))
    outcome: Mapped[str] = mapped_column(String(20), default="success")
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Logins as they were at the time, so the record survives renames and deletions.
    actor_login: Mapped[str] = mapped_column(String(160), default="")
    subject_login: Mapped[str] = mapped_column(String(160), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[str] = mapped_column(Text, default="")
    # How many times it happened: refusals from one client are counted in one row per
    # window (security.events.record_refusal), not written once per request.
    count: Mapped[int] = mapped_column(default=1, server_default="1")
