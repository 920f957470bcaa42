"""Device cookies: a browser that has signed in as a login before is known for that login.

OWASP's "device cookies" pattern against lock-out by strangers: the per-login password
limit holds back unknown browsers only, so guesses from elsewhere cannot keep the owner
out. The cookie is signed with the application's secret (itsdangerous), names login keys
(never a password or a user id to look up) and carries, per login, when it was issued.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from itsdangerous import BadSignature, URLSafeSerializer

DEVICE_COOKIE_LIFETIME: Final = timedelta(days=180)
# A browser shared by a few people, or one person with a few accounts, stays known to each.
MAX_LOGINS: Final = 5
# Longer values are not ours: refuse them before checking a signature.
MAX_COOKIE_LENGTH: Final = 2000
_SALT: Final = "device-cookie"


def _serializer(secret_keys: Sequence[str]) -> URLSafeSerializer:
    # itsdangerous signs with the last key and accepts any (Flask's SECRET_KEY_FALLBACKS).
    return URLSafeSerializer(list(secret_keys), salt=_SALT)


def _live_logins(
    secret_keys: Sequence[str], value: str | None, *, now: datetime
) -> list[tuple[str, int]]:
    """Return the (login key, issued at) pairs of a genuine cookie that have not expired."""
    if not value or len(value) > MAX_COOKIE_LENGTH:
        return []
    try:
        payload = _serializer(secret_keys).loads(value)
    except BadSignature:
        return []
    if not isinstance(payload, list):
        return []
    oldest = (now - DEVICE_COOKIE_LIFETIME).timestamp()
    return [
        (entry[0], entry[1])
        for entry in payload
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], int)
        and entry[1] > oldest
    ]


def issue_device_cookie(
    secret_keys: Sequence[str], login_key: str, *, now: datetime, previous: str | None
) -> str:
    """Return the cookie value that knows `login_key` from now on, besides the live logins of
    `previous`."""
    others = [
        (login, issued)
        for login, issued in _live_logins(secret_keys, previous, now=now)
        if login != login_key
    ]
    entries = [(login_key, int(now.timestamp())), *others][:MAX_LOGINS]
    return str(_serializer(secret_keys).dumps([list(entry) for entry in entries]))


def knows_login(
    secret_keys: Sequence[str], value: str | None, login_key: str, *, now: datetime
) -> bool:
    """Tell whether the cookie value shows a sign-in as `login_key` within its lifetime."""
    if not login_key:
        return False
    return any(login == login_key for login, _ in _live_logins(secret_keys, value, now=now))
