"""The helpdesk's temporary code: a code that stands in for a lost device for a few hours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Base
from models.base import UTCDateTime


class TemporaryCode(Base):
    """A user's temporary code (at most one): its keyed digest and when it stops working.

    Issuing a new code replaces the row; revoking, connecting a new device and removing
    the device delete it. Use does not spend it: it works until `expires_at`.
    """

    __tablename__ = "temporary_codes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # HMAC-SHA256 under the recovery-code key, kept outside the database; never the code.
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who issued it, as the event log keeps an actor: the login at the time.
    created_by: Mapped[str] = mapped_column(String(160), default="")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
