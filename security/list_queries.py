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

from sqlalchemy import ColumnElement, column, func, literal, or_, select, table

from extensions import db
from models import Event, Group, OtpSettings, User, user_groups, utcnow
from models.user import USER_SEARCH_TABLE
from security import otp_settings, status_read_model

Row = TypeVar("Row")


# A search counts its matches no further than this: past it, "more than 1,000" is all a
# person needs, and an exact count of a common name costs more than the page itself.
SEARCH_COUNT_CAP = 1_000


@dataclass(frozen=True)
class Page(Generic[Row]):
    items: list[Row]
    total: int
    page: int
    per_page: int
    has_next: bool
    # The count stopped at the cap: more than `total` rows match, how many more is unknown.
    capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _paginate(
    statement: Any,
    page: int,
    per_page: int,
    count: Callable[[], int] | None = None,
    cap: int | None = None,
) -> Page[Any]:
    # The page, then the total as a plain COUNT(*) (or `count`, when the caller knows a
    # cheaper way; or a count that stops after `cap` rows). A window count(*) OVER () in
    # the page query would make the database build every matching row, all columns, just
    # to count them: 160 ms instead of 0.5 ms for the first page of 100,000 users on SQLite.
    # One row more than the page tells whether a next page exists, whatever the count.
    offset = (page - 1) * per_page
    rows = db.session.execute(statement.limit(per_page + 1).offset(offset)).all()
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    seen = offset + len(rows) + has_next if rows else 0  # at least this many rows match
    capped = False
    if rows and not has_next:
        total = seen
    elif count is not None:
        total = count()
    elif cap is not None and seen > cap:
        total, capped = cap, True
    elif cap is not None:
        matches = statement.with_only_columns(literal(1), maintain_column_froms=True)
        matches = matches.order_by(None).limit(cap + 1)
        total = db.session.scalar(select(func.count()).select_from(matches.subquery())) or 0
        total, capped = min(total, cap), total > cap
    else:
        counting = statement.with_only_columns(func.count(), maintain_column_froms=True)
        total = db.session.scalar(counting.order_by(None)) or 0
    return Page(
        items=[row[0] for row in rows],
        total=total,
        page=page,
        per_page=per_page,
        has_next=has_next,
        capped=capped,
    )


# The FTS5 trigram table of migration 0009 (SQLite only), as much as a query needs of it.
_user_search = table(USER_SEARCH_TABLE, column("rowid"), column(USER_SEARCH_TABLE))


def _uses_search_index(text: str) -> bool:
    """Whether SQLite's trigram index answers `text`: it needs a trigram, 3 characters."""
    return len(text) >= 3 and db.session.get_bind().dialect.name == "sqlite"


def _in_search_index(text: str) -> ColumnElement[bool]:
    # A quoted phrase matches where its trigrams follow one another in one column: a
    # substring, in any case (Unicode case folding, where SQLite's LIKE folds ASCII only).
    # Inside the quotes `%` and `_` are the characters they are; a quote is doubled.
    phrase = '"' + text.replace('"', '""') + '"'
    return _user_search.c[USER_SEARCH_TABLE].match(phrase)


def _matching(text: str) -> ColumnElement[bool]:
    """Users with `text` (casefolded) inside their login, e-mail, first or last name.

    login_key is casefolded already. On PostgreSQL, ILIKE on the columns themselves is
    what the pg_trgm GIN indexes of migration 0004 answer. On SQLite, a text of three
    characters or more is looked up in the FTS5 trigram index of migration 0009; one or
    two characters hold no trigram, so they keep the LIKE that reads every user (plain
    LIKE: it ignores ASCII case as lower() would, without a call per row).
    """
    if _uses_search_index(text):
        return User.id.in_(select(_user_search.c.rowid).where(_in_search_index(text)))
    pattern = f"%{_escape_like(text)}%"
    if db.session.get_bind().dialect.name == "sqlite":
        fields: tuple[Any, ...] = (User.login_key, User.email, User.name, User.last_name)
        return or_(*(field.like(pattern, escape="\\") for field in fields))
    return or_(
        User.login_key.like(pattern, escape="\\"),
        *(field.ilike(pattern, escape="\\") for field in (User.email, User.name, User.last_name)),
    )


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
    text = query.strip().casefold()
    if text and not otp_status and group_id is None and _uses_search_index(text):
        # The search alone, on SQLite: walk the index's matches in their rowid order, which
        # is users.id, and stop at the page (or at the cap, to count). SQLite does not see
        # that ORDER BY users.id is that order: it would fetch every match and sort them.
        found = (
            select(User)
            .join(_user_search, _user_search.c.rowid == User.id)
            .where(_in_search_index(text))
            .order_by(_user_search.c.rowid)
        )
        return _paginate(found, page, per_page, cap=SEARCH_COUNT_CAP)
    at = now or utcnow()
    settings = otp_settings.load_settings() if otp_status else None
    statement = select(User).order_by(User.id)
    statement = statement.where(*user_conditions(text, group_id, otp_status, settings, at))
    count: Callable[[], int] | None = None
    if otp_status and settings is not None and not text and group_id is None:
        # The state's size from its small tables, not a COUNT over every user.
        count = partial(status_read_model.count_in_state, otp_status, settings, at)
    return _paginate(statement, page, per_page, count, SEARCH_COUNT_CAP if text else None)


def user_conditions(
    text: str,
    group_id: int | None,
    otp_status: str | None,
    settings: OtpSettings | None,
    now: datetime,
) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions on users of the list's search and filters.

    The user list and the compliance report (security.reports) select the same users
    with them. `text` is casefolded already; `settings` are read when not given.
    """
    conditions: list[ColumnElement[bool]] = []
    if otp_status:
        settings = settings or otp_settings.load_settings()
        conditions.append(status_read_model.filter_condition(otp_status, settings, now))
    if text:
        conditions.append(_matching(text))
    if group_id is not None:
        conditions.append(
            User.id.in_(select(user_groups.c.user_id).where(user_groups.c.group_id == group_id))
        )
    return conditions


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
