"""The most sensitive administration actions ask for the password again after 10 minutes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from extensions import db
from models import ADMINISTRATORS_GROUP_ID, SavedFormLayout, User, utcnow
from security.form_layouts.arrangement import layout_from_entries
from security.form_layouts.entries import entries_from_layout
from security.form_layouts.storage import resolved_layout, save_layout
from security.otp_settings import current_parameters, load_settings
from tests.support import (
    DEFAULT_PASSWORD,
    LAYOUT_DIALOG,
    csrf_token_from,
    dialog_fields,
    make_sign_in_stale,
    otp_settings_form,
    sign_in,
    snapshot,
    user_named,
    with_changes,
)

DIALOG = LAYOUT_DIALOG
DEFAULT_DIALOG = DIALOG + "?scope=default&return_to=/admin/users"


def _reauth_next(response: Any) -> str | None:
    """Return the `next` of a redirect to the password page, or None for any other answer."""
    if response.status_code not in (302, 303):
        return None
    location = urlsplit(response.headers["Location"])
    if location.path != "/my/reauth":
        return None
    return parse_qs(location.query)["next"][0]


def _stored_rows() -> dict[str, Any]:
    # The visit itself moves the session's last-seen time and may log the refusal.
    return {k: v for k, v in snapshot().items() if k not in ("events", "user_sessions")}


def _groups_of(login: str) -> set[int]:
    user = user_named(login)
    assert user is not None
    return {group.id for group in user.groups}


def _password_hash(login: str) -> str:
    user = user_named(login)
    assert user is not None
    return user.password_hash


def _default_layouts() -> int:
    db.session.expire_all()
    return len(
        db.session.scalars(select(SavedFormLayout).where(SavedFormLayout.owner_id.is_(None))).all()
    )


def _save_default_layout(admin: User) -> None:
    layout = resolved_layout("user_edit", admin.id)
    entries = entries_from_layout(layout)
    for entry in entries:
        entry.visible = entry.id != "groups"
    save_layout(
        layout_from_entries("user_edit", entries),
        scope="default",
        actor=admin,
        now=utcnow(),
        ip="test",
    )
    db.session.commit()


@dataclass(frozen=True)
class Action:
    """One sensitive POST: how to prepare it, send it, where it returns and what it changes."""

    post: Callable[[FlaskClient, User], Any]
    back: Callable[[User], str]
    effect: Callable[[], object]
    prepare: Callable[[User], None] = lambda admin: None


def _edit(client: FlaskClient, user: User, **fields: Any) -> Any:
    data: dict[str, Any] = {
        "login": user.login,
        "email": user.email,
        "name": user.name,
        "last_name": user.last_name,
        "groups": [group.id for group in user.groups],
        "active": "y",
    }
    data.update(fields)
    return client.post(f"/admin/users/{user.id}", data=data)


def _employee() -> User:
    user = user_named("employee")
    assert user is not None
    return user


def _switch_on(admin: User) -> None:
    load_settings().enabled = True
    db.session.commit()


def _default_layout_post(client: FlaskClient, admin: User) -> Any:
    fields = with_changes(dialog_fields(client, DEFAULT_DIALOG), groups={"visible": None})
    return client.post(DIALOG, data={**fields, "scope": "default"})


ACTIONS = {
    "global switch on": Action(
        post=lambda client, admin: client.post("/admin/security/otp/enable"),
        back=lambda admin: "/admin/security/otp?tab=state",
        effect=lambda: load_settings().enabled,
    ),
    "global switch off": Action(
        prepare=_switch_on,
        post=lambda client, admin: client.post("/admin/security/otp/disable"),
        back=lambda admin: "/admin/security/otp?tab=state",
        effect=lambda: load_settings().enabled,
    ),
    "parameters tab": Action(
        post=lambda client, admin: client.post(
            "/admin/security/otp", data=otp_settings_form(max_attempts="7")
        ),
        back=lambda admin: "/admin/security/otp?tab=parameters",
        effect=lambda: current_parameters(load_settings()).max_attempts,
    ),
    "another user's password": Action(
        post=lambda client, admin: _edit(
            client,
            _employee(),
            password="a new long password",
            password_confirm="a new long password",
        ),
        back=lambda admin: f"/admin/users/{_employee().id}?tab=main",
        effect=lambda: _password_hash("employee"),
    ),
    "group membership": Action(
        post=lambda client, admin: _edit(
            client, _employee(), groups=[ADMINISTRATORS_GROUP_ID, *_groups_of("employee")]
        ),
        back=lambda admin: f"/admin/users/{_employee().id}?tab=main",
        effect=lambda: _groups_of("employee"),
    ),
    "new administrator": Action(
        post=lambda client, admin: client.post(
            "/admin/users/new",
            data={
                "login": "newadmin",
                "password": DEFAULT_PASSWORD,
                "password_confirm": DEFAULT_PASSWORD,
                "active": "y",
                "groups": [ADMINISTRATORS_GROUP_ID],
            },
        ),
        back=lambda admin: "/admin/users/new?tab=main",
        effect=lambda: user_named("newadmin") is not None,
    ),
    "everyone's default of a form": Action(
        post=_default_layout_post,
        back=lambda admin: DEFAULT_DIALOG,
        effect=_default_layouts,
    ),
    "deleting everyone's default of a form": Action(
        prepare=_save_default_layout,
        post=lambda client, admin: client.post(
            DIALOG + "/reset", data={"scope": "default", "return_to": "/admin/users"}
        ),
        back=lambda admin: DEFAULT_DIALOG,
        effect=_default_layouts,
    ),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_a_stale_sign_in_asks_for_the_password_before_a_sensitive_action(
    name: str, admin: User, admin_client: FlaskClient, employee: User
) -> None:
    action = ACTIONS[name]
    action.prepare(admin)
    before_effect = action.effect()
    make_sign_in_stale(admin.id)
    before = _stored_rows()

    response = action.post(admin_client, admin)
    back = action.back(admin)
    assert _reauth_next(response) == back, (response.status_code, response.headers)
    assert response.status_code == 303
    assert _stored_rows() == before
    assert action.effect() == before_effect
    # The page it comes back to is an ordinary GET.
    assert admin_client.get(back).status_code == 200

    again = admin_client.post("/my/reauth", data={"password": DEFAULT_PASSWORD, "next": back})
    assert again.status_code == 303 and again.headers["Location"] == back
    response = action.post(admin_client, admin)
    assert response.status_code == 303 and _reauth_next(response) is None
    assert action.effect() != before_effect


def test_ordinary_edits_from_a_stale_sign_in_are_not_asked(
    admin: User, admin_client: FlaskClient, employee: User
) -> None:
    make_sign_in_stale(admin.id)
    renamed = _edit(admin_client, employee, name="Renamed")
    assert renamed.status_code == 303 and _reauth_next(renamed) is None
    assert (user_named("employee") or employee).name == "Renamed"
    plain = admin_client.post(
        "/admin/users/new",
        data={
            "login": "plain",
            "password": DEFAULT_PASSWORD,
            "password_confirm": DEFAULT_PASSWORD,
            "active": "y",
        },
    )
    assert plain.status_code == 303 and _reauth_next(plain) is None
    assert user_named("plain") is not None
    fields = with_changes(dialog_fields(admin_client), groups={"visible": None})
    personal = admin_client.post(DIALOG, data={**fields, "scope": "personal"})
    assert personal.status_code == 303 and _reauth_next(personal) is None
    assert _default_layouts() == 0 and len(snapshot()["form_layouts"]) == 1


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_with_csrf_on_the_password_step_leads_back_to_a_working_form(app: Any, admin: User) -> None:
    browser = app.test_client()
    assert sign_in(browser, "admin").status_code == 303
    _switch_on(admin)
    make_sign_in_stale(admin.id)
    page = browser.get("/admin/security/otp?tab=state").get_data(as_text=True)
    refused = browser.post(
        "/admin/security/otp/disable", data={"csrf_token": csrf_token_from(page)}
    )
    back = _reauth_next(refused)
    assert back == "/admin/security/otp?tab=state"
    assert load_settings().enabled is True

    reauth = browser.get(refused.headers["Location"]).get_data(as_text=True)
    again = browser.post(
        "/my/reauth",
        data={"csrf_token": csrf_token_from(reauth), "password": DEFAULT_PASSWORD, "next": back},
    )
    assert again.headers["Location"] == back
    page = browser.get(back).get_data(as_text=True)
    done = browser.post("/admin/security/otp/disable", data={"csrf_token": csrf_token_from(page)})
    assert done.status_code == 303 and _reauth_next(done) is None
    db.session.expire_all()
    assert load_settings().enabled is False
