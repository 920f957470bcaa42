"""The queries behind the administration lists: users, groups and events.

Searching users (with their two-step state, from security.status_read_model), listing
groups and searching the event log, one page at a time. It reads the console's own
tables only; the company directory (LDAP) is another matter and gets a module of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import func, or_, select

from extensions import db
from models import Event, Group, User, user_groups, utcnow
from security import otp_settings, status_read_model

Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    items: list[Row]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _paginate(
    statement: Any, page: int, per_page: int, count: Callable[[], int] | None = None
) -> Page[Any]:
    # The page, then the total as a plain COUNT(*) (or `count`, when the caller knows a
    # cheaper way). A window count(*) OVER () in the page query would make the database
    # build every matching row, all columns, just to count them: 160 ms instead of
    # 0.5 ms for the first page of 100,000 users on SQLite.
    offset = (page - 1) * per_page
    rows = db.session.execute(statement.limit(per_page).offset(offset)).all()
    if rows and len(rows) < per_page:
        total = offset + len(rows)
    elif count is not None:
        total = count()
    else:
        counting = statement.with_only_columns(func.count(), maintain_column_froms=True)
        total = db.session.scalar(counting.order_by(None)) or 0
    return Page(items=[row[0] for row in rows], total=total, page=page, per_page=per_page)


def search_users(
    *,
    query: str = "",
    group_id: int | None = None,
    otp_status: str | None = None,
    now: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[User]:
    """Return one page of users matching a search over login, name and e-mail.

    :param otp_status: a two-step state (or "unprotected"), as SQL, so counts and pages agree.
    """
    statement = select(User).order_by(User.id)
    count: Callable[[], int] | None = None
    if otp_status:
        settings = otp_settings.load_settings()
        at = now or utcnow()
        statement = statement.where(status_read_model.filter_condition(otp_status, settings, at))
        if not query and group_id is None:
            # The state's size from its small tables, not a COUNT over every user.
            count = partial(status_read_model.count_in_state, otp_status, settings, at)
    if query:
        pattern = f"%{_escape_like(query.strip().casefold())}%"
        # login_key is casefolded already. On PostgreSQL, ILIKE on the columns themselves
        # is what the pg_trgm GIN indexes of migration 0004 answer. On SQLite, LIKE ignores
        # ASCII case and lower() folds ASCII only, so plain LIKE is the same test as
        # ILIKE's lower(…) LIKE lower(…), without a function call per row: a scan of
        # 100,000 users takes 26 ms instead of 61 ms. (SQLite has no index for it.)
        sqlite = db.session.get_bind().dialect.name == "sqlite"
        columns = (User.email, User.name, User.last_name)
        statement = statement.where(
            or_(
                User.login_key.like(pattern, escape="\\"),
                *(
                    column.like(pattern, escape="\\")
                    if sqlite
                    else column.ilike(pattern, escape="\\")
                    for column in columns
                ),
            )
        )
    if group_id is not None:
        statement = statement.where(
            User.id.in_(select(user_groups.c.user_id).where(user_groups.c.group_id == group_id))
        )
    return _paginate(statement, page, per_page, count)


def status_for_users(user_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, str]:
    """Return the two-step state of each of these users (one page of the list), in one query."""
    settings = otp_settings.load_settings()
    return status_read_model.status_for_users(user_ids, settings, now or utcnow())


def all_groups() -> list[Group]:
    """Return every group, in id order."""
    return list(db.session.scalars(select(Group).order_by(Group.id)))


def search_events(
    *,
    event_type: str = "",
    user_login: str = "",
    subject_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Event]:
    """Return one page of events, newest first, filtered as asked."""
    statement = select(Event).order_by(Event.created_at.desc(), Event.id.desc())
    if event_type:
        statement = statement.where(Event.type == event_type)
    if user_login:
        login = user_login.strip().lower()
        statement = statement.where(
            or_(func.lower(Event.subject_login) == login, func.lower(Event.actor_login) == login)
        )
    if subject_id is not None:
        statement = statement.where(
            or_(Event.subject_id == subject_id, Event.actor_id == subject_id)
        )
    if since is not None:
        statement = statement.where(Event.created_at >= since)
    if until is not None:
        statement = statement.where(Event.created_at < until)
    return _paginate(statement, page, per_page)
