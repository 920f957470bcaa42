"""The two-step compliance report: counts per group and one row per user, in SQL.

Both select the users exactly as the user list does (list_queries.user_conditions) and
take each user's state from the same SQL as the list's data-otp-status
(status_read_model.status_expression), so a report never disagrees with the list.
The rows are read in batches of users.id (keyset pagination): memory stays the same
whatever the number of users.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, case, func, select

from extensions import db
from models import (
    Group,
    OtpDevice,
    OtpSettings,
    RecoveryCode,
    RememberedComputer,
    TwoStepAccount,
    User,
    user_groups,
)
from security import accounts, list_queries, otp_settings, status_read_model
from security.two_step import Status
from security.untrusted_text import has_control_characters

# The states in the order the report shows them. Exempt users are counted beside them:
# an exempt user is in one of the states too (not configured, or with a device).
STATES: tuple[str, ...] = (
    Status.ACTIVE.value,
    Status.IN_GRACE.value,
    Status.OVERDUE.value,
    Status.DISABLED.value,
    Status.LOCKED.value,
    Status.NOT_CONFIGURED.value,
)
NOT_CONFIGURED = Status.NOT_CONFIGURED.value
# Users per batch of the CSV: one statement for the ids, one for the rows, one for the
# groups. PostgreSQL hashes the memberships and devices once per batch (the CASE's
# subqueries): at 100,000 users, batches of 1,000 took 9.5 s, of 5,000 4.8 s.
BATCH = 5_000


@dataclass(frozen=True)
class UserFilter:
    """The user list's search and filters (q, group, otp), already checked."""

    query: str = ""
    group_id: int | None = None
    otp_status: str | None = None


@dataclass
class GroupCounts:
    group: Group
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    exempt: int = 0

    @property
    def total(self) -> int:
        return sum(self.states.values())


class ReportRow(NamedTuple):
    """One user's line of the report (a tuple: 100,000 of them are made per download)."""

    login: str
    name: str
    email: str
    groups: tuple[str, ...]
    state: str
    kind: str | None  # totp | hotp, None without a device
    source: str | None  # mobile | hardware
    connected_at: datetime | None
    last_used_at: datetime | None
    grace_deadline: datetime | None
    exempt_until: datetime | None
    recovery_codes_left: int
    remembered_computers: int


def _conditions(
    filters: UserFilter, settings: OtpSettings, now: datetime
) -> list[ColumnElement[bool]]:
    return list_queries.user_conditions(
        filters.query.strip().casefold(), filters.group_id, filters.otp_status, settings, now
    )


def group_counts(filters: UserFilter, *, now: datetime) -> list[GroupCounts]:
    """Count the matching users of each group per state, and the exempt ones, in one query.

    With a group filter, only that group. A user in several groups counts in each.
    """
    settings = otp_settings.load_settings()
    groups = list_queries.all_groups()
    if filters.group_id is not None:
        groups = [group for group in groups if group.id == filters.group_id]
    counts = {group.id: GroupCounts(group) for group in groups}
    if not counts:
        return []
    # Aliased: status_expression reads user_groups itself (is the user bound by mandatory
    # two-step?), which must not correlate with the membership being counted.
    membership = user_groups.alias("membership")
    state = status_read_model.status_expression(settings, now).label("state")
    exempt = case((TwoStepAccount.exempt_until > now, 1), else_=0)
    statement = status_read_model.with_otp_tables(
        select(membership.c.group_id, state, func.count(), func.sum(exempt)).select_from(User)
    ).join(membership, membership.c.user_id == User.id)
    conditions = _conditions(filters, settings, now)
    if conditions:
        # The list's conditions in a derived table of their own: there, their subqueries
        # of two_step_accounts and user_groups mean what they mean in the list.
        matching = select(User.id.label("user_id")).where(*conditions).subquery("matching")
        statement = statement.join(matching, matching.c.user_id == User.id)
    statement = statement.where(membership.c.group_id.in_(list(counts)))
    statement = statement.group_by(membership.c.group_id, state)
    for group_id, value, number, exempt_number in db.session.execute(statement):
        counts[group_id].states[value] += int(number)
        counts[group_id].exempt += int(exempt_number or 0)
    return list(counts.values())


def row_for_login(login: str, *, now: datetime) -> ReportRow | None:
    """Return one person's line of the report (the API reads it), or None for no such login."""
    # A control character (NUL above all, which PostgreSQL refuses) is in no login.
    user = None if has_control_characters(login) else accounts.find_by_login(login)
    if user is None:
        return None
    rows = _rows_of([user.id], otp_settings.load_settings(), now)
    return rows[0] if rows else None


def _rows_of(user_ids: list[int], settings: OtpSettings, now: datetime) -> list[ReportRow]:
    """Return the report rows of these users, in id order, in two queries."""
    remember_days = settings.remember_days if settings.allow_remember else 0
    codes_left = (
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == User.id, RecoveryCode.used_at.is_(None))
        .scalar_subquery()
    )
    # As remembered_computers.is_remembered: the Parameters tab has the last word.
    remembered = (
        select(func.count())
        .select_from(RememberedComputer)
        .where(
            RememberedComputer.user_id == User.id,
            RememberedComputer.expires_at > now,
            RememberedComputer.created_at > now - timedelta(days=remember_days),
        )
        .scalar_subquery()
    )
    statement: Any = status_read_model.with_otp_tables(
        select(
            User.id,
            User.login,
            User.name,
            User.last_name,
            User.email,
            status_read_model.status_expression(settings, now),
            OtpDevice.kind,
            OtpDevice.source,
            OtpDevice.created_at,
            OtpDevice.last_used_at,
            TwoStepAccount.grace_deadline,
            TwoStepAccount.exempt_until,
            codes_left,
            remembered,
        ).select_from(User)
    )
    statement = statement.where(User.id.in_(user_ids)).order_by(User.id)
    names: dict[int, list[str]] = {user_id: [] for user_id in user_ids}
    memberships = (
        select(user_groups.c.user_id, Group.name)
        .join(Group, Group.id == user_groups.c.group_id)
        .where(user_groups.c.user_id.in_(user_ids))
        .order_by(user_groups.c.user_id, Group.id)
    )
    # Core, not the ORM session's execute: plain rows, without the ORM's bookkeeping.
    connection = db.session.connection()
    for user_id, name in connection.execute(memberships):
        names[user_id].append(name)
    rows = []
    for row in connection.execute(statement):
        (user_id, login, first, last, email, state, kind, source, connected, used) = row[:10]
        grace, exempt_until, left, computers = row[10:]
        rows.append(
            ReportRow(
                login=login,
                name=" ".join(part for part in (first, last) if part),
                email=email,
                groups=tuple(names[user_id]),
                state=state,
                kind=kind,
                source=source,
                connected_at=connected,
                last_used_at=used,
                # A deadline only while the user must still connect (a leftover one of a
                # user with a device, or no longer bound, means nothing); an expired
                # exemption is no exemption.
                grace_deadline=grace if kind is None and state != NOT_CONFIGURED else None,
                exempt_until=exempt_until if exempt_until and exempt_until > now else None,
                recovery_codes_left=int(left or 0),
                remembered_computers=int(computers or 0),
            )
        )
    return rows


def report_batches(
    filters: UserFilter, *, now: datetime, batch: int | None = None
) -> Iterator[list[ReportRow]]:
    """Yield the report rows of the matching users, `batch` users at a time, in id order.

    Each batch starts after the last id of the one before (keyset pagination), so the
    thousandth batch costs what the first does and only one batch is held at a time.
    """
    size = batch or BATCH
    settings = otp_settings.load_settings()
    conditions = _conditions(filters, settings, now)
    after = 0
    while True:
        user_ids = list(
            db.session.scalars(
                select(User.id).where(*conditions, User.id > after).order_by(User.id).limit(size)
            )
        )
        if not user_ids:
            return
        yield _rows_of(user_ids, settings, now)
        if len(user_ids) < size:
            return
        after = user_ids[-1]
