"""Other services' access: people's application passwords and the API's clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Base
from models.base import UTCDateTime


class AppPassword(Base):
    """A person's application password for a client that cannot ask for a one-time code.

    Only its keyed digest is kept (HMAC-SHA256 under the recovery-code key, outside the
    database). Revoking deletes the row; the event log keeps the story.
    """

    __tablename__ = "app_passwords"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_ip: Mapped[str] = mapped_column(String(64), default="")
    # The API client that last checked it (its name at the time).
    last_used_client: Mapped[str] = mapped_column(String(100), default="")


class ApiClient(Base):
    """A service allowed to call the API: its scopes, its networks and its key's digest."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Space-separated scope names (validate, users:read).
    scopes: Mapped[str] = mapped_column(String(200), default="")
    # One network in CIDR notation a line; empty means any address.
    networks: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(160), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def network_list(self) -> list[str]:
        return [line for line in self.networks.splitlines() if line.strip()]
