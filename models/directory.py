"""The company directory's settings (one row), as set on Settings → Directory."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Base
from models.base import UTCDateTime

DIRECTORY_SETTINGS_ROW_ID = 1


class DirectorySettings(Base):
    """Where the directory is and how its people and groups are read.

    FLASK_LDAP_* settings, when given, take the place of these columns (see
    security.directory). The service account's password is kept encrypted with the
    console's secret keys (security.secret_box), never in clear.
    """

    __tablename__ = "directory_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Space-separated ldap:// or ldaps:// URLs, tried in order.
    urls: Mapped[str] = mapped_column(Text, default="")
    start_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    ca_file: Mapped[str] = mapped_column(String(1024), default="")
    bind_dn: Mapped[str] = mapped_column(String(1024), default="")
    bind_password_encrypted: Mapped[str] = mapped_column(Text, default="")
    user_base: Mapped[str] = mapped_column(String(1024), default="")
    user_filter: Mapped[str] = mapped_column(Text, default="")
    login_attribute: Mapped[str] = mapped_column(String(64), default="uid")
    email_attribute: Mapped[str] = mapped_column(String(64), default="mail")
    first_name_attribute: Mapped[str] = mapped_column(String(64), default="givenName")
    last_name_attribute: Mapped[str] = mapped_column(String(64), default="sn")
    group_base: Mapped[str] = mapped_column(String(1024), default="")
    # JSON {"<group DN>": <console group id>}: membership of the directory group (nested
    # groups included) is membership of the console group.
    group_map: Mapped[str] = mapped_column(Text, default="{}")
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
