"""The company directory: its settings, directory users' passwords, and synchronisation.

Directory users (`User.source == "directory"`) sign in with their directory password,
checked by binding as their entry (integrations.ldap); it is never stored. Local users
keep their local passwords, so a local administrator signs in while the directory is
down. A synchronisation creates and updates directory users, blocks those removed or
disabled in the directory (their history stays), and sets membership of the console
groups the group mapping names. The FLASK_LDAP_* settings, when given, take the place of
the settings page's fields (`configure`, at start-up).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import select

from extensions import db
from integrations import ldap
from models import (
    DIRECTORY_SETTINGS_ROW_ID,
    EMPLOYEES_GROUP_ID,
    SOURCE_DIRECTORY,
    DirectorySettings,
    Group,
    User,
)
from models.user import DN_MAX, EMAIL_MAX, NAME_MAX
from security import accounts, events, keys
from security.messages import Refusal
from security.passwords import verify_password
from security.secret_box import SecretBoxError

# A directory user's stored password: not an argon2 hash, so no password ever matches it.
NO_LOCAL_PASSWORD: Final = "!directory"  # noqa: S105 - a marker, not a password
DIRECTORY_IP: Final = "directory"

# The page's fields and the settings that fix them (without the FLASK_ prefix).
SETTING_KEYS: Final = {
    "urls": "LDAP_URL",
    "start_tls": "LDAP_START_TLS",
    "ca_file": "LDAP_CA_FILE",
    "bind_dn": "LDAP_BIND_DN",
    "bind_password": "LDAP_BIND_PASSWORD",
    "user_base": "LDAP_USER_BASE",
    "user_filter": "LDAP_USER_FILTER",
    "login_attribute": "LDAP_LOGIN_ATTRIBUTE",
    "email_attribute": "LDAP_EMAIL_ATTRIBUTE",
    "first_name_attribute": "LDAP_FIRST_NAME_ATTRIBUTE",
    "last_name_attribute": "LDAP_LAST_NAME_ATTRIBUTE",
    "group_base": "LDAP_GROUP_BASE",
    "group_map": "LDAP_GROUP_MAP",
}
ATTRIBUTE_NAME_MAX: Final = 64
ERRORS_KEPT: Final = 20

_fixed: dict[str, Any] = {}


class DirectoryRefusal(Refusal):
    """A directory setting or action that cannot be used."""


class DirectoryDown(Exception):
    """The directory could not be asked (down, or it answered with an error)."""


@dataclass(frozen=True)
class Settings:
    """The directory settings in force: the page's, with the FLASK_LDAP_* ones on top."""

    urls: tuple[str, ...] = ()
    start_tls: bool = True
    ca_file: str = ""
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    user_base: str = ""
    user_filter: str = ""
    login_attribute: str = "uid"
    email_attribute: str = "mail"
    first_name_attribute: str = "givenName"
    last_name_attribute: str = "sn"
    group_base: str = ""
    group_map: dict[str, int] = field(default_factory=dict)
    fixed: frozenset[str] = frozenset()

    @property
    def configured(self) -> bool:
        return bool(self.urls and self.user_base)

    def connection(self) -> ldap.DirectoryConfig:
        return ldap.DirectoryConfig(
            urls=self.urls,
            start_tls=self.start_tls,
            ca_file=self.ca_file,
            bind_dn=self.bind_dn,
            bind_password=self.bind_password,
            user_base=self.user_base,
            user_filter=self.user_filter,
            login_attribute=self.login_attribute,
            email_attribute=self.email_attribute,
            first_name_attribute=self.first_name_attribute,
            last_name_attribute=self.last_name_attribute,
            group_base=self.group_base,
        )


# --- settings ---------------------------------------------------------------------------


def parse_urls(value: str) -> tuple[str, ...]:
    """Split space-separated URLs; raise ValueError naming one that is not ldap(s)://host."""
    urls = tuple(part for part in str(value).split() if part)
    for url in urls:
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018 - reading it checks it
        except ValueError:
            raise ValueError(url) from None
        if parts.scheme not in {"ldap", "ldaps"} or not parts.hostname:
            raise ValueError(url)
    return urls


def parse_group_map(value: object) -> dict[str, int]:
    """Read {"<group DN>": <console group id>} (JSON text or a mapping); raise ValueError."""
    data = json.loads(value) if isinstance(value, str) else value
    if not isinstance(data, Mapping):
        raise ValueError("expected a JSON object")
    result: dict[str, int] = {}
    for dn, group_id in data.items():
        if not isinstance(dn, str) or not dn.strip() or len(dn) > DN_MAX:
            raise ValueError("expected group DNs as keys")
        if isinstance(group_id, bool) or not isinstance(group_id, int) or group_id < 1:
            raise ValueError("expected console group ids as values")
        result[dn.strip()] = group_id
    return result


def configure(config: Mapping[str, Any]) -> None:
    """Take the FLASK_LDAP_* settings that are set (already checked by config.py)."""
    fixed: dict[str, Any] = {}
    for name, key in SETTING_KEYS.items():
        value = config.get(key)
        if value is None:
            continue
        if name == "urls":
            value = parse_urls(str(value))
        elif name == "group_map":
            value = parse_group_map(value)
        elif name != "start_tls":
            value = str(value)
        fixed[name] = value
    _fixed.clear()
    _fixed.update(fixed)


def fixed_settings() -> dict[str, Any]:
    """The fields the FLASK_LDAP_* settings fix, with their values (the password left out)."""
    return {name: value for name, value in _fixed.items() if name != "bind_password"}


def settings_row() -> DirectorySettings:
    row = db.session.get(DirectorySettings, DIRECTORY_SETTINGS_ROW_ID)
    if row is None:
        row = DirectorySettings(
            id=DIRECTORY_SETTINGS_ROW_ID,
            urls="",
            start_tls=True,
            ca_file="",
            bind_dn="",
            bind_password_encrypted="",
            user_base="",
            user_filter="",
            login_attribute="uid",
            email_attribute="mail",
            first_name_attribute="givenName",
            last_name_attribute="sn",
            group_base="",
            group_map="{}",
        )
        db.session.add(row)
    return row


def _stored_password(row: DirectorySettings) -> str:
    if not row.bind_password_encrypted:
        return ""
    try:
        return keys.secret_box().decrypt(row.bind_password_encrypted).decode("utf-8")
    except SecretBoxError:
        return ""


def load_settings() -> Settings:
    """The settings in force."""
    row = db.session.get(DirectorySettings, DIRECTORY_SETTINGS_ROW_ID)
    stored = Settings()
    if row is not None:
        try:
            group_map = parse_group_map(row.group_map or "{}")
        except ValueError:
            group_map = {}
        stored = Settings(
            urls=tuple(row.urls.split()),
            start_tls=row.start_tls,
            ca_file=row.ca_file,
            bind_dn=row.bind_dn,
            bind_password=_stored_password(row),
            user_base=row.user_base,
            user_filter=row.user_filter,
            login_attribute=row.login_attribute,
            email_attribute=row.email_attribute,
            first_name_attribute=row.first_name_attribute,
            last_name_attribute=row.last_name_attribute,
            group_base=row.group_base,
            group_map=group_map,
        )
    return replace(stored, **_fixed, fixed=frozenset(_fixed))


def is_configured() -> bool:
    return load_settings().configured


@dataclass(frozen=True)
class SettingsInput:
    """What the settings page sends; an empty bind password keeps the stored one."""

    urls: str
    start_tls: bool
    ca_file: str
    bind_dn: str
    bind_password: str
    user_base: str
    user_filter: str
    login_attribute: str
    email_attribute: str
    first_name_attribute: str
    last_name_attribute: str
    group_base: str
    group_map: str


def save_settings(given: SettingsInput, *, now: datetime, actor: User, ip: str) -> list[str]:
    """Check and store the page's settings (fixed ones are left alone); return what changed."""
    fixed = set(_fixed)
    try:
        urls = parse_urls(given.urls)
    except ValueError as error:
        raise DirectoryRefusal("directory.url_invalid", "urls", url=str(error)) from None
    if given.ca_file and "ca_file" not in fixed and not Path(given.ca_file).is_file():
        raise DirectoryRefusal("directory.ca_file_missing", "ca_file")
    if given.login_attribute not in ldap.LOGIN_ATTRIBUTES and "login_attribute" not in fixed:
        raise DirectoryRefusal("directory.login_attribute_invalid", "login_attribute")
    for name in ("email_attribute", "first_name_attribute", "last_name_attribute"):
        value = getattr(given, name)
        if name not in fixed and (
            len(value) > ATTRIBUTE_NAME_MAX or not all(c.isalnum() or c in "-;" for c in value)
        ):
            raise DirectoryRefusal("directory.attribute_invalid", name)
    user_filter = given.user_filter.strip()
    if (
        user_filter
        and "user_filter" not in fixed
        and user_filter.count("(") != user_filter.count(")")
    ):
        raise DirectoryRefusal("directory.filter_invalid", "user_filter")
    try:
        group_map = parse_group_map(given.group_map.strip() or "{}")
    except ValueError:
        raise DirectoryRefusal("directory.group_map_invalid", "group_map") from None
    if "group_map" not in fixed and group_map:
        known = set(db.session.scalars(select(Group.id).where(Group.id.in_(group_map.values()))))
        if not set(group_map.values()) <= known:
            raise DirectoryRefusal("directory.group_map_unknown_group", "group_map")
    row = settings_row()
    new_values: dict[str, Any] = {
        "urls": " ".join(urls),
        "start_tls": given.start_tls,
        "ca_file": given.ca_file.strip(),
        "bind_dn": given.bind_dn.strip(),
        "user_base": given.user_base.strip(),
        "user_filter": user_filter,
        "login_attribute": given.login_attribute,
        "email_attribute": given.email_attribute.strip(),
        "first_name_attribute": given.first_name_attribute.strip(),
        "last_name_attribute": given.last_name_attribute.strip(),
        "group_base": given.group_base.strip(),
        "group_map": json.dumps(group_map, sort_keys=True),
    }
    changed = []
    for name, value in new_values.items():
        if name in fixed or getattr(row, name) == value:
            continue
        setattr(row, name, value)
        changed.append(name)
    if given.bind_password and "bind_password" not in fixed:
        if given.bind_password != _stored_password(row):
            row.bind_password_encrypted = keys.secret_box().encrypt(
                given.bind_password.encode("utf-8")
            )
            changed.append("bind_password")
    if changed:
        events.record(
            events.DIRECTORY_SETTINGS_CHANGED,
            now=now,
            ip=ip,
            actor=actor,
            details={"changed": ",".join(changed)},
        )
    return changed


def field_names() -> list[str]:
    return [item.name for item in fields(SettingsInput)]


def test_connection(*, now: datetime, actor: User, ip: str) -> ldap.Probe:
    """Connect with the settings in force and count the users the filter matches.

    Raises DirectoryRefusal when nothing is configured, ldap.DirectoryError with the
    directory's own words when it fails.
    """
    settings = load_settings()
    if not settings.configured:
        raise DirectoryRefusal("directory.not_configured")
    try:
        found = ldap.probe(settings.connection())
    except ldap.DirectoryError as error:
        events.record(
            events.DIRECTORY_TESTED,
            now=now,
            ip=ip,
            actor=actor,
            outcome=events.FAILURE,
            details={"error": str(error)},
        )
        raise
    events.record(
        events.DIRECTORY_TESTED, now=now, ip=ip, actor=actor, details={"count": found.count}
    )
    return found


# --- passwords --------------------------------------------------------------------------


def _unreachable(error: Exception, *, now: datetime, ip: str, login: str) -> DirectoryDown:
    events.record(
        events.DIRECTORY_UNAVAILABLE,
        now=now,
        ip=ip,
        subject_login=login,
        outcome=events.FAILURE,
        details={"error": str(error)},
    )
    return DirectoryDown(str(error))


def check_sign_in_password(
    user: User | None, login: str, password: str, *, now: datetime, ip: str
) -> tuple[User | None, bool]:
    """Check a sign-in password: a local user's locally, a directory user's by the directory.

    An unknown login is looked up in the directory too, and the person created here at
    their first sign-in. Raises DirectoryDown (after recording it) when the directory
    cannot answer; a local user never needs it.
    """
    if user is not None and not user.from_directory:
        return user, verify_password(user.password_hash, password)
    settings = load_settings()
    if not settings.configured:
        return user, verify_password(None, password)
    if not password:
        return user, False  # an empty password would bind anonymously
    config = settings.connection()
    try:
        entry = ldap.authenticate(config, login, password)
        if entry is None or entry.disabled:
            return user, False
        if user is None:
            # Renamed in the directory since the last synchronisation: the same person.
            user = _directory_user_of(entry)
        if user is None:
            member_of = _mapped_groups_of(config, settings.group_map, entry.dn)
            return _create_at_sign_in(entry, member_of, now=now), True
    except ldap.DirectoryError as error:
        raise _unreachable(error, now=now, ip=ip, login=login) from None
    if user.directory_id and entry.entry_id and user.directory_id != entry.entry_id:
        return user, False  # the login now names another person in the directory
    user.directory_dn = entry.dn[:DN_MAX]
    user.directory_id = user.directory_id or entry.entry_id or None
    return user, True


def _directory_user_of(entry: ldap.DirectoryEntry) -> User | None:
    """The console's user for a directory entry, by its id, else by its DN."""
    if entry.entry_id:
        found = db.session.scalar(select(User).where(User.directory_id == entry.entry_id))
        if found is not None:
            return found
    return db.session.scalar(
        select(User).where(User.source == SOURCE_DIRECTORY, User.directory_dn == entry.dn)
    )


def password_is_right(user: User, password: str) -> bool:
    """Check the password again (re-authentication); a directory it cannot reach says no."""
    if not user.from_directory:
        return verify_password(user.password_hash, password)
    settings = load_settings()
    if not settings.configured or not user.directory_dn:
        return False
    try:
        return ldap.password_matches(settings.connection(), user.directory_dn, password)
    except ldap.DirectoryError:
        return False


def _mapped_groups_of(config: ldap.DirectoryConfig, group_map: dict[str, int], dn: str) -> set[int]:
    if not group_map:
        return set()
    members = ldap.group_members(config, group_map)
    key = ldap.normalize_dn(dn)
    return {group_map[group_dn] for group_dn, people in members.items() if key in people}


def _create_at_sign_in(
    entry: ldap.DirectoryEntry, group_ids: set[int], *, now: datetime
) -> User | None:
    known = {group.id for group in db.session.scalars(select(Group).where(Group.id.in_(group_ids)))}
    try:
        user = _new_user(entry, group_ids & known, now=now, taken=None)
    except accounts.AccountError:
        return None
    db.session.flush()
    return user


# --- synchronisation --------------------------------------------------------------------


@dataclass
class SyncSummary:
    created: int = 0
    updated: int = 0
    blocked: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    def details(self) -> dict[str, object]:
        shown: dict[str, object] = {
            "created": self.created,
            "updated": self.updated,
            "blocked": self.blocked,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }
        if self.errors:
            shown["first_error"] = self.errors[0]
        return shown

    def line(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, blocked {self.blocked}, "
            f"unchanged {self.unchanged}, errors {len(self.errors)}"
        )


@dataclass
class _Known:
    """The console's users, indexed for the synchronisation: directory users whole, and
    every user's login (by id; 0 for one created in this run) and its look-alike form."""

    by_id: dict[str, User]
    by_dn: dict[str, User]
    login_keys: dict[str, int]
    skeletons: set[str]


_CREATED_NOW: Final = 0


def _known_users() -> _Known:
    directory_users = list(db.session.scalars(select(User).where(User.source == SOURCE_DIRECTORY)))
    logins = db.session.execute(select(User.id, User.login_key, User.login_skeleton)).all()
    return _Known(
        by_id={user.directory_id: user for user in directory_users if user.directory_id},
        by_dn={
            ldap.normalize_dn(user.directory_dn): user
            for user in directory_users
            if user.directory_dn
        },
        login_keys={login_key: user_id for user_id, login_key, _skeleton in logins},
        skeletons={skeleton for _id, _key, skeleton in logins if skeleton},
    )


def _checked_login(entry: ldap.DirectoryEntry, taken: _Known | None, owner: User | None) -> str:
    login = accounts.normalize_login(entry.login)
    accounts.check_login(login)
    if taken is None:
        accounts._check_login_free(login, owner)  # noqa: SLF001 - the one rule, reused
        return login
    holder = taken.login_keys.get(accounts.login_key(login))
    if holder is not None and (owner is None or holder != owner.id):
        raise accounts.AccountError("user.login_taken", "login")
    skeleton = accounts.login_skeleton(login)
    if holder is None and skeleton in taken.skeletons:
        raise accounts.AccountError("user.login_confusable", "login")
    return login


def _profile_of(entry: ldap.DirectoryEntry) -> tuple[str, str, str]:
    return entry.email[:EMAIL_MAX], entry.first_name[:NAME_MAX], entry.last_name[:NAME_MAX]


def _new_user(
    entry: ldap.DirectoryEntry, group_ids: set[int], *, now: datetime, taken: _Known | None
) -> User:
    login = _checked_login(entry, taken, None)
    email, name, last_name = _profile_of(entry)
    user = User(
        login=login,
        login_key=accounts.login_key(login),
        login_skeleton=accounts.login_skeleton(login),
        email=email,
        name=name,
        last_name=last_name,
        active=True,
        password_hash=NO_LOCAL_PASSWORD,
        created_at=now,
        source=SOURCE_DIRECTORY,
        directory_dn=entry.dn[:DN_MAX],
        directory_id=entry.entry_id or None,
        directory_blocked=False,
    )
    user.groups = _groups(group_ids | {EMPLOYEES_GROUP_ID})
    db.session.add(user)
    events.record(
        events.USER_CREATED,
        now=now,
        ip=DIRECTORY_IP,
        subject=user,
        details={"groups": ",".join(g.name for g in user.groups)},
    )
    if taken is not None:
        taken.login_keys[user.login_key] = _CREATED_NOW
        if user.login_skeleton:
            taken.skeletons.add(user.login_skeleton)
    return user


def _groups(group_ids: Iterable[int]) -> list[Group]:
    wanted = sorted(set(group_ids))
    return [group for group in (db.session.get(Group, gid) for gid in wanted) if group is not None]


def _update_user(
    user: User,
    entry: ldap.DirectoryEntry,
    member_of: set[int],
    mapped: set[int],
    *,
    taken: _Known,
    apply: bool,
) -> list[str]:
    """Bring one console user in line with their entry; return what changed."""
    changed = []
    login = _checked_login(entry, taken, user)
    email, name, last_name = _profile_of(entry)
    wanted = {
        "login": login,
        "email": email,
        "name": name,
        "last_name": last_name,
        "directory_dn": entry.dn[:DN_MAX],
        "directory_id": entry.entry_id or user.directory_id,
    }
    for attribute, value in wanted.items():
        if getattr(user, attribute) != value:
            changed.append(attribute)
            if apply:
                setattr(user, attribute, value)
    if apply and "login" in changed:
        taken.login_keys.pop(user.login_key, None)
        user.login_key = accounts.login_key(login)
        user.login_skeleton = accounts.login_skeleton(login)
        taken.login_keys[user.login_key] = user.id
        if user.login_skeleton:
            taken.skeletons.add(user.login_skeleton)
    current = {group.id for group in user.groups}
    target = (current - mapped) | member_of | {EMPLOYEES_GROUP_ID}
    if target != current:
        changed.append("groups")
        if apply:
            user.groups = _groups(target)
    return changed


def synchronise(
    *, now: datetime, actor: User | None, ip: str, dry_run: bool = False
) -> SyncSummary:
    """Bring the directory's people and groups in; the caller commits (or, dry, rolls back).

    Raises DirectoryRefusal when no directory is configured, ldap.DirectoryError when the
    directory cannot be read (nothing is changed then).
    """
    settings = load_settings()
    if not settings.configured:
        raise DirectoryRefusal("directory.not_configured")
    config = settings.connection()
    entries = list(ldap.iter_users(config))
    existing_groups = set(db.session.scalars(select(Group.id)))
    group_map = {dn: gid for dn, gid in settings.group_map.items() if gid in existing_groups}
    members = ldap.group_members(config, group_map)
    mapped = set(group_map.values())
    summary = SyncSummary(dry_run=dry_run)
    known = _known_users()
    seen: set[int] = set()
    apply = not dry_run
    for entry in entries:
        dn_key = ldap.normalize_dn(entry.dn)
        member_of = {group_map[dn] for dn, people in members.items() if dn_key in people}
        user = (known.by_id.get(entry.entry_id) if entry.entry_id else None) or known.by_dn.get(
            dn_key
        )
        try:
            if user is None:
                if entry.disabled:
                    continue
                if apply:
                    _new_user(entry, member_of, now=now, taken=known)
                else:
                    _checked_login(entry, known, None)
                summary.created += 1
                continue
            seen.add(user.id)
            changed = _update_user(user, entry, member_of, mapped, taken=known, apply=apply)
        except accounts.AccountError as error:
            if len(summary.errors) < ERRORS_KEPT:
                summary.errors.append(f"{entry.login or entry.dn}: {error.text}")
            else:
                summary.errors.append("")
            continue
        if entry.disabled and user.active:
            summary.blocked += 1
            if apply:
                _block(user, now=now)
        elif not entry.disabled and not user.active and user.directory_blocked:
            changed.append("active")
            if apply:
                user.directory_blocked = False
                accounts.set_active(user, True, now=now, actor=None, ip=DIRECTORY_IP)
        if changed:
            summary.updated += 1
            if apply:
                events.record(
                    events.USER_CHANGED,
                    now=now,
                    ip=DIRECTORY_IP,
                    subject=user,
                    details={"changed": ",".join(changed)},
                )
        elif not (entry.disabled and user.active):
            summary.unchanged += 1
    for user in _directory_users(known):
        if user.id in seen:
            continue
        seen.add(user.id)
        if user.active:
            summary.blocked += 1
            if apply:
                _block(user, now=now)
        else:
            summary.unchanged += 1
    if apply:
        settings_row().last_sync_at = now
        events.record(
            events.DIRECTORY_SYNCED, now=now, ip=ip, actor=actor, details=summary.details()
        )
    return summary


def _directory_users(known: _Known) -> list[User]:
    users = {id(user): user for user in (*known.by_id.values(), *known.by_dn.values())}
    return [user for user in users.values() if user.id is not None]


def _block(user: User, *, now: datetime) -> None:
    user.directory_blocked = True
    accounts.set_active(user, False, now=now, actor=None, ip=DIRECTORY_IP)


def summary_errors(summary: SyncSummary) -> list[str]:
    return [error for error in summary.errors if error]
