"""The bulk two-step status read model: the state of many users at once, in SQL.

It serves the user list, its filter and the overview.

`status_of` in security.two_step decides one user's state in Python, in this order:
locked > device (active or disabled) > mandatory (overdue or pending) > not configured.
The SQL here states the same rules two ways:

* `status_expression`, one CASE per user, for the few users of one page of the list;
* per-state conditions and counts built from the small tables (otp_devices,
  two_step_accounts, and user_groups through its group_id index), so that the filter
  and the overview never compute the state of every user row by row. "Not configured"
  is what remains: the total minus every other state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from extensions import db
from models import (
    ADMINISTRATORS_GROUP_ID,
    Group,
    OtpDevice,
    OtpSettings,
    TwoStepAccount,
    User,
)
from models import user_groups as user_groups_table
from security.two_step import Status

# A filter value beyond the six states: no device that asks for codes now.
UNPROTECTED = "unprotected"
FILTER_VALUES: tuple[str, ...] = (*(status.value for status in Status), UNPROTECTED)


# --- the pieces of the rules ----------------------------------------------------------


def _device_active(now: datetime) -> ColumnElement[bool]:
    # As two_step.device_is_active: a temporary switch-off ends by itself.
    return or_(
        OtpDevice.enabled.is_(True),
        and_(OtpDevice.disabled_until.is_not(None), OtpDevice.disabled_until <= now),
    )


def _device_disabled(now: datetime) -> ColumnElement[bool]:
    # The negation of _device_active, written so that the (enabled, disabled_until)
    # index finds the few switched-off devices.
    return and_(
        OtpDevice.enabled.is_(False),
        or_(OtpDevice.disabled_until.is_(None), OtpDevice.disabled_until > now),
    )


def _bound_by_mandatory(user_id: Any, groups: list[int], now: datetime) -> ColumnElement[bool]:
    # As two_step.is_mandatory_for, for a correlated user id. Its own aliases of the
    # accounts and the memberships: the list's query joins two_step_accounts and the
    # overview counts from user_groups, which would otherwise correlate away.
    account = aliased(TwoStepAccount)
    exempt = exists().where(account.user_id == user_id, account.exempt_until > now)
    memberships = user_groups_table.alias()
    member = exists().where(memberships.c.user_id == user_id, memberships.c.group_id.in_(groups))
    return and_(member, ~exempt)


def _device_on(settings: OtpSettings, now: datetime) -> ColumnElement[bool]:
    # As two_step.device_applies: active, or switched off "until re-enabled" while
    # two-step is mandatory for its user (the sign-in still asks for the code).
    groups = _mandatory_groups(settings)
    if not groups:
        return _device_active(now)
    return or_(
        _device_active(now),
        and_(
            OtpDevice.disabled_until.is_(None),
            _bound_by_mandatory(OtpDevice.user_id, groups, now),
        ),
    )


def _device_off(settings: OtpSettings, now: datetime) -> ColumnElement[bool]:
    # The negation of _device_on, led by _device_disabled so that the (enabled,
    # disabled_until) index finds the few switched-off devices first.
    groups = _mandatory_groups(settings)
    if not groups:
        return _device_disabled(now)
    return and_(
        _device_disabled(now),
        or_(
            OtpDevice.disabled_until.is_not(None),
            ~_bound_by_mandatory(OtpDevice.user_id, groups, now),
        ),
    )


def _account_locked(now: datetime) -> ColumnElement[bool]:
    return TwoStepAccount.locked_until > now


def _account_exempt(now: datetime) -> ColumnElement[bool]:
    return TwoStepAccount.exempt_until > now


def _account_not_exempt(now: datetime) -> ColumnElement[bool]:
    return or_(TwoStepAccount.exempt_until.is_(None), TwoStepAccount.exempt_until <= now)


def _account_not_locked(now: datetime) -> ColumnElement[bool]:
    return or_(TwoStepAccount.locked_until.is_(None), TwoStepAccount.locked_until <= now)


def _mandatory_groups(settings: OtpSettings) -> list[int]:
    """The groups for which two-step is mandatory now; empty when it is not mandatory."""
    groups = settings.mandatory_group_ids
    return groups if settings.enabled and settings.mandatory and groups else []


def _in_groups(user_id: Any, groups: list[int]) -> ColumnElement[bool]:
    return exists().where(
        user_groups_table.c.user_id == user_id, user_groups_table.c.group_id.in_(groups)
    )


def _has_device(user_id: Any) -> ColumnElement[bool]:
    return exists().where(OtpDevice.user_id == user_id)


def _has_active_device(user_id: Any, settings: OtpSettings, now: datetime) -> ColumnElement[bool]:
    # As _device_on, written as two tests so that the common one (an active device) is
    # answered from the device index alone; the rare one (switched off "until re-enabled"
    # under mandatory two-step) reads the groups only for those few devices. One EXISTS
    # with the OR inside would read the user's groups for every device (70 ms at 100,000
    # users on PostgreSQL).
    active = exists().where(OtpDevice.user_id == user_id, _device_active(now))
    groups = _mandatory_groups(settings)
    if not groups:
        return active
    switched_off_for_good = exists().where(
        OtpDevice.user_id == user_id,
        OtpDevice.enabled.is_(False),
        OtpDevice.disabled_until.is_(None),
    )
    return or_(active, and_(switched_off_for_good, _bound_by_mandatory(user_id, groups, now)))


def _is_locked(user_id: Any, now: datetime) -> ColumnElement[bool]:
    return exists().where(TwoStepAccount.user_id == user_id, _account_locked(now))


# --- one user per row: a page of the list ---------------------------------------------


def _mandatory(settings: OtpSettings, now: datetime) -> ColumnElement[bool]:
    # As two_step.is_mandatory_for: on, the user in a chosen group, not exempt.
    groups = _mandatory_groups(settings)
    if not groups:
        return false()
    return and_(_in_groups(User.id, groups), _account_not_exempt(now))


def status_expression(settings: OtpSettings, now: datetime) -> ColumnElement[str]:
    """Return the SQL for a user's Status value; the query must outer-join `with_otp_tables`."""
    locked = and_(TwoStepAccount.locked_until.is_not(None), TwoStepAccount.locked_until > now)
    overdue = and_(TwoStepAccount.grace_deadline.is_not(None), TwoStepAccount.grace_deadline <= now)
    return case(
        (locked, literal(Status.LOCKED.value)),
        (
            OtpDevice.id.is_not(None),
            case(
                (_device_on(settings, now), literal(Status.ACTIVE.value)),
                else_=literal(Status.DISABLED.value),
            ),
        ),
        (
            _mandatory(settings, now),
            case(
                (overdue, literal(Status.OVERDUE.value)),
                else_=literal(Status.IN_GRACE.value),
            ),
        ),
        else_=literal(Status.NOT_CONFIGURED.value),
    )


def with_otp_tables(statement: Any) -> Any:
    """Outer-join the device and the account (at most one row each per user)."""
    return statement.outerjoin(OtpDevice, OtpDevice.user_id == User.id).outerjoin(
        TwoStepAccount, TwoStepAccount.user_id == User.id
    )


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


# --- the filter: one indexable condition per state ------------------------------------


def _accounts_where(*conditions: ColumnElement[bool]) -> Select[Any]:
    return select(TwoStepAccount.user_id).where(*conditions)


def _devices_where(*conditions: ColumnElement[bool]) -> Select[Any]:
    return select(OtpDevice.user_id).where(*conditions)


def filter_condition(value: str, settings: OtpSettings, now: datetime) -> ColumnElement[bool]:
    """Return the WHERE condition on users of the list's two-step filter (see FILTER_VALUES).

    Each state is a condition that a database answers from an index: a state with few
    members (locked, disabled, overdue) is found from its small table, not by computing
    the state of every user. The conditions partition the users exactly as status_of does.
    """
    groups = _mandatory_groups(settings)
    # A large state (active, unprotected) is read in users.id order with a lookup per
    # user that stops at the page's last row; a small one (locked, disabled, overdue)
    # starts from its short list of ids, sorted by the index that finds them.
    if value == UNPROTECTED:
        return ~_has_active_device(User.id, settings, now)
    if value == Status.LOCKED:
        return User.id.in_(_accounts_where(_account_locked(now)))
    if value == Status.ACTIVE:
        return and_(_has_active_device(User.id, settings, now), ~_is_locked(User.id, now))
    if value == Status.DISABLED:
        return and_(
            User.id.in_(_devices_where(_device_off(settings, now))), ~_is_locked(User.id, now)
        )
    if value == Status.OVERDUE:
        if not groups:
            return false()
        return and_(
            User.id.in_(
                _accounts_where(
                    TwoStepAccount.grace_deadline <= now,
                    _account_not_exempt(now),
                    _account_not_locked(now),
                )
            ),
            ~_has_device(User.id),
            _in_groups(User.id, groups),
        )
    if value == Status.IN_GRACE:
        if not groups:
            return false()
        return and_(
            _in_groups(User.id, groups),
            ~_has_device(User.id),
            User.id.not_in(
                _accounts_where(
                    or_(
                        _account_locked(now),
                        _account_exempt(now),
                        TwoStepAccount.grace_deadline <= now,
                    )
                )
            ),
        )
    if value == Status.NOT_CONFIGURED:
        unbound = (
            or_(~_in_groups(User.id, groups), User.id.in_(_accounts_where(_account_exempt(now))))
            if groups
            else true()
        )
        return and_(~_has_device(User.id), ~_is_locked(User.id, now), unbound)
    raise ValueError(f"unknown two-step filter value {value!r}")


# --- counts from the small tables -----------------------------------------------------


def _count(*conditions: ColumnElement[bool], source: Any = None) -> Any:
    statement = select(func.count())
    if source is not None:
        statement = statement.select_from(source)
    return statement.where(*conditions).scalar_subquery()


def _device_counts(settings: OtpSettings, now: datetime) -> dict[str, Any]:
    """Scalar subqueries for the device states; `locked_*` are devices of locked users."""
    locked_devices = OtpDevice.__table__.join(
        TwoStepAccount.__table__, TwoStepAccount.user_id == OtpDevice.user_id
    )
    return {
        "devices": _count(source=OtpDevice),
        "disabled_devices": _count(_device_off(settings, now), source=OtpDevice),
        "locked": _count(_account_locked(now), source=TwoStepAccount),
        "locked_devices": _count(_account_locked(now), source=locked_devices),
        "locked_disabled_devices": _count(
            _account_locked(now), _device_off(settings, now), source=locked_devices
        ),
    }


def _mandatory_counts(groups: list[int], now: datetime) -> dict[str, Any]:
    """Scalar subqueries for the users bound by mandatory two-step (in a chosen group)."""
    members = (
        func.count(func.distinct(user_groups_table.c.user_id))
        if len(groups) > 1
        else (func.count())
    )
    no_device_bound = (
        ~_has_device(TwoStepAccount.user_id),
        _in_groups(TwoStepAccount.user_id, groups),
    )
    return {
        "members": select(members)
        .select_from(user_groups_table)
        .where(user_groups_table.c.group_id.in_(groups))
        .scalar_subquery(),
        "members_locked_without_device": _count(
            _account_locked(now), *no_device_bound, source=TwoStepAccount
        ),
        "members_exempt": _count(
            _account_exempt(now), _account_not_locked(now), *no_device_bound, source=TwoStepAccount
        ),
        "overdue": _count(
            TwoStepAccount.grace_deadline <= now,
            _account_not_exempt(now),
            _account_not_locked(now),
            *no_device_bound,
            source=TwoStepAccount,
        ),
    }


def _read_counts(
    parts: dict[str, Any], derived: Callable[[Any], dict[str, Any]] | None = None
) -> dict[str, int]:
    """Run every scalar subquery in one statement; return the numbers by name.

    `derived(columns)` adds figures computed from the others in the same statement. The
    others are a MATERIALIZED common table expression (SQLite 3.35+, PostgreSQL 12+), so
    each is computed once however often `derived` reads it.
    """
    names = list(parts)
    base = select(*(parts[name].label(name) for name in names)).cte("counts")
    base = base.prefix_with("MATERIALIZED")
    extra = derived(base.c) if derived is not None else {}
    statement = select(*(base.c[name] for name in names), *(v.label(k) for k, v in extra.items()))
    row = db.session.execute(statement).one()
    return {name: int(value or 0) for name, value in zip([*names, *extra], row, strict=True)}


def _members_with_device(groups: list[int]) -> Callable[[Any], dict[str, Any]]:
    """Count the users bound by mandatory two-step who have a device.

    When every user is in a chosen group (mandatory for Employees, which every user
    joins), that is every device: no join of 50,000 devices with 100,000 memberships
    (14 ms on SQLite, 25 ms on PostgreSQL). The CASE runs the join only otherwise.
    """

    def derive(counts: Any) -> dict[str, Any]:
        joined = _count(_in_groups(OtpDevice.user_id, groups), source=OtpDevice)
        everyone = counts.members == counts.total
        return {"members_with_device": case((everyone, counts.devices), else_=joined)}

    return derive


def _device_states(numbers: dict[str, int]) -> tuple[int, int]:
    """Return (active, disabled) users: a device's state unless the user is locked."""
    locked_active = numbers["locked_devices"] - numbers["locked_disabled_devices"]
    active = numbers["devices"] - numbers["disabled_devices"] - locked_active
    disabled = numbers["disabled_devices"] - numbers["locked_disabled_devices"]
    return active, disabled


def status_counts(settings: OtpSettings, now: datetime) -> dict[str, int]:
    """Count users per Status value, plus administrators without an active device.

    One statement of scalar subqueries, each answered from an index or a small table:
    locked from two_step_accounts.locked_until, devices and the few switched-off ones
    from otp_devices, the users bound by mandatory two-step from user_groups.group_id.
    Every user is in exactly one state, so "not configured" is the total minus the rest.
    """
    groups = _mandatory_groups(settings)
    is_admin = user_groups_table.c.group_id == ADMINISTRATORS_GROUP_ID
    parts: dict[str, Any] = {
        "total": _count(source=User),
        **_device_counts(settings, now),
        "administrators": _count(is_admin, source=user_groups_table),
        "administrators_protected": _count(
            is_admin,
            _has_active_device(user_groups_table.c.user_id, settings, now),
            source=user_groups_table,
        ),
    }
    if groups:
        parts.update(_mandatory_counts(groups, now))
    numbers = _read_counts(parts, _members_with_device(groups) if groups else None)
    active, disabled = _device_states(numbers)
    counts = {status.value: 0 for status in Status}
    counts[Status.LOCKED.value] = numbers["locked"]
    counts[Status.ACTIVE.value] = active
    counts[Status.DISABLED.value] = disabled
    if groups:
        overdue = numbers["overdue"]
        counts[Status.OVERDUE.value] = overdue
        counts[Status.IN_GRACE.value] = (
            numbers["members"]
            - numbers["members_with_device"]
            - numbers["members_locked_without_device"]
            - numbers["members_exempt"]
            - overdue
        )
    counts[Status.NOT_CONFIGURED.value] = numbers["total"] - sum(
        counts[status.value] for status in Status if status is not Status.NOT_CONFIGURED
    )
    counts["admins_without"] = numbers["administrators"] - numbers["administrators_protected"]
    counts["total"] = numbers["total"]
    return counts


def count_in_state(value: str, settings: OtpSettings, now: datetime) -> int:
    """Count the users the filter `value` lists, from the small tables.

    The filter's own COUNT(*) would visit every user for a large state; this asks only
    what that state needs (pending and not configured still need the whole overview).
    """
    if value in (Status.IN_GRACE, Status.NOT_CONFIGURED):
        return status_counts(settings, now)[value]
    if value == Status.OVERDUE:
        groups = _mandatory_groups(settings)
        if not groups:
            return 0
        return _read_counts({"overdue": _mandatory_counts(groups, now)["overdue"]})["overdue"]
    parts = _device_counts(settings, now)
    if value == UNPROTECTED:
        parts = {
            "total": _count(source=User),
            "devices": parts["devices"],
            "disabled_devices": parts["disabled_devices"],
        }
        numbers = _read_counts(parts)
        return numbers["total"] - (numbers["devices"] - numbers["disabled_devices"])
    if value == Status.LOCKED:
        return _read_counts({"locked": parts["locked"]})["locked"]
    active, disabled = _device_states(_read_counts(parts))
    if value == Status.ACTIVE:
        return active
    if value == Status.DISABLED:
        return disabled
    raise ValueError(f"unknown two-step filter value {value!r}")


def blocked_and_administrators() -> tuple[int, int]:
    """Count blocked users and members of Administrators, in one statement.

    Blocked users are few: counted from the index on users.active, not by reading every
    user row (10 ms for 100,000 users on SQLite).
    """
    blocked, administrators = db.session.execute(
        select(
            select(func.count()).select_from(User).where(User.active.is_(False)).scalar_subquery(),
            select(func.count())
            .select_from(user_groups_table)
            .where(user_groups_table.c.group_id == ADMINISTRATORS_GROUP_ID)
            .scalar_subquery(),
        )
    ).one()
    return int(blocked), int(administrators)


def groups_with_ids(group_ids: Iterable[int]) -> list[Group]:
    """Return the groups with these ids, in id order."""
    wanted = list(group_ids)
    if not wanted:
        return []
    return list(db.session.scalars(select(Group).where(Group.id.in_(wanted)).order_by(Group.id)))
