"""Directory users sign in with their directory password, against a real slapd."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from security.messages import message
from tests.directory.conftest import ALICE, BOB, dn_of
from tests.support import events_of, totp_code
from tests.support.ldap import Slapd, needs_slapd

pytestmark = needs_slapd


def _user(login: str) -> Any:
    from security.accounts import find_by_login

    return find_by_login(login)


def test_a_directory_user_signs_in_with_the_directory_password_and_is_created(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    assert _user("alice") is None
    response = client.post("/login", data={"login": "alice", "password": ALICE.password})
    assert response.status_code == 303
    user = _user("alice")
    assert user.source == "directory" and user.directory_dn == dn_of("alice")
    assert (user.email, user.name, user.last_name) == ("alice@example.com", "Alice", "Archer")
    assert ALICE.password not in user.password_hash  # never stored
    assert client.get("/my/").status_code == 200


@pytest.mark.parametrize("password", ["wrong-password-1", "bob-directory-pass"])
def test_a_wrong_password_is_refused(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any, password: str
) -> None:
    use_directory(slapd)
    response = client.post("/login", data={"login": "alice", "password": password})
    assert response.status_code == 200
    assert message("login.invalid") in response.get_data(as_text=True)
    assert _user("alice") is None


def test_an_empty_password_is_refused_before_any_bind(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    from models import utcnow
    from security import directory

    use_directory(slapd)
    response = client.post("/login", data={"login": "alice", "password": ""})
    assert response.status_code in (200, 400)
    assert _user("alice") is None
    # With the directory gone, an empty password is still just refused: no bind was tried
    # (an empty-password bind would be an anonymous "success").
    slapd.stop()
    assert directory.check_sign_in_password(None, "alice", "", now=utcnow(), ip="t") == (
        None,
        False,
    )
    from integrations import ldap

    assert not ldap.password_matches(directory.load_settings().connection(), dn_of("alice"), "")


@pytest.mark.parametrize("login", ["*)(uid=*", "\\00", "alice\x00", "*", "al*", "alice)(|(uid=*"])
def test_filter_injection_in_the_login_is_refused(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any, login: str
) -> None:
    from extensions import db
    from models import User

    use_directory(slapd)
    response = client.post("/login", data={"login": login, "password": ALICE.password})
    assert response.status_code in (200, 400)
    assert client.get("/my/").status_code == 302
    assert db.session.query(User).count() == 0


def test_the_second_step_applies_to_directory_users(
    app: Flask,
    client: FlaskClient,
    slapd: Slapd,
    use_directory: Any,
    two_step_on: Any,
    connect_device: Any,
) -> None:
    use_directory(slapd)
    assert (
        client.post("/login", data={"login": "alice", "password": ALICE.password}).status_code
        == 303
    )
    client.post("/logout")
    two_step_on()
    connect_device(_user("alice"))
    response = client.post("/login", data={"login": "alice", "password": ALICE.password})
    assert response.headers["Location"].endswith("/login/otp")
    assert client.get("/my/").status_code == 302
    response = client.post("/login/otp", data={"code": totp_code()})
    assert response.status_code == 303
    assert client.get("/my/").status_code == 200


def test_directory_down_mid_run_tells_directory_users_and_lets_a_local_admin_in(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any, admin: Any
) -> None:
    use_directory(slapd)
    assert client.post("/login", data={"login": "bob", "password": BOB.password}).status_code == 303
    client.post("/logout")
    slapd.stop()
    response = client.post("/login", data={"login": "bob", "password": BOB.password})
    assert response.status_code == 200
    assert message("directory.unavailable") in response.get_data(as_text=True)
    assert [event.subject_login for event in events_of("directory_unavailable")] == ["bob"]
    other = app.test_client()
    assert (
        other.post(
            "/login", data={"login": "admin", "password": "correct horse battery"}
        ).status_code
        == 303
    )
    assert other.get("/admin/").status_code == 200


def test_a_directory_user_is_not_offered_the_password_change(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    client.post("/login", data={"login": "alice", "password": ALICE.password})
    page = client.get("/my/security").get_data(as_text=True)
    assert 'name="new_password"' not in page
    response = client.post(
        "/my/security/password",
        data={
            "current_password": ALICE.password,
            "new_password": "a-new-password-1",
            "new_password_confirm": "a-new-password-1",
        },
    )
    assert response.status_code in (400, 403)
    assert message("directory.password_elsewhere") in response.get_data(as_text=True)


def test_certificates_are_checked_and_ldaps_works(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any, tmp_path: Any
) -> None:
    from tests.support.ldap import make_tls_files

    other_ca = tmp_path / "other"
    other_ca.mkdir()
    wrong_ca, _cert, _key = make_tls_files(other_ca)
    use_directory(slapd, LDAP_CA_FILE=str(wrong_ca))
    response = client.post("/login", data={"login": "alice", "password": ALICE.password})
    assert message("directory.unavailable") in response.get_data(as_text=True)
    # The first address does not answer; the second, ldaps://, does.
    use_directory(slapd, LDAP_URL=f"ldap://127.0.0.1:1 {slapd.tls_url}")
    response = client.post("/login", data={"login": "alice", "password": ALICE.password})
    assert response.status_code == 303


def test_a_directory_user_confirms_a_sensitive_action_with_the_directory_password(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    client.post("/login", data={"login": "alice", "password": ALICE.password})
    response = client.post("/my/reauth", data={"password": "wrong-password-1", "next": "/my/"})
    assert response.status_code == 400
    response = client.post("/my/reauth", data={"password": ALICE.password, "next": "/my/"})
    assert response.status_code == 303
    assert [event.outcome for event in events_of("reauthenticated")] == ["failure", "success"]


def test_a_user_renamed_in_the_directory_signs_in_as_the_same_person(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    client.post("/login", data={"login": "alice", "password": ALICE.password})
    client.post("/logout")
    alice_id = _user("alice").id
    # A new login, and a new DN: the entry's entryUUID stays.
    slapd.modify(f"dn: {ALICE.dn}\nchangetype: modrdn\nnewrdn: uid=aarcher\ndeleteoldrdn: 1\n")
    response = client.post("/login", data={"login": "aarcher", "password": ALICE.password})
    assert response.status_code == 303
    assert _user("aarcher") is None  # no second account: the next sync renames her
    assert [event.subject_id for event in events_of("sign_in")] == [alice_id, alice_id]


def test_an_administrator_cannot_give_a_directory_user_a_console_password(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any, admin_client: FlaskClient
) -> None:
    use_directory(slapd)
    client.post("/login", data={"login": "alice", "password": ALICE.password})
    alice = _user("alice")
    page = admin_client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert message("directory.source_directory") in page
    response = admin_client.post(
        f"/admin/users/{alice.id}",
        data={
            "login": "alice",
            "email": alice.email,
            "name": alice.name,
            "last_name": alice.last_name,
            "groups": ["2"],
            "active": "y",
            "password": "chosen by the admin",
            "password_confirm": "chosen by the admin",
        },
    )
    assert response.status_code == 400
    shown = str(escape(message("directory.password_not_here")))
    assert shown in response.get_data(as_text=True)
    other = app.test_client()
    response = other.post("/login", data={"login": "alice", "password": "chosen by the admin"})
    assert response.status_code == 200


def test_a_plain_connection_without_tls_is_refused(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd, LDAP_START_TLS=False)
    response = client.post("/login", data={"login": "alice", "password": ALICE.password})
    assert message("directory.unavailable") in response.get_data(as_text=True)
    assert "without TLS" in events_of("directory_unavailable")[0].details
