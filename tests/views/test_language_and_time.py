"""Whose language and whose clock: the person's choice, the visitor's, the browser's, the console's.

Texts are looked up in the catalogs (English from security.messages, Russian from the .po
file), so that a reworded translation does not break a test that is about who reads what.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from security.messages import message
from tests.support import event_types, shown_time, sign_in, snapshot, user_named
from web.i18n import LANGUAGE_COOKIE, TRANSLATIONS, read_catalog

RUSSIAN_BROWSER = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}


@cache
def _russian_catalog() -> dict[str, Any]:
    catalog = read_catalog(TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po")
    return {str(entry.context): entry.string for entry in catalog if entry.id}


def russian(key: str, **values: object) -> str:
    text = _russian_catalog()[key]
    return text.format(**values) if values else text


def _html(response: Any) -> str:
    return response.get_data(as_text=True)


def _lang(response: Any) -> str:
    found = re.search(r'<html lang="([^"]*)">', _html(response))
    assert found, "every page names its language"
    return found.group(1)


def _words(response: Any) -> str:
    inline = re.sub(r"</?(?:a|b|code|em|span|strong|time)\b[^>]*>", "", _html(response))
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


# ---------------------------------------------------------------------------- the sign-in page


def test_a_russian_browser_sees_the_sign_in_page_in_russian(client: FlaskClient) -> None:
    page = client.get("/login", headers=RUSSIAN_BROWSER)
    assert _lang(page) == "ru"
    assert russian("login.title") in _html(page)
    assert russian("form.field.password") in _html(page)
    assert message("login.title") not in _words(page)


@pytest.mark.parametrize("asks", ["en-US,en;q=0.9", "de-DE,de;q=0.9", ""])
def test_other_browsers_get_the_console_default_english(client: FlaskClient, asks: str) -> None:
    page = client.get("/login", headers={"Accept-Language": asks} if asks else {})
    assert _lang(page) == "en"
    assert message("login.title") in _html(page)


@pytest.mark.settings(DEFAULT_LANGUAGE="ru")
def test_the_console_default_serves_browsers_that_ask_for_neither(client: FlaskClient) -> None:
    assert _lang(client.get("/login", headers={"Accept-Language": "de"})) == "ru"
    assert _lang(client.get("/login", headers=ENGLISH_BROWSER)) == "en"


def test_a_visitor_switches_the_sign_in_page_to_russian(client: FlaskClient) -> None:
    page = client.get("/login?next=/my/security", headers=ENGLISH_BROWSER)
    assert 'name="language" value="ru"' in _html(page)
    switched = client.post(
        "/language", data={"language": "ru", "next": "/login?next=%2Fmy%2Fsecurity"}
    )
    assert switched.status_code == 303
    assert switched.headers["Location"] == "/login?next=%2Fmy%2Fsecurity"
    cookie = client.get_cookie(LANGUAGE_COOKIE)
    assert cookie is not None and cookie.value == "ru" and cookie.http_only
    again = client.get("/login?next=/my/security", headers=ENGLISH_BROWSER)
    assert _lang(again) == "ru"
    assert russian("login.title") in _html(again)
    # And back.
    client.post("/language", data={"language": "en", "next": "/login"})
    assert _lang(client.get("/login", headers=RUSSIAN_BROWSER)) == "en"


@pytest.mark.parametrize("language", ["de", "", "x" * 10_000, "ru\n"])
def test_an_unknown_language_switch_changes_nothing(client: FlaskClient, language: str) -> None:
    answer = client.post("/language", data={"language": language, "next": "/login"})
    assert answer.status_code == 303
    assert client.get_cookie(LANGUAGE_COOKIE) is None
    page = client.get("/login", headers=ENGLISH_BROWSER)
    assert message("preferences.unknown_language") in _html(page)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_the_language_switch_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    answer = client.post("/language", data={"language": "ru", "next": target})
    assert answer.headers["Location"] == "/login"


# ---------------------------------------------------------------------------- a person's choice


def test_the_persons_choice_wins_over_the_browser(
    app: Flask, employee_client: FlaskClient, employee: Any
) -> None:
    from extensions import db

    assert _lang(employee_client.get("/my/", headers=RUSSIAN_BROWSER)) == "ru"
    employee.language = "en"
    db.session.commit()
    assert _lang(employee_client.get("/my/", headers=RUSSIAN_BROWSER)) == "en"
    employee.language = "ru"
    db.session.commit()
    page = employee_client.get("/my/", headers=ENGLISH_BROWSER)
    assert _lang(page) == "ru"
    assert russian("nav.my_page") in _html(page)


def test_an_employee_sets_russian_and_moscow_and_every_page_follows(
    app: Flask, employee_client: FlaskClient, employee: Any
) -> None:
    form = employee_client.get("/my/settings", headers=ENGLISH_BROWSER)
    assert form.status_code == 200
    assert 'name="language"' in _html(form) and 'name="timezone"' in _html(form)
    saved = employee_client.post(
        "/my/settings", data={"language": "ru", "timezone": "Europe/Moscow"}
    )
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/my/settings"
    user = user_named("employee")
    assert (user.language, user.timezone) == ("ru", "Europe/Moscow")
    assert "preferences_changed" in event_types("employee")
    # The confirmation is already in the language just chosen.
    after = employee_client.get("/my/settings", headers=ENGLISH_BROWSER)
    assert _lang(after) == "ru"
    assert russian("preferences.saved") in _html(after)
    # Times in Moscow, named: the last sign-in on the profile.
    profile = employee_client.get("/my/", headers=ENGLISH_BROWSER)
    moscow = " ".join(shown_time(user.last_sign_in_at, "Europe/Moscow", "ru").split())
    assert moscow in _words(profile)
    assert "(Europe/Moscow)" in _words(profile)


def test_empty_choices_mean_the_browser_and_the_console(
    app: Flask, employee_client: FlaskClient, employee: Any
) -> None:
    employee_client.post("/my/settings", data={"language": "ru", "timezone": "Asia/Tokyo"})
    cleared = employee_client.post("/my/settings", data={"language": "", "timezone": ""})
    assert cleared.status_code == 303
    user = user_named("employee")
    assert (user.language, user.timezone) == ("", "")
    assert _lang(employee_client.get("/my/", headers=ENGLISH_BROWSER)) == "en"
    assert "(UTC)" in _words(employee_client.get("/my/", headers=ENGLISH_BROWSER))


@pytest.mark.parametrize(
    ("data", "field", "key"),
    [
        ({"language": "de", "timezone": ""}, "language", "preferences.unknown_language"),
        ({"language": "x" * 10_000, "timezone": ""}, "language", "preferences.unknown_language"),
        (
            {"language": "", "timezone": "Mars/Olympus_Mons"},
            "timezone",
            "preferences.unknown_timezone",
        ),
        ({"language": "", "timezone": "europe/moscow"}, "timezone", "preferences.unknown_timezone"),
        (
            {"language": "", "timezone": "../../etc/passwd"},
            "timezone",
            "preferences.unknown_timezone",
        ),
        ({"language": "", "timezone": "localtime"}, "timezone", "preferences.unknown_timezone"),
        ({"language": "", "timezone": "x" * 10_000}, "timezone", "form.too_long"),
        ({"language": "", "timezone": "Europe/\x1bMoscow"}, "timezone", "form.control_characters"),
    ],
)
def test_bad_settings_are_refused_next_to_the_field_and_change_nothing(
    app: Flask,
    employee_client: FlaskClient,
    employee: Any,
    data: dict[str, str],
    field: str,
    key: str,
) -> None:
    before = snapshot()
    answer = employee_client.post("/my/settings", data=data, headers=ENGLISH_BROWSER)
    assert answer.status_code == 400
    expected = message(key, max=64) if key == "form.too_long" else message(key)
    error = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', _html(answer))
    assert error and expected in error.group(1)
    assert snapshot() == before


# ---------------------------------------------------------------------------- the administrator


def test_an_administrator_sets_a_users_language_and_zone_on_personal_data(
    app: Flask, admin_client: FlaskClient, employee: Any
) -> None:
    tab = admin_client.get(f"/admin/users/{employee.id}?tab=personal")
    assert 'name="language"' in _html(tab) and 'name="timezone"' in _html(tab)
    form = {"login": "employee", "active": "y", "groups": "2"}
    saved = admin_client.post(
        f"/admin/users/{employee.id}?tab=personal",
        data={**form, "language": "ru", "timezone": "Asia/Yekaterinburg"},
    )
    assert saved.status_code == 303
    user = user_named("employee")
    assert (user.language, user.timezone) == ("ru", "Asia/Yekaterinburg")
    before = snapshot()
    refused = admin_client.post(
        f"/admin/users/{employee.id}?tab=personal",
        data={**form, "language": "ru", "timezone": "Atlantis/Capital"},
    )
    assert refused.status_code == 400
    assert message("preferences.unknown_timezone") in _html(refused)
    assert snapshot() == before


def test_an_english_administrator_reads_a_russian_users_events_in_english_and_own_zone(
    app: Flask, admin: Any, employee: Any
) -> None:
    from extensions import db

    employee_browser = app.test_client()
    assert sign_in(employee_browser, "employee").status_code == 303
    employee_browser.post("/my/settings", data={"language": "ru", "timezone": "Europe/Moscow"})
    admin.language, admin.timezone = "en", "America/New_York"
    db.session.commit()
    admin_browser = app.test_client()
    assert sign_in(admin_browser, "admin").status_code == 303
    events = admin_browser.get(f"/admin/users/{employee.id}?tab=events", headers=RUSSIAN_BROWSER)
    assert _lang(events) == "en"
    assert message("event.preferences_changed") in _html(events)
    assert message("event.sign_in") in _html(events)
    assert "(America/New_York)" in _words(events)
    assert "(Europe/Moscow)" not in _words(events)
    # The user, meanwhile, reads their own page in Russian and Moscow time.
    own = employee_browser.get("/my/", headers=ENGLISH_BROWSER)
    assert _lang(own) == "ru" and "(Europe/Moscow)" in _words(own)


def test_times_in_event_details_are_shown_in_the_readers_zone(
    app: Flask,
    admin_client: FlaskClient,
    admin: Any,
    employee: Any,
    connect_device: Any,
    two_step_on: Any,
) -> None:
    from extensions import db
    from security import two_step

    two_step_on()
    connect_device(employee)
    admin.timezone = "Asia/Tokyo"
    db.session.commit()
    answer = admin_client.post(f"/admin/users/{employee.id}/otp/disable", data={"days": "2"})
    assert answer.status_code in (302, 303)
    page = admin_client.get("/admin/events?type=otp_disabled")
    device = two_step.device_of(employee.id)
    assert device is not None and device.disabled_until is not None
    tokyo = " ".join(shown_time(device.disabled_until, "Asia/Tokyo").split())
    assert f"{message('event.detail.until')}: {tokyo}" in _words(page)
    # The export keeps the stored instant, in UTC.
    exported = admin_client.get("/admin/events.csv?type=otp_disabled").get_data(as_text=True)
    assert f"until={device.disabled_until:%Y-%m-%dT%H:%M:%SZ}" in exported


def test_the_csv_keeps_english_columns_and_utc_times_for_a_russian_administrator(
    app: Flask, admin: Any, admin_client: FlaskClient
) -> None:
    from extensions import db

    admin.language, admin.timezone = "ru", "Europe/Moscow"
    db.session.commit()
    exported = admin_client.get("/admin/events.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][:3] == ["time_utc", "type", "outcome"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[0]) for row in rows[1:])
    assert {row[1] for row in rows[1:]} >= {"sign_in"}


def test_the_connect_page_shows_the_server_time_in_utc_and_in_the_persons_zone(
    app: Flask, employee_client: FlaskClient, employee: Any, two_step_on: Any
) -> None:
    from extensions import db

    two_step_on()
    employee.language, employee.timezone = "en", "Asia/Kolkata"
    db.session.commit()
    page = _html(employee_client.get("/my/security/connect"))
    found = re.search(
        r'<time datetime="([^"]+)">[^<]*\(UTC\)</time>[^<]*<time datetime="([^"]+)">([^<]*)</time>',
        page,
    )
    assert found and found.group(1) == found.group(2)
    assert found.group(3).endswith("(Asia/Kolkata)")


def test_a_profile_form_without_the_new_fields_keeps_the_persons_choice(
    app: Flask, admin_client: FlaskClient, employee: Any, employee_client: FlaskClient
) -> None:
    # A script that posts the profile's fields as the contract listed them before the
    # language existed must not reset it.
    employee_client.post("/my/settings", data={"language": "ru", "timezone": "Europe/Moscow"})
    renamed = admin_client.post(
        f"/admin/users/{employee.id}",
        data={"login": "employee", "active": "y", "groups": "2", "name": "Ivan"},
    )
    assert renamed.status_code == 303
    user = user_named("employee")
    assert (user.name, user.language, user.timezone) == ("Ivan", "ru", "Europe/Moscow")
    # Nor does a My page form that sends only one of the two.
    employee_client.post("/my/settings", data={"language": "en"})
    user = user_named("employee")
    assert (user.language, user.timezone) == ("en", "Europe/Moscow")
