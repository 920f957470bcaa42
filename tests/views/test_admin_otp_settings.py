"""Settings → Proactive protection → Two-step authentication: the switch and the Parameters tab."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask

from tests.support import events_of, otp_settings_form, sign_in, snapshot

URL = "/admin/security/otp"


def _settings() -> Any:
    from extensions import db
    from security.otp_settings import current_parameters, load_settings

    db.session.expire_all()
    return current_parameters(load_settings())


def _manager_client(app: Flask, make_user: Any) -> tuple[Any, Any]:
    """A user of a group that may manage one-time passwords but is not an administrator."""
    from extensions import db
    from models import Group

    group = Group(name="Help desk", can_manage_otp=True)
    db.session.add(group)
    db.session.commit()
    user = make_user("helpdesk", group_ids=(group.id,))
    client = app.test_client()
    assert sign_in(client, "helpdesk").status_code == 303
    return client, user


def test_the_page_shows_state_tab_with_banner_and_explanation(admin_client: Any) -> None:
    response = admin_client.get(URL)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "banner-off" in page and "Two-step authentication disabled" in page
    assert 'action="/admin/security/otp/enable"' in page
    for words in ("RFC 4226", "RFC 6238", "HOTP", "TOTP", "two consecutive codes"):
        assert words in page
    assert "/admin/form-settings/user_edit" in page
    assert 'data-tab="state"' in page and 'data-tab="parameters"' in page


def test_parameters_tab_shows_every_field_with_reference_labels(admin_client: Any) -> None:
    page = admin_client.get(URL + "?tab=parameters").get_data(as_text=True)
    for name in (
        "default_type",
        "hotp_window",
        "totp_window",
        "allow_remember",
        "remember_days",
        "allow_recovery_codes",
        "mandatory",
        "mandatory_days",
        "mandatory_groups",
        "max_attempts",
        "lockout_minutes",
        "log_requests",
        "issuer",
    ):
        assert f'name="{name}"' in page, name
    for label in (
        "Password check window size",
        "Default password generation algorithm",
        "Allow persistent OTPs",
        "Allow recovery codes",
        "Always require two-step authentication",
        "Days left to connect",
        "Users who always have to use two-step authentication",
        "Log requests for OTP password",
    ):
        assert label in page, label
    # Every group is offered as a checkbox.
    assert 'value="1"' in page and "Administrators" in page and "Employees" in page


def test_switch_on_and_off_with_events(admin: Any, admin_client: Any) -> None:
    from security.otp_settings import load_settings

    response = admin_client.post(URL + "/enable")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(URL)
    assert load_settings().enabled is True
    page = admin_client.get(URL).get_data(as_text=True)
    assert "banner-on" in page and "Two-step authentication enabled" in page
    assert 'action="/admin/security/otp/disable"' in page
    assert admin_client.post(URL + "/disable").status_code == 303
    from extensions import db

    db.session.expire_all()
    assert load_settings().enabled is False
    assert [e.actor_id for e in events_of("otp_enabled")] == [admin.id]
    assert len(events_of("otp_disabled_globally")) == 1


def test_saving_parameters_records_what_changed(admin: Any, admin_client: Any) -> None:
    from security.messages import message

    response = admin_client.post(
        URL,
        data=otp_settings_form(
            default_type="hotp",
            hotp_window="20",
            mandatory="y",
            mandatory_groups=["1", "2"],
            issuer="Acme",
            allow_remember="y",
        ),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("tab=parameters")
    stored = _settings()
    assert stored.default_type == "hotp"
    assert stored.hotp_window == 20
    assert stored.mandatory is True
    assert stored.mandatory_groups == (1, 2)
    assert stored.issuer == "Acme"
    assert stored.allow_remember is True
    [event] = events_of("otp_settings_changed")
    assert event.actor_id == admin.id
    for change in (
        "default_type: totp → hotp",
        "hotp_window: 10 → 20",
        "mandatory: off → on",
        "mandatory_groups: 1 → 1,2",
        "issuer: Company portal → Acme",
    ):
        assert change in event.details
    assert "lockout_minutes" not in event.details
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert message("otp.settings_saved") in page
    # Saving the same values changes nothing and records nothing.
    again = admin_client.post(
        URL,
        data=otp_settings_form(
            default_type="hotp",
            hotp_window="20",
            mandatory="y",
            mandatory_groups=["1", "2"],
            issuer="Acme",
            allow_remember="y",
        ),
    )
    assert again.status_code == 303
    assert len(events_of("otp_settings_changed")) == 1


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("totp_window", 0, 10),
        ("hotp_window", 1, 100),
        ("remember_days", 1, 365),
        ("mandatory_days", 0, 365),
        ("max_attempts", 1, 100),
        ("lockout_minutes", 1, 1440),
    ],
)
def test_range_edges(admin_client: Any, name: str, low: int, high: int) -> None:
    for good in (low, high):
        response = admin_client.post(URL, data=otp_settings_form(**{name: str(good)}))
        assert response.status_code == 303, (name, good)
        assert getattr(_settings(), name) == good
    kept = getattr(_settings(), name)
    for bad in (str(low - 1), str(high + 1), "abc", "", "1.5"):
        before = snapshot()
        response = admin_client.post(URL, data=otp_settings_form(**{name: bad}))
        assert response.status_code == 400, (name, bad)
        page = response.get_data(as_text=True)
        assert f'id="{name}-error"' in page, (name, bad)
        assert snapshot() == before
    assert getattr(_settings(), name) == kept


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"mandatory_groups": ["1", "999"]}, "mandatory_groups", "does not exist"),
        ({"mandatory_groups": ["x"]}, "mandatory_groups", ""),
        ({"mandatory": "y", "mandatory_groups": None}, "mandatory_groups", "at least one group"),
        ({"issuer": "Acme:Corp"}, "issuer", "colon"),
        ({"issuer": "   "}, "issuer", ""),
        ({"issuer": "x" * 101}, "issuer", "100"),
        ({"issuer": "Acme\x07"}, "issuer", "Control characters"),
        ({"default_type": "sha1"}, "default_type", ""),
        ({"default_type": None}, "default_type", ""),
    ],
)
def test_bad_input_is_refused_next_to_the_field(
    admin_client: Any, changes: dict[str, Any], field: str, text: str
) -> None:
    before = snapshot()
    response = admin_client.post(URL, data=otp_settings_form(**changes))
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert f'id="{field}-error"' in page
    error_line = page.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert text in error_line
    assert snapshot() == before


def test_hidden_fields_keep_their_values(admin: Any, admin_client: Any) -> None:
    """A layout that hides a field never lets a save change it."""
    from dataclasses import replace

    from models import utcnow
    from security.form_layouts.builtin import layout_for
    from security.form_layouts.storage import save_layout

    layout = layout_for("otp_settings")
    tabs = []
    for tab in layout.all_tabs:
        items = tuple(replace(item, hidden=item.id == "lockout_minutes") for item in tab.items)
        tabs.append(replace(tab, items=items))
    save_layout(
        replace(layout, all_tabs=tuple(tabs)),
        scope="personal",
        actor=admin,
        now=utcnow(),
        ip="test",
    )
    from extensions import db

    db.session.commit()
    page = admin_client.get(URL + "?tab=parameters").get_data(as_text=True)
    assert 'name="lockout_minutes"' not in page
    response = admin_client.post(
        URL, data=otp_settings_form(lockout_minutes=None, max_attempts="7")
    )
    assert response.status_code == 303
    assert _settings().lockout_minutes == 15
    assert _settings().max_attempts == 7


def test_only_administrators(app: Flask, make_user: Any, employee_client: Any) -> None:
    manager, _ = _manager_client(app, make_user)
    for client in (employee_client, manager):
        before = snapshot()
        assert client.get(URL).status_code == 403
        assert client.post(URL, data=otp_settings_form(issuer="Evil")).status_code == 403
        assert client.post(URL + "/enable").status_code == 403
        after = snapshot()
        assert {k: v for k, v in after.items() if k != "events"} == {
            k: v for k, v in before.items() if k != "events"
        }
    assert _settings().issuer == "Company portal"


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_switch_without_csrf_token_is_refused(app: Flask, admin: Any) -> None:
    from security.otp_settings import load_settings

    client = app.test_client()
    assert sign_in(client, "admin").status_code == 303
    before = snapshot()
    assert client.post(URL + "/enable").status_code == 400
    assert client.post(URL, data=otp_settings_form(issuer="Acme")).status_code == 400
    assert snapshot() == before
    assert load_settings().enabled is False


def test_settings_page_tells_how_to_bring_back_a_hidden_profile_tab(
    admin: Any, admin_client: Any
) -> None:
    from dataclasses import replace

    from extensions import db
    from models import utcnow
    from security.form_layouts.builtin import layout_for
    from security.form_layouts.storage import save_layout
    from security.messages import message

    layout = layout_for("user_edit")
    tabs = tuple(replace(tab, hidden=tab.id == "otp") for tab in layout.all_tabs)
    save_layout(
        replace(layout, all_tabs=tabs), scope="personal", actor=admin, now=utcnow(), ip="test"
    )
    db.session.commit()
    page = html.unescape(admin_client.get(URL).get_data(as_text=True))
    assert message("layout.otp_tab_hidden") in page
