"""Two-step states of many users at once, in SQL: the user list, its filter and the overview.

`status_of` in security.two_step decides one user's state in Python; the expression here
states the same rules as one SQL CASE, so that a page of users, a filter and the overview
counts each cost one query, whatever the number of users.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, literal, or_, select

from extensions import db
from models import ADMINISTRATORS_GROUP_ID, OtpDevice, OtpSettings, TwoStepAccount, User
from models import user_groups as user_groups_table
from security.two_step import Status

# A filter value beyond the six states: no device that asks for codes now.
UNPROTECTED = "unprotected"
FILTER_VALUES: tuple[str, ...] = (*(status.value for status in Status), UNPROTECTED)


def _device_active(now: datetime) -> ColumnElement[bool]:
    # As two_step.device_is_active: a temporary switch-off ends by itself.
    return or_(
        OtpDevice.enabled.is_(True),
        and_(OtpDevice.disabled_until.is_not(None), OtpDevice.disabled_until <= now),
    )


def _mandatory(settings: OtpSettings, now: datetime) -> ColumnElement[bool]:
    # As two_step.is_mandatory_for: on, the user in a chosen group, not exempt.
    groups = settings.mandatory_group_ids
    if not (settings.enabled and settings.mandatory and groups):
        return false()
    in_group = exists().where(
        user_groups_table.c.user_id == User.id, user_groups_table.c.group_id.in_(groups)
    )
    not_exempt = or_(TwoStepAccount.exempt_until.is_(None), TwoStepAccount.exempt_until <= now)
    return and_(in_group, not_exempt)


def status_expression(settings: OtpSettings, now: datetime) -> ColumnElement[str]:
    """Return the SQL for a user's Status value; the query must outer-join `with_otp_tables`."""
    locked = and_(TwoStepAccount.locked_until.is_not(None), TwoStepAccount.locked_until > now)
    overdue = and_(TwoStepAccount.grace_deadline.is_not(None), TwoStepAccount.grace_deadline <= now)
    return case(
        (locked, literal(Status.LOCKED.value)),
        (
            OtpDevice.id.is_not(None),
            case(
                (_device_active(now), literal(Status.ACTIVE.value)),
                else_=literal(Status.DISABLED.value),
            ),
        ),
        (
            _mandatory(settings, now),
            case(
                (overdue, literal(Status.OVERDUE.value)),
                else_=literal(Status.PENDING.value),
            ),
        ),
        else_=literal(Status.NOT_CONFIGURED.value),
    )


def protected_expression(now: datetime) -> ColumnElement[bool]:
    """Return the SQL for "has a device that asks for codes now"."""
    return and_(OtpDevice.id.is_not(None), _device_active(now))


def with_otp_tables(statement: Any) -> Any:
    """Outer-join the device and the account (at most one row each per user)."""
    return statement.outerjoin(OtpDevice, OtpDevice.user_id == User.id).outerjoin(
        TwoStepAccount, TwoStepAccount.user_id == User.id
    )


def filter_condition(value: str, settings: OtpSettings, now: datetime) -> ColumnElement[bool]:
    """Return the WHERE condition of the user list's two-step filter (see FILTER_VALUES)."""
    if value == UNPROTECTED:
        return ~protected_expression(now)
    return status_expression(settings, now) == value


def status_for_users(
    user_ids: Iterable[int], settings: OtpSettings, now: datetime
) -> dict[int, str]:
    """Return each user's Status value, for one page of users, in one query."""
    ids = list(user_ids)
    if not ids:
        return {}
    statement = with_otp_tables(
        select(User.id, status_expression(settings, now)).select_from(User)
    ).where(User.id.in_(ids))
    return {user_id: status for user_id, status in db.session.execute(statement)}


def status_counts(settings: OtpSettings, now: datetime) -> dict[str, int]:
    """Count users per Status value, plus administrators without an active device.

    One query: the state is computed per user in a subquery and counted with GROUP BY
    (grouping on the subquery's column, not on a CASE that repeats bound parameters,
    which PostgreSQL would refuse as a different expression).
    """
    is_admin = exists().where(
        user_groups_table.c.user_id == User.id,
        user_groups_table.c.group_id == ADMINISTRATORS_GROUP_ID,
    )
    per_user = with_otp_tables(
        select(
            status_expression(settings, now).label("status"),
            case((and_(is_admin, ~protected_expression(now)), 1), else_=0).label("admin_without"),
        ).select_from(User)
    ).subquery()
    rows = db.session.execute(
        select(
            per_user.c.status,
            func.count(),
            func.coalesce(func.sum(per_user.c.admin_without), 0),
        ).group_by(per_user.c.status)
    ).all()
    counts = {status.value: 0 for status in Status}
    admins_without = 0
    for status, count, without in rows:
        counts[str(status)] = int(count)
        admins_without += int(without)
    counts["admins_without"] = admins_without
    counts["total"] = sum(counts[status.value] for status in Status)
    return counts
