"""Server-side records of signed-in sessions, so that a session can be ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Base
from models.base import UTCDateTime
from models.user import User


class UserSession(Base):
    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id_ended_at", "user_id", "ended_at"),)

    # SHA-256 of the random token in the signed cookie: a copy of this table
    # does not give anyone a usable cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Time of the last full sign-in (password, and code when required): sensitive
    # actions ask for the password again when this is too old.
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str] = mapped_column(String(40), default="")

    user: Mapped[User] = relationship(lazy="joined")


class PendingSignIn(Base):
    """A sign-in whose password was accepted and whose second step is not done yet.

    The cookie holds a random token; this row is what makes it worth anything, and the
    row is deleted by the conditional statement that completes the sign-in, so a copy
    of the cookie cannot complete a second one. Cancel, logout and a password change
    delete it too.
    """

    __tablename__ = "pending_sign_ins"

    # SHA-256 of the random token in the signed cookie, as for sessions.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
