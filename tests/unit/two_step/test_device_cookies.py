"""Device cookies: signed, per login, expiring, with time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from security.device_cookies import (
    DEVICE_COOKIE_LIFETIME,
    MAX_LOGINS,
    issue_device_cookie,
    knows_login,
)

KEYS = ["test-secret-key-0123456789"]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_cookie_knows_the_login_it_was_issued_for_only() -> None:
    value = issue_device_cookie(KEYS, "admin", now=NOW, previous=None)
    assert knows_login(KEYS, value, "admin", now=NOW)
    assert not knows_login(KEYS, value, "employee", now=NOW)
    assert not knows_login(KEYS, value, "", now=NOW)


def test_a_forged_tampered_or_foreign_cookie_is_not_known() -> None:
    value = issue_device_cookie(KEYS, "admin", now=NOW, previous=None)
    other_app = issue_device_cookie(
        ["another-secret-key-of-length"], "admin", now=NOW, previous=None
    )
    assert not knows_login(KEYS, other_app, "admin", now=NOW)
    assert not knows_login(KEYS, value[:-2] + "xx", "admin", now=NOW)
    assert not knows_login(KEYS, "admin", "admin", now=NOW)
    assert not knows_login(KEYS, None, "admin", now=NOW)
    assert not knows_login(KEYS, value + "a" * 3000, "admin", now=NOW)


def test_the_previous_secret_still_verifies_after_rotation() -> None:
    value = issue_device_cookie(KEYS, "admin", now=NOW, previous=None)
    assert knows_login([*KEYS, "the-new-secret-key-0123456789"], value, "admin", now=NOW)


def test_a_cookie_expires_per_login() -> None:
    old = issue_device_cookie(KEYS, "admin", now=NOW, previous=None)
    later = NOW + DEVICE_COOKIE_LIFETIME - timedelta(days=1)
    value = issue_device_cookie(KEYS, "employee", now=later, previous=old)
    assert knows_login(KEYS, value, "admin", now=later)
    expired = NOW + DEVICE_COOKIE_LIFETIME + timedelta(seconds=1)
    assert not knows_login(KEYS, value, "admin", now=expired)
    assert knows_login(KEYS, value, "employee", now=expired)


def test_a_browser_stays_known_for_the_last_few_logins() -> None:
    value = None
    for number in range(MAX_LOGINS + 2):
        value = issue_device_cookie(KEYS, f"user{number}", now=NOW, previous=value)
    known = [knows_login(KEYS, value, f"user{number}", now=NOW) for number in range(MAX_LOGINS + 2)]
    assert known == [False, False] + [True] * MAX_LOGINS
    # Signing in again as a known login does not list it twice.
    again = issue_device_cookie(KEYS, "user6", now=NOW, previous=value)
    assert knows_login(KEYS, again, "user2", now=NOW)
