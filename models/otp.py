"""Two-step authentication: settings, devices, per-user state, recovery codes, computers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Base
from models.base import UTCDateTime

SETTINGS_ROW_ID = 1


class OtpSettings(Base):
    """The Parameters tab of Proactive protection → Two-step authentication (one row)."""

    __tablename__ = "otp_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    default_type: Mapped[str] = mapped_column(String(4), default="totp")
    totp_window: Mapped[int] = mapped_column(Integer, default=1)
    hotp_window: Mapped[int] = mapped_column(Integer, default=10)
    allow_remember: Mapped[bool] = mapped_column(Boolean, default=False)
    remember_days: Mapped[int] = mapped_column(Integer, default=30)
    allow_recovery_codes: Mapped[bool] = mapped_column(Boolean, default=True)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    mandatory_days: Mapped[int] = mapped_column(Integer, default=10)
    # Comma-separated group ids: a handful of groups, read together with the row.
    mandatory_groups: Mapped[str] = mapped_column(String(255), default="1")
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    lockout_minutes: Mapped[int] = mapped_column(Integer, default=15)
    log_requests: Mapped[bool] = mapped_column(Boolean, default=True)
    issuer: Mapped[str] = mapped_column(String(100), default="Company portal")
    enabled_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def mandatory_group_ids(self) -> list[int]:
        return [int(part) for part in self.mandatory_groups.split(",") if part.strip().isdigit()]


class OtpDevice(Base):
    """A user's connected authenticator: an app on a phone or a hardware token."""

    __tablename__ = "otp_devices"
    # The few switched-off devices, for the overview's counts and the user list's filter;
    # with user_id, the index alone answers them (no read of the wide device rows).
    __table_args__ = (
        Index(
            "ix_otp_devices_enabled_disabled_until_user_id", "enabled", "disabled_until", "user_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(4))  # totp | hotp
    source: Mapped[str] = mapped_column(String(10), default="mobile")  # mobile | hardware
    # Fernet token of the secret; the plaintext never reaches the database.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    digits: Mapped[int] = mapped_column(Integer, default=6)
    period: Mapped[int] = mapped_column(Integer, default=30)
    t0: Mapped[int] = mapped_column(Integer, default=0)
    algorithm: Mapped[str] = mapped_column(String(6), default="SHA1")
    # HOTP: the next counter value expected. TOTP: unused.
    counter: Mapped[int] = mapped_column(Integer, default=0)
    # TOTP: the last accepted time step; a code for it or an earlier one is refused.
    last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # TOTP: the device's learned clock offset, in steps.
    drift: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # With enabled false: when the switch-off ends by itself (NULL: until re-enabled).
    disabled_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TwoStepAccount(Base):
    """Per-user two-step state that exists with or without a device: locks and grace.

    The dates are indexed: locked, overdue and exempt users are few, and the overview
    and the user list's filter find them from these indexes.
    """

    __tablename__ = "two_step_accounts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    grace_deadline: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True
    )
    exempt_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id_digest", "user_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # HMAC-SHA256 under a key kept outside the database.
    digest: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_ip: Mapped[str] = mapped_column(String(64), default="")


class SpentConnection(Base):
    """A sealed connection form that has stored a device, so it cannot store one again.

    The same form submitted twice (a double click, a replay) would otherwise replace the
    device and the recovery codes just shown, and a wrong code would show the secret
    again. Rows older than the sealed form's lifetime are worthless and are deleted.
    """

    __tablename__ = "spent_connections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RememberedComputer(Base):
    """A computer on which a user chose to skip the second step for a while."""

    __tablename__ = "remembered_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
