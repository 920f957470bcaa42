"""Other services check a directory user's password through the API, by the same rules."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.directory.conftest import ALICE
from tests.support import events_of
from tests.support.ldap import Slapd, needs_slapd

pytestmark = needs_slapd


def _client_key(admin: Any) -> str:
    from extensions import db
    from models import utcnow
    from security import api_clients

    made = api_clients.create_client("VPN", ["validate"], "", now=utcnow(), actor=admin, ip="test")
    db.session.commit()
    return str(made.key)


def _validate(client: FlaskClient, key: str, password: str) -> Any:
    return client.post(
        "/api/v1/validate",
        json={"login": "alice", "password": password, "code": "000000"},
        headers={"Authorization": f"Bearer {key}"},
    ).get_json()


def test_a_directory_password_is_checked_by_the_directory_and_its_absence_is_said(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any, admin: Any
) -> None:
    use_directory(slapd)
    key = _client_key(admin)
    assert _validate(client, key, ALICE.password) == {
        "result": "accept",
        "reason": "no_second_step",
    }
    assert _validate(client, key, "not-alice-s-password")["reason"] == "invalid_credentials"
    slapd.stop()
    # The VPN gateway can tell Alice to try later rather than that her password is wrong.
    answer = _validate(client, key, ALICE.password)
    assert answer == {"result": "reject", "reason": "directory_unavailable"}
    assert "directory_unavailable" in events_of("api_validation")[-1].details
