"""Users, groups and the rights that groups carry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Base
from models.base import UTCDateTime

ADMINISTRATORS_GROUP_ID = 1
EMPLOYEES_GROUP_ID = 2

LOGIN_MAX = 50
EMAIL_MAX = 255
NAME_MAX = 100
DN_MAX = 1024

# Where a user's account and password live: the console, or the company directory.
SOURCE_LOCAL = "local"
SOURCE_DIRECTORY = "directory"

user_groups = Table(
    "user_groups",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "group_id",
        Integer,
        ForeignKey("groups.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    can_manage_otp: Mapped[bool] = mapped_column(Boolean, default=False)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<Group {self.id} {self.name}>"


# On SQLite, the user search reads an FTS5 trigram index (migration 0009): a virtual table
# over users, its shadow tables, and the triggers that keep it in step. Not a model: the
# ORM never writes it, and the migration comparison and autogenerate leave these tables out.
USER_SEARCH_TABLE = "users_search"
USER_SEARCH_TABLES = frozenset(
    {
        USER_SEARCH_TABLE,
        *(f"{USER_SEARCH_TABLE}_{part}" for part in ("data", "idx", "docsize", "config")),
    }
)


def _trigram_index(column: str) -> Index:
    """A pg_trgm GIN index for substring search (LIKE / ILIKE '%text%') on PostgreSQL.

    Migration 0004 creates it on PostgreSQL only, and only when the pg_trgm extension is
    available. SQLite has no such index type: there the index is declared empty
    (WHERE 0), so that the schema still matches the models and costs nothing.
    """
    return Index(
        f"ix_users_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        sqlite_where=text("0"),
    )


class User(Base):
    __tablename__ = "users"
    __table_args__ = tuple(
        _trigram_index(column) for column in ("login_key", "email", "name", "last_name")
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(LOGIN_MAX))
    # casefold() of the login: uniqueness and look-up ignore case on every database.
    login_key: Mapped[str] = mapped_column(String(LOGIN_MAX * 3), unique=True)
    # What the login looks like (security.accounts.login_skeleton): no two logins may
    # look alike. NULL only for a user whose login already resembled an earlier one's
    # when migration 0007 filled the column. Folding and decomposing can lengthen a login.
    login_skeleton: Mapped[str | None] = mapped_column(
        String(LOGIN_MAX * 4), unique=True, nullable=True
    )
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), default="", index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    last_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    # Indexed for the overview's count of blocked users, who are few.
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The person's own choice: "en" or "ru", and an IANA zone; empty = not chosen (the
    # browser's language, the console's default zone). security.preferences checks them.
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # A directory user's password is the directory's (never stored here); their entry is
    # found again by its id (entryUUID, objectGUID) when it moves, else by its DN.
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_LOCAL, server_default="local")
    directory_dn: Mapped[str | None] = mapped_column(String(DN_MAX), nullable=True)
    directory_id: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )
    # Blocked by a synchronisation (removed or disabled in the directory), so that the
    # next one may unblock them; an administrator's block is never lifted by a sync.
    directory_blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    groups: Mapped[list[Group]] = relationship(
        secondary=user_groups, lazy="selectin", order_by=Group.id
    )

    # Flask-Login's protocol, spelled out so that no mixin hides what it answers.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def from_directory(self) -> bool:
        return self.source == SOURCE_DIRECTORY

    @property
    def is_admin(self) -> bool:
        return any(group.is_admin for group in self.groups)

    @property
    def can_manage_otp(self) -> bool:
        return any(group.is_admin or group.can_manage_otp for group in self.groups)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.name, self.last_name) if part)

    @property
    def display_name(self) -> str:
        return self.full_name or self.login

    def __repr__(self) -> str:
        return f"<User {self.id} {self.login!r}>"
