"""Accounts: creation, look-up, changes, blocking and passwords, each recorded once."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import lazyload

from extensions import db
from models import EMPLOYEES_GROUP_ID, Group, RememberedComputer, User
from models.user import EMAIL_MAX, LOGIN_MAX, NAME_MAX
from security import app_passwords, events, notices, sessions
from security.messages import MESSAGES, Refusal, message
from security.otp_settings import load_settings
from security.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    is_common,
    made_of,
    normalize_password,
    verify_password,
)
from security.untrusted_text import has_control_characters

LOGIN_PATTERN = re.compile(rf"^[\w.@+-]{{1,{LOGIN_MAX}}}$")

# Clear homoglyphs of Latin letters, taken from Unicode TR39 confusables.txt (source →
# prototype) and kept to letters that look the same in ordinary screen fonts: no digits
# (0/o, 1/l) and no I/l, which would refuse too many honest logins. Capitals are listed
# apart because the skeleton maps before folding case: `КАТЕ` in Cyrillic meets `kate`.
_PROTOTYPES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s",
        "і": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
        "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Һ": "H",
        "Ӏ": "l", "Ԛ": "Q", "Ԝ": "W",
        # Greek
        "α": "a", "ι": "i", "ν": "v", "ο": "o", "ρ": "p",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        # Latin letters that pass for plainer ones
        "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i",
    }
)  # fmt: skip
# The dot of İ (I + U+0307 once decomposed) vanishes on a lower-case i or j.
_DOT_ABOVE = re.compile("(?<=[iIjJ])\u0307")

# Scripts a single login may combine: TR39's "highly restrictive" level allows Latin
# with the scripts written alongside it in Chinese, Japanese and Korean, nothing else.
_SCRIPT_COMBINATIONS = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)


class AccountError(Refusal):
    """A change to an account that breaks a rule."""


@dataclass(frozen=True)
class Profile:
    email: str = ""
    name: str = ""
    last_name: str = ""


def normalize_login(login: str) -> str:
    """Return the login as stored and shown: NFKC (full-width and other variants folded)."""
    return unicodedata.normalize("NFKC", login).strip()


def login_key(login: str) -> str:
    """Return the form of a login used for uniqueness and look-up: NFKC, case-folded."""
    # NFKC again after casefold(), as Unicode's NFKC_Casefold: folding can decompose.
    return unicodedata.normalize("NFKC", normalize_login(login).casefold())


def login_skeleton(login: str) -> str:
    """Return what a login looks like: confusable letters mapped to Latin (TR39 skeleton)."""
    decomposed = unicodedata.normalize("NFD", normalize_login(login))
    mapped = _DOT_ABOVE.sub("", decomposed.translate(_PROTOTYPES))
    return unicodedata.normalize("NFC", mapped.casefold())


def login_scripts(login: str) -> set[str]:
    """Return the scripts of a login's letters (LATIN, CYRILLIC, GREEK, CJK, …)."""
    scripts = set()
    for char in normalize_login(login):
        if not char.isalpha():
            continue
        # A letter's name starts with its script; modifier letters belong to none.
        script = unicodedata.name(char, "").split(" ", 1)[0]
        if script and script != "MODIFIER":
            scripts.add(script)
    return scripts


def is_mixed_script(login: str) -> bool:
    """Tell whether a login mixes scripts, such as Latin with Cyrillic or Greek."""
    scripts = login_scripts(login)
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_COMBINATIONS)


def check_login(login: str) -> None:
    """Refuse a (normalised) login that is malformed, overlong or mixes scripts."""
    if not LOGIN_PATTERN.fullmatch(login):
        raise AccountError("user.login_invalid", "login")
    if is_mixed_script(login):
        raise AccountError("user.login_mixed_script", "login")


def _check_login_free(login: str, owner: User | None = None) -> None:
    """Refuse a login that another user has, whatever its case, or that looks like theirs."""
    taken = find_by_login(login)
    if taken is not None and taken is not owner:
        raise AccountError("user.login_taken", "login")
    statement = select(User.id).where(User.login_skeleton == login_skeleton(login))
    if owner is not None:
        statement = statement.where(User.id != owner.id)
    if db.session.scalar(statement.limit(1)) is not None:
        # Which login it resembles is not said: the form must not probe for logins.
        raise AccountError("user.login_confusable", "login")


# Which catalog sentence says what a refused password is made of.
_MADE_OF = {
    "login": "password.made_of_login",
    "email": "password.made_of_email",
    "console_name": "password.made_of_console_name",
}


def console_names() -> list[str]:
    """Return the names people know the console by: its issuer, and the product's name in
    English and in the reader's language."""
    names = [load_settings().issuer]
    for key in ("nav.brand", "nav.product"):
        names += [str(MESSAGES[key]), message(key)]
    return names


def check_password_rules(
    password: str, field: str = "password", *, login: str = "", email: str = ""
) -> None:
    """Refuse a password as NIST SP 800-63B does: too short or long, common or breached, or
    made of the login, the e-mail or the console's name. No composition rules.

    Lengths count the normalised form (NFKC), as it is hashed.
    """
    normalized = normalize_password(password)
    if len(normalized) < MIN_PASSWORD_LENGTH:
        raise AccountError("user.password_short", field, min=MIN_PASSWORD_LENGTH)
    if len(normalized) > MAX_PASSWORD_LENGTH:
        raise AccountError("password.too_long", field, max=MAX_PASSWORD_LENGTH)
    if has_control_characters(normalized):
        raise AccountError("form.control_characters", field)
    local_part = email.rpartition("@")[0]
    context = [("login", login), ("email", email), ("email", local_part)]
    context += [("console_name", name) for name in console_names()]
    kind = made_of(normalized, context)
    if kind is not None:
        raise AccountError(_MADE_OF[kind], field)
    if is_common(normalized):
        raise AccountError("password.common", field)


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
    """Return the user with this login, whatever its case or width; never a look-alike."""
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
    login = normalize_login(login)
    check_login(login)
    _check_profile(profile)
    check_password_rules(password, login=login, email=profile.email.strip())
    _check_login_free(login)
    user = User(
        login=login,
        login_key=login_key(login),
        login_skeleton=login_skeleton(login),
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
    login = normalize_login(login)
    renamed = login != user.login
    if renamed:
        # An unchanged login is kept as it is, even one from before these rules.
        check_login(login)
    _check_profile(profile)
    if new_password and user.from_directory:
        raise AccountError("directory.password_not_here", "password")
    if new_password:
        check_password_rules(new_password, login=login, email=profile.email.strip())
    if renamed:
        _check_login_free(login, owner=user)
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
    if renamed:
        user.login_key = login_key(login)
        user.login_skeleton = login_skeleton(login)
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
    check_password_rules(password, login=user.login, email=user.email)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    ended = sessions.end_user_sessions(
        user.id, now=now, reason="password_changed", keep_session_id=keep_session_id
    )
    # A password accepted before the change must not complete a sign-in after it.
    sessions.end_pending_sign_ins(user.id)
    # A remembered computer must not outlive the password it was remembered with.
    db.session.execute(delete(RememberedComputer).where(RememberedComputer.user_id == user.id))
    # Nor an application password made under the old one (the person is told).
    app_passwords.revoke_after_password_change(user, now=now, actor=actor, ip=ip)
    events.record(
        events.PASSWORD_CHANGED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"sessions_ended": ended},
    )
    notices.notify(
        user,
        notices.PASSWORD_CHANGED,
        now=now,
        values={"actor": actor.login if actor is not None and actor.id != user.id else ""},
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
    if user.from_directory:
        raise AccountError("directory.password_elsewhere", "current_password", status=403)
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
    check_password_rules(new_password, "new_password", login=user.login, email=user.email)
    # Compared through the hash: a rotation that keeps the password is no rotation.
    if verify_password(user.password_hash, new_password):
        raise AccountError("password.same_as_current", "new_password")
    set_password(user, new_password, now=now, actor=user, ip=ip, keep_session_id=session_id)
