"""Application passwords (My page, the user's two-step tab) and API clients (administration).

An application password is shown once, stored as a keyed digest, accepted by the API and
never by the console's sign-in; it stops working when revoked, when its owner is blocked
and when the password changes (the owner is told). API clients get a key shown once.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.support import (
    DEFAULT_PASSWORD,
    events_of,
    make_sign_in_stale,
    sign_in,
    snapshot,
    user_named,
)

SHOWN = re.compile(r'<code class="app-password">([a-z ]+)</code>')
KEY_SHOWN = re.compile(r'<code class="api-key">([^<]+)</code>')


@pytest.fixture
def api_key(app: Flask, admin: Any) -> str:
    from extensions import db
    from models import utcnow
    from security import api_clients

    made = api_clients.create_client(
        "Mail server", ["validate"], "", now=utcnow(), actor=admin, ip="test"
    )
    db.session.commit()
    return made.key


def create(client: Any, name: str = "Thunderbird on the laptop") -> str:
    page = client.post("/my/security/app-passwords", data={"name": name})
    assert page.status_code == 200, page.get_data(as_text=True)
    match = SHOWN.search(page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    return match.group(1)


def check(client: Any, key: str, password: str, login: str = "employee") -> Any:
    answer = client.post(
        "/api/v1/validate",
        json={"login": login, "app_password": password},
        headers={"Authorization": f"Bearer {key}"},
        environ_base={"REMOTE_ADDR": "192.0.2.25"},
    )
    assert answer.status_code == 200
    return answer.get_json()


def test_a_new_password_is_shown_once_and_stored_as_a_keyed_digest(
    employee_client: Any, employee: Any
) -> None:
    from extensions import db
    from models import AppPassword

    password = create(employee_client)
    assert re.fullmatch(r"[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}", password)
    [row] = db.session.scalars(select(AppPassword)).all()
    assert row.name == "Thunderbird on the laptop"
    assert password.replace(" ", "") not in repr(snapshot())
    page = employee_client.get("/my/security/app-passwords").get_data(as_text=True)
    assert "Thunderbird on the laptop" in page
    assert password not in page and 'class="app-password"' not in page
    [event] = events_of("app_password_created")
    assert event.actor_id == employee.id and "Thunderbird" in event.details


def test_the_api_accepts_it_and_the_sign_in_form_refuses_it(
    app: Flask, employee_client: Any, api_key: str
) -> None:
    from security.messages import message

    password = create(employee_client)
    assert check(app.test_client(), api_key, password) == {
        "result": "accept",
        "reason": "app_password",
    }
    # Any spacing or case, as typed into a mail client.
    assert check(app.test_client(), api_key, password.upper().replace(" ", "-"))["result"] == (
        "accept"
    )
    browser = app.test_client()
    refused = sign_in(browser, "employee", password)
    assert refused.status_code == 200
    assert message("login.invalid") in refused.get_data(as_text=True)
    # Its last use: when, from where, by which client.
    page = employee_client.get("/my/security/app-passwords").get_data(as_text=True)
    assert "192.0.2.25" in page and "Mail server" in page
    assert [e.outcome for e in events_of("app_password_used")] == ["success", "success"]


def test_a_wrong_or_another_persons_password_is_rejected(
    app: Flask, employee_client: Any, make_user: Any, api_key: str
) -> None:
    password = create(employee_client)
    make_user("other")
    assert check(app.test_client(), api_key, password, login="other")["result"] == "reject"
    assert check(app.test_client(), api_key, "abcd efgh ijkl mnop")["result"] == "reject"
    assert check(app.test_client(), api_key, "short")["result"] == "reject"


def test_a_revoked_password_stops_working(app: Flask, employee_client: Any, api_key: str) -> None:
    from extensions import db
    from models import AppPassword

    password = create(employee_client)
    kept = create(employee_client, "Phone calendar")
    row_id = db.session.scalar(select(AppPassword.id).where(AppPassword.name.like("Thunder%")))
    answer = employee_client.post(f"/my/security/app-passwords/{row_id}/revoke")
    assert answer.status_code == 303
    assert check(app.test_client(), api_key, password)["result"] == "reject"
    assert check(app.test_client(), api_key, kept)["result"] == "accept"
    assert employee_client.post("/my/security/app-passwords/revoke-all").status_code == 303
    assert check(app.test_client(), api_key, kept)["result"] == "reject"
    assert len(events_of("app_password_revoked")) == 2


def test_someone_elses_password_cannot_be_revoked(
    app: Flask, employee_client: Any, make_user: Any
) -> None:
    from extensions import db
    from models import AppPassword

    create(employee_client)
    make_user("other")
    other = app.test_client()
    assert sign_in(other, "other").status_code == 303
    row_id = db.session.scalar(select(AppPassword.id))
    before = snapshot()
    assert other.post(f"/my/security/app-passwords/{row_id}/revoke").status_code == 303
    assert db.session.scalar(select(AppPassword.id)) == row_id
    assert snapshot()["app_passwords"] == before["app_passwords"]


def test_blocking_stops_them(
    app: Flask, employee_client: Any, employee: Any, admin: Any, api_key: str
) -> None:
    from extensions import db
    from models import utcnow
    from security import accounts

    password = create(employee_client)
    accounts.set_active(user_named("employee"), False, now=utcnow(), actor=admin, ip="test")
    db.session.commit()
    assert check(app.test_client(), api_key, password)["result"] == "reject"


def test_a_password_change_revokes_them_and_tells_the_owner(
    app: Flask, employee_client: Any, api_key: str
) -> None:
    from extensions import db
    from models import AppPassword, Notice

    password = create(employee_client)
    create(employee_client, "Phone")
    changed = employee_client.post(
        "/my/security/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": "a brand new passphrase",
            "new_password_confirm": "a brand new passphrase",
        },
    )
    assert changed.status_code == 303
    assert check(app.test_client(), api_key, password)["result"] == "reject"
    assert db.session.scalars(select(AppPassword)).all() == []
    kinds = [notice.kind for notice in db.session.scalars(select(Notice))]
    assert "app_passwords_revoked" in kinds
    page = employee_client.get("/my/notifications").get_data(as_text=True)
    assert 'data-notice-kind="app_passwords_revoked"' in page
    assert "2 application passwords stopped working" in page


def test_at_most_twenty(employee_client: Any) -> None:
    from extensions import db
    from models import AppPassword
    from security.messages import message

    for number in range(20):
        create(employee_client, f"Client {number}")
    before = snapshot()
    refused = employee_client.post("/my/security/app-passwords", data={"name": "One more"})
    assert refused.status_code == 400
    assert message("app_password.too_many", max=20) in refused.get_data(as_text=True)
    assert snapshot() == before
    assert len(db.session.scalars(select(AppPassword)).all()) == 20


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\x00name"])
def test_a_bad_name_is_refused_next_to_the_field(employee_client: Any, name: str) -> None:
    before = snapshot()
    refused = employee_client.post("/my/security/app-passwords", data={"name": name})
    assert refused.status_code == 400
    assert 'class="error"' in refused.get_data(as_text=True)
    assert snapshot() == before


def test_creating_one_needs_a_recent_sign_in(employee_client: Any, employee: Any) -> None:
    make_sign_in_stale(employee.id)
    answer = employee_client.post("/my/security/app-passwords", data={"name": "Mail"})
    assert answer.status_code == 303
    assert "/my/reauth" in answer.headers["Location"]


def test_the_administrator_sees_and_revokes_them_on_the_two_step_tab(
    app: Flask, employee_client: Any, employee: Any, admin_client: Any, api_key: str
) -> None:
    from extensions import db
    from models import AppPassword

    password = create(employee_client)
    tab = admin_client.get(f"/admin/users/{employee.id}?tab=otp").get_data(as_text=True)
    assert "Thunderbird on the laptop" in tab
    row_id = db.session.scalar(select(AppPassword.id))
    answer = admin_client.post(f"/admin/users/{employee.id}/app-passwords/{row_id}/revoke")
    assert answer.status_code == 303
    assert check(app.test_client(), api_key, password)["result"] == "reject"
    [event] = events_of("app_password_revoked")
    assert event.actor_login == "admin" and event.subject_login == "employee"
    create(employee_client, "Again")
    answer = admin_client.post(f"/admin/users/{employee.id}/app-passwords/revoke-all")
    assert answer.status_code == 303
    assert db.session.scalars(select(AppPassword)).all() == []


# --- API clients ------------------------------------------------------------------------


def test_an_administrator_makes_a_client_and_sees_its_key_once(
    app: Flask, admin_client: Any, employee: Any
) -> None:
    from extensions import db
    from models import ApiClient

    page = admin_client.post(
        "/admin/api-clients",
        data={"name": "VPN", "scopes": ["validate", "users:read"], "networks": "10.0.0.0/8\n"},
    )
    assert page.status_code == 200
    key = KEY_SHOWN.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    [client] = db.session.scalars(select(ApiClient)).all()
    assert client.scope_list == ["validate", "users:read"]
    assert client.network_list == ["10.0.0.0/8"]
    assert key not in repr(snapshot())
    listing = admin_client.get("/admin/api-clients").get_data(as_text=True)
    assert "VPN" in listing and key not in listing and "10.0.0.0/8" in listing
    answer = app.test_client().post(
        "/api/v1/validate",
        json={"login": "employee", "password": DEFAULT_PASSWORD},
        headers={"Authorization": f"Bearer {key}"},
        environ_base={"REMOTE_ADDR": "10.20.30.40"},
    )
    assert answer.get_json() == {"result": "accept", "reason": "no_second_step"}
    revoked = admin_client.post(f"/admin/api-clients/{client.id}/revoke")
    assert revoked.status_code == 303
    again = app.test_client().post(
        "/api/v1/validate",
        json={"login": "employee", "password": DEFAULT_PASSWORD},
        headers={"Authorization": f"Bearer {key}"},
        environ_base={"REMOTE_ADDR": "10.20.30.40"},
    )
    assert again.status_code == 401
    assert [e.type for e in events_of("api_client_created") + events_of("api_client_revoked")] == [
        "api_client_created",
        "api_client_revoked",
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "", "scopes": ["validate"]}, "api_client.name_required"),
        ({"name": "X", "scopes": []}, "api_client.scopes_required"),
        ({"name": "X", "scopes": ["admin"]}, None),
        ({"name": "X", "scopes": ["validate"], "networks": "10.0.0.0/33"}, None),
        ({"name": "X", "scopes": ["validate"], "networks": "not a network"}, None),
    ],
)
def test_bad_client_input_is_refused_and_changes_nothing(
    admin_client: Any, fields: dict[str, Any], problem: str | None
) -> None:
    from security.messages import message

    before = snapshot()
    page = admin_client.post("/admin/api-clients", data=fields)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'class="error"' in html
    assert 'class="api-key"' not in html
    if problem:
        assert message(problem) in html
    assert snapshot() == before


def test_revoking_an_unknown_client_changes_nothing(admin_client: Any) -> None:
    before = snapshot()
    assert admin_client.post("/admin/api-clients/999/revoke").status_code == 303
    assert snapshot() == before


def test_a_helpdesk_member_neither_manages_clients_nor_revokes_app_passwords(
    manager_client: Any, employee: Any, employee_client: Any
) -> None:
    from extensions import db
    from models import AppPassword

    create(employee_client)
    row_id = db.session.scalar(select(AppPassword.id))
    before = snapshot()
    assert manager_client.get("/admin/api-clients").status_code == 403
    assert manager_client.post("/admin/api-clients", data={"name": "X"}).status_code == 403
    revoke = f"/admin/users/{employee.id}/app-passwords/{row_id}/revoke"
    assert manager_client.post(revoke).status_code == 403
    assert snapshot()["app_passwords"] == before["app_passwords"]
    assert snapshot()["api_clients"] == []
    # Their view of the two-step tab does not list them either.
    tab = manager_client.get(f"/admin/users/{employee.id}/otp").get_data(as_text=True)
    assert "Thunderbird" not in tab
