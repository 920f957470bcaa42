"""The hardware token inventory: tokens imported from the vendor's file, waiting or in use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Base
from models.base import UTCDateTime

TOKEN_STATES = ("unassigned", "assigned", "lost", "retired")


class HardwareToken(Base):
    """One hardware token of the inventory, its seed encrypted like a device's secret.

    unassigned: on the shelf; assigned: a user's device (user_id, device_id); lost and
    retired: out of use for good, the seed destroyed (secret_encrypted is NULL).
    """

    __tablename__ = "hardware_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(4))  # totp | hotp
    digits: Mapped[int] = mapped_column(Integer, default=6)
    period: Mapped[int] = mapped_column(Integer, default=30)
    # HOTP: the counter the vendor's file gives (the token's next value). TOTP: unused.
    counter: Mapped[int] = mapped_column(Integer, default=0)
    algorithm: Mapped[str] = mapped_column(String(6), default="SHA1")
    # Fernet token of the seed (keys outside the database); NULL once destroyed.
    secret_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="unassigned", index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("otp_devices.id", ondelete="SET NULL"), nullable=True
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who imported it, as the event log keeps an actor: the login at the time.
    imported_by: Mapped[str] = mapped_column(String(160), default="")
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
