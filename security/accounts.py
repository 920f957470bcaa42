"""Accounts: creation, look-up, changes, blocking and passwords, each recorded once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import lazyload

from extensions import db
from models import EMPLOYEES_GROUP_ID, Group, RememberedDevice, User
from models.user import EMAIL_MAX, LOGIN_MAX, NAME_MAX
from security import events, sessions
from security.messages import Refusal
from security.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from security.text import has_control_characters

LOGIN_PATTERN = re.compile(rf"^[\w.@+-]{{1,{LOGIN_MAX}}}$")


class AccountError(Refusal):
    """A change to an account that breaks a rule."""


@dataclass(frozen=True)
class Profile:
    email: str = ""
    name: str = ""
    last_name: str = ""


def login_key(login: str) -> str:
    """Return the case-insensitive form of a login used for uniqueness and look-up."""
    return login.strip().casefold()


def check_login(login: str) -> None:
    """Refuse a login that is empty, overlong or holds characters a login cannot have."""
    if not LOGIN_PATTERN.fullmatch(login):
        raise AccountError("user.login_invalid", "login")


def check_password_rules(password: str, field: str = "password") -> None:
    """Refuse a password that is too short, too long or holds control characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("user.password_short", field, min=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("form.too_long", field, max=MAX_PASSWORD_LENGTH)
    if has_control_characters(password):
        raise AccountError("form.control_characters", field)


def _check_profile(profile: Profile) -> None:
    for field, value, limit in (
        ("email", profile.email, EMAIL_MAX),
        ("name", profile.name, NAME_MAX),
        ("last_name", profile.last_name, NAME_MAX),
    ):
        if len(value) > limit:
            raise AccountError("form.too_long", field, max=limit)
        if has_control_characters(value):
            raise AccountError("form.control_characters", field)


def find_by_login(login: str) -> User | None:
    """Return the user with this login, whatever its case."""
    if len(login) > LOGIN_MAX * 2:
        return None
    # Groups load when first read: a sign-in with a device never needs them.
    statement = select(User).where(User.login_key == login_key(login))
    return db.session.scalar(statement.options(lazyload(User.groups)))


def _groups_by_id(group_ids: Iterable[int]) -> list[Group]:
    wanted = set(group_ids) | {EMPLOYEES_GROUP_ID}
    groups = list(db.session.scalars(select(Group).where(Group.id.in_(wanted)).order_by(Group.id)))
    if len(groups) != len(wanted):
        raise AccountError("user.unknown_group", "groups")
    return groups


def create_user(
    login: str,
    password: str,
    *,
    now: datetime,
    profile: Profile = Profile(),  # noqa: B008 - frozen dataclass, safe as a default
    group_ids: Iterable[int] = (),
    active: bool = True,
    actor: User | None = None,
    ip: str = "",
) -> User:
    """Create a user, always in Employees; the caller commits."""
    login = login.strip()
    check_login(login)
    check_password_rules(password)
    _check_profile(profile)
    if find_by_login(login) is not None:
        raise AccountError("user.login_taken", "login")
    user = User(
        login=login,
        login_key=login_key(login),
        email=profile.email.strip(),
        name=profile.name.strip(),
        last_name=profile.last_name.strip(),
        active=active,
        password_hash=hash_password(password),
        created_at=now,
    )
    user.groups = _groups_by_id(group_ids)
    db.session.add(user)
    db.session.flush()
    events.record(
        events.USER_CREATED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"groups": ",".join(group.name for group in user.groups)},
    )
    return user


def update_user(
    user: User,
    *,
    now: datetime,
    actor: User,
    ip: str,
    login: str,
    profile: Profile,
    active: bool,
    group_ids: Iterable[int],
    new_password: str = "",
) -> list[str]:
    """Apply an administrator's changes to a user; return the names of what changed."""
    login = login.strip()
    check_login(login)
    _check_profile(profile)
    if new_password:
        check_password_rules(new_password)
    if login_key(login) != user.login_key and find_by_login(login) is not None:
        raise AccountError("user.login_taken", "login")
    groups = _groups_by_id(group_ids)
    if user.id == actor.id and not active:
        raise AccountError("user.cannot_block_self", "active")
    if user.id == actor.id and user.is_admin and not any(group.is_admin for group in groups):
        raise AccountError("user.cannot_drop_own_admin", "groups")

    changed: list[str] = []
    for field, value in (
        ("login", login),
        ("email", profile.email.strip()),
        ("name", profile.name.strip()),
        ("last_name", profile.last_name.strip()),
    ):
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    user.login_key = login_key(login)
    if [group.id for group in user.groups] != [group.id for group in groups]:
        user.groups = groups
        changed.append("groups")
    if changed:
        events.record(
            events.USER_CHANGED,
            now=now,
            ip=ip,
            actor=actor,
            subject=user,
            details={"changed": ",".join(changed)},
        )
    if user.active != active:
        set_active(user, active, now=now, actor=actor, ip=ip)
        changed.append("active")
    if new_password:
        set_password(user, new_password, now=now, actor=actor, ip=ip)
        changed.append("password")
    return changed


def set_active(user: User, active: bool, *, now: datetime, actor: User | None, ip: str) -> None:
    """Block or unblock a user; blocking ends every session of theirs."""
    user.active = active
    if not active:
        sessions.end_user_sessions(user.id, now=now, reason="user_blocked")
    events.record(
        events.USER_UNBLOCKED if active else events.USER_BLOCKED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
    )


def set_password(
    user: User,
    password: str,
    *,
    now: datetime,
    actor: User | None,
    ip: str,
    keep_session_id: str | None = None,
) -> None:
    """Set a new password and end the user's sessions but the one named."""
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    ended = sessions.end_user_sessions(
        user.id, now=now, reason="password_changed", keep_session_id=keep_session_id
    )
    # A password accepted before the change must not complete a sign-in after it.
    sessions.end_pending_sign_ins(user.id)
    # A remembered computer must not outlive the password it was remembered with.
    db.session.execute(delete(RememberedDevice).where(RememberedDevice.user_id == user.id))
    events.record(
        events.PASSWORD_CHANGED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"sessions_ended": ended},
    )


def change_own_password(
    user: User,
    current_password: str,
    new_password: str,
    *,
    now: datetime,
    ip: str,
    session_id: str | None,
) -> None:
    """Change one's own password after checking the current one."""
    if not verify_password(user.password_hash, current_password):
        events.record(
            events.PASSWORD_CHANGED,
            now=now,
            ip=ip,
            actor=user,
            subject=user,
            outcome=events.FAILURE,
            details={"reason": "current password wrong"},
        )
        raise AccountError("mypage.current_password_wrong", "current_password")
    check_password_rules(new_password, "new_password")
    set_password(user, new_password, now=now, actor=user, ip=ip, keep_session_id=session_id)
