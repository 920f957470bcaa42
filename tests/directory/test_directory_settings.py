"""Settings → Directory: saving, fixed fields, "Test the connection", "Synchronise now"."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from security.messages import message
from tests.support import events_of, snapshot
from tests.support.ldap import GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, Slapd, needs_slapd

pytestmark = needs_slapd

PAGE = "/admin/settings/directory"


def _form(slapd: Slapd, **changes: str) -> dict[str, str]:
    form = {
        "urls": slapd.url,
        "start_tls": "y",
        "ca_file": str(slapd.ca_file),
        "bind_dn": SERVICE_DN,
        "bind_password": SERVICE_PASSWORD,
        "user_base": PEOPLE,
        "user_filter": "(objectClass=inetOrgPerson)",
        "login_attribute": "uid",
        "email_attribute": "mail",
        "first_name_attribute": "givenName",
        "last_name_attribute": "sn",
        "group_base": GROUPS,
        "group_map": "",
    }
    form.update(changes)
    return form


def _flashes(client: FlaskClient) -> str:
    return client.get(PAGE).get_data(as_text=True)


def test_an_administrator_sets_up_tests_and_synchronises_the_directory(
    app: Flask, admin_client: FlaskClient, slapd: Slapd
) -> None:
    from extensions import db
    from models import DirectorySettings

    assert admin_client.get(PAGE).status_code == 200
    response = admin_client.post(PAGE, data=_form(slapd))
    assert response.status_code == 303
    row = db.session.get(DirectorySettings, 1)
    assert row.urls == slapd.url
    assert SERVICE_PASSWORD not in row.bind_password_encrypted  # encrypted at rest
    assert SERVICE_PASSWORD not in admin_client.get(PAGE).get_data(as_text=True)
    # Saved again with the password left empty, the stored one is kept.
    admin_client.post(PAGE, data=_form(slapd, bind_password=""))
    assert admin_client.post(f"{PAGE}/test").status_code == 303
    page = _flashes(admin_client)
    assert message("directory.test_found", count=4) in page
    assert "alice" in page
    assert admin_client.post(f"{PAGE}/sync").status_code == 303
    page = _flashes(admin_client)
    assert (
        message("directory.synced", created=3, updated=0, blocked=0, unchanged=0, errors=0) in page
    )
    assert [event.type for event in events_of("directory_synced")] == ["directory_synced"]


def test_the_test_shows_the_directory_s_own_error(
    app: Flask, admin_client: FlaskClient, slapd: Slapd
) -> None:
    admin_client.post(PAGE, data=_form(slapd, bind_password="not-the-password"))
    admin_client.post(f"{PAGE}/test")
    page = _flashes(admin_client)
    assert "invalidCredentials" in page
    assert events_of("directory_tested")[0].outcome == "failure"


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("urls", "http://example.com", "directory.url_invalid"),
        ("ca_file", "/no/such/file.pem", "directory.ca_file_missing"),
        ("login_attribute", "cn", None),
        ("group_map", "{not json", "directory.group_map_invalid"),
        (
            "group_map",
            '{"cn=vpn,ou=groups,dc=example,dc=com": 999}',
            "directory.group_map_unknown_group",
        ),
        ("user_filter", "(objectClass=*", "directory.filter_invalid"),
        ("email_attribute", "mail)(x", "directory.attribute_invalid"),
    ],
)
def test_bad_settings_are_refused_next_to_the_field(
    app: Flask, admin_client: FlaskClient, slapd: Slapd, field: str, value: str, key: str | None
) -> None:
    before = snapshot()
    response = admin_client.post(PAGE, data=_form(slapd, **{field: value}))
    assert response.status_code == 400
    if key:
        assert message(key, url=value).split(":")[0] in response.get_data(as_text=True)
    assert snapshot() == before


def test_server_settings_fix_their_fields(
    app: Flask, admin_client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    from security import directory

    use_directory(slapd)
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert message("directory.fixed") in page and "disabled" in page
    admin_client.post(PAGE, data=_form(slapd, urls="ldaps://elsewhere.example"))
    assert directory.load_settings().urls == (slapd.url,)
    # As a browser sends it: the disabled (fixed) fields are left out.
    response = admin_client.post(PAGE, data={"group_map": ""})
    assert response.status_code == 303


def test_synchronise_without_a_directory_says_so(app: Flask, admin_client: FlaskClient) -> None:
    admin_client.post(f"{PAGE}/sync")
    assert message("directory.not_configured") in _flashes(admin_client)


def test_the_address_field_also_answers_to_its_settings_name(
    app: Flask, admin_client: FlaskClient, slapd: Slapd
) -> None:
    # FLASK_LDAP_URL names the field `url`; a script posting that name is understood.
    from extensions import db
    from models import DirectorySettings

    form = _form(slapd)
    form["url"] = form.pop("urls")
    assert admin_client.post(PAGE, data=form).status_code == 303
    assert db.session.get(DirectorySettings, 1).urls == slapd.url
