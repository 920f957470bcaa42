"""Each person's language and time zone: which ones exist, and changing one's own.

A person's choice wins over the browser's and the console's; an empty choice means "as
my browser" for the language and "the console's" for the time zone.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Final

from models import User
from security import events
from security.messages import Refusal

# The languages the console speaks, in the order the choice lists them.
LANGUAGES: Final = ("en", "ru")
# The longest IANA zone name is 32 characters (America/Argentina/ComodRivadavia).
TIMEZONE_MAX: Final = 64
# Files in the zone database that are not zones a person lives in.
_NOT_ZONES: Final = frozenset({"Factory", "localtime", "posixrules"})


class PreferenceError(Refusal):
    """A language or time zone the console does not know."""


@dataclass(frozen=True)
class Preferences:
    language: str = ""
    timezone: str = ""


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name the machine knows, sorted: the choices offered."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_ZONES))


def is_time_zone(name: str) -> bool:
    """Tell whether `name` is an IANA zone name (exactly as spelled: 'Europe/Moscow')."""
    return len(name) <= TIMEZONE_MAX and name in _zone_set()


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(time_zones())


def of(user: User) -> Preferences:
    """A person's stored choices."""
    return Preferences(user.language, user.timezone)


def check(preferences: Preferences) -> None:
    """Refuse a language the console does not speak or a zone that does not exist."""
    if preferences.language and preferences.language not in LANGUAGES:
        raise PreferenceError("preferences.unknown_language", "language")
    if preferences.timezone and not is_time_zone(preferences.timezone):
        raise PreferenceError("preferences.unknown_timezone", "timezone")


def apply(
    user: User,
    preferences: Preferences,
    *,
    now: datetime,
    actor: User,
    ip: str,
) -> list[str]:
    """Check and set a person's language and zone; return what changed. The caller commits.

    `actor` is the person themselves on My page, or an administrator on the profile.
    """
    check(preferences)
    changed = [
        name
        for name in ("language", "timezone")
        if getattr(user, name) != getattr(preferences, name)
    ]
    for name in changed:
        setattr(user, name, getattr(preferences, name))
    if changed:
        events.record(
            events.PREFERENCES_CHANGED,
            now=now,
            ip=ip,
            actor=actor,
            subject=user,
            details={name: getattr(preferences, name) or "-" for name in changed},
        )
    return changed
