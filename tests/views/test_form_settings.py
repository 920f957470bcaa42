"""The gear of admin forms: "Customize form appearance", reset, switch off and on."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from extensions import db
from models import Event, SavedFormLayout, User, utcnow
from security import events
from security.form_layouts.arrangement import LABEL_MAX
from security.messages import message
from tests.support import (
    LAYOUT_DIALOG,
    Auth,
    DialogForm,
    dialog_fields,
    event_types,
    key_of,
    with_changes,
)

DIALOG = LAYOUT_DIALOG


def user_page(client: FlaskClient, user: Any, tab: str = "main") -> str:
    response = client.get(f"/admin/users/{user.id}?tab={tab}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def tab_strip(html: str) -> list[str]:
    return re.findall(r'data-tab="([a-z_]+)"', html)


def layout_rows() -> list[SavedFormLayout]:
    return list(db.session.scalars(db.select(SavedFormLayout)))


@pytest.fixture
def other_admin_client(app: Any, make_user: Any) -> FlaskClient:
    make_user("other", admin=True)
    client = app.test_client()
    assert Auth(client).login("other").status_code == 303
    return client


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", DIALOG),
        ("post", DIALOG),
        ("post", DIALOG + "/reset"),
        ("post", DIALOG + "/disable"),
        ("post", DIALOG + "/enable"),
    ],
)
def test_employees_get_403_and_anonymous_users_sign_in(
    employee_client: FlaskClient, client: FlaskClient, method: str, path: str
) -> None:
    assert getattr(employee_client, method)(path, data={"scope": "default"}).status_code == 403
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert layout_rows() == []


@pytest.mark.parametrize("path", ["", "/reset", "/disable", "/enable"])
def test_unknown_form_is_404_with_a_message(admin_client: FlaskClient, path: str) -> None:
    method = admin_client.get if path == "" else admin_client.post
    response = method("/admin/form-settings/nope" + path, data={"scope": "personal"})
    assert response.status_code == 404
    assert message("layout.unknown_form") in response.get_data(as_text=True)
    assert layout_rows() == []


def test_the_user_form_has_a_gear_with_settings(admin_client: FlaskClient, admin: Any) -> None:
    html = user_page(admin_client, admin)
    assert tab_strip(html) == ["main", "groups", "personal", "otp", "events"]
    assert 'class="gear"' in html
    assert f'href="{DIALOG}?return_to=/admin/users/{admin.id}?tab%3Dmain"' in html
    # No custom settings yet: no switch in the menu.
    assert "Disable custom form settings" not in html
    dialog = admin_client.get(DIALOG).get_data(as_text=True)
    assert "Customize form appearance" in dialog
    assert "Set these settings for all users by default" in dialog


# --------------------------------------------------------------------------- personal


def test_hiding_the_otp_tab_for_oneself_leaves_other_admins_alone(
    admin_client: FlaskClient, other_admin_client: FlaskClient, admin: Any
) -> None:
    return_to = f"/admin/users/{admin.id}?tab=main"
    fields = dialog_fields(admin_client, f"{DIALOG}?return_to={return_to}")
    assert fields["return_to"] == return_to
    response = admin_client.post(DIALOG, data=with_changes(fields, otp={"visible": None}))
    assert response.status_code == 303
    assert response.headers["Location"] == return_to

    assert tab_strip(user_page(admin_client, admin)) == ["main", "groups", "personal", "events"]
    # ?tab=otp of a hidden tab falls back to the first tab.
    assert "panel-otp" not in user_page(admin_client, admin, "otp")
    assert "otp" in tab_strip(user_page(other_admin_client, admin))
    [row] = layout_rows()
    assert row.owner_id == admin.id
    assert json.loads(row.layout)["tabs"][3] == {"id": "otp", "hidden": True}
    assert event_types()[-1] == events.FORM_LAYOUT_SAVED


def test_rename_and_reorder_tabs_and_fields_with_a_section(
    admin_client: FlaskClient, other_admin_client: FlaskClient, admin: Any
) -> None:
    fields = dialog_fields(admin_client)
    response = admin_client.post(
        DIALOG, data={**fields, "action": "add-section-" + key_of(fields, "main", "")[5:-1]}
    )
    assert response.status_code == 200
    assert layout_rows() == []  # re-drawn, not saved
    parser = DialogForm()
    parser.feed(response.get_data(as_text=True))
    fields = dict(parser.fields)
    data = with_changes(
        fields,
        personal={"label": "About", "position": "0"},
        email={"label": "Mail", "tab": "personal"},
        name={"visible": None},
        **{"section-1": {"label": "Danger zone", "position": "3"}},
        active={"position": "4"},
    )
    data = with_changes(data, password={"position": "5"}, password_confirm={"position": "6"})
    assert admin_client.post(DIALOG, data=data).status_code == 303

    html = user_page(admin_client, admin, "personal")
    assert tab_strip(html) == ["personal", "main", "groups", "otp", "events"]
    assert '<a href="/admin/users/' in html and ">About</a>" in html
    personal = html.split('id="panel-personal"')[1].split("</section>")[0]
    assert 'name="last_name"' in personal and 'name="name"' not in personal
    assert ">Mail</label>" in personal and personal.index("last_name") < personal.index("Mail")
    main = html.split('id="panel-main"')[1].split("</section>")[0]
    assert main.index('name="login"') < main.index("Danger zone") < main.index('name="active"')

    other = user_page(other_admin_client, admin)
    assert tab_strip(other) == ["main", "groups", "personal", "otp", "events"]
    assert "Danger zone" not in other and ">E-mail</label>" in other


def test_move_up_redraws_without_saving(admin_client: FlaskClient) -> None:
    fields = dialog_fields(admin_client)
    number = key_of(fields, "events", "")[5:-1]
    response = admin_client.post(DIALOG, data={**fields, "action": f"tab-up-{number}"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.findall(r'data-layout-tab="([a-z]+)"', html) == [
        "main",
        "groups",
        "personal",
        "events",
        "otp",
    ]
    assert layout_rows() == []


def test_hidden_fields_keep_their_values_when_the_form_is_saved(
    admin_client: FlaskClient, make_user: Any
) -> None:
    person = make_user("person", email="p@example.org", name="Pat")
    fields = dialog_fields(admin_client)
    data = with_changes(fields, email={"visible": None}, groups={"visible": None})
    data = with_changes(data, active={"visible": None}, personal={"visible": None})
    assert admin_client.post(DIALOG, data=data).status_code == 303
    html = user_page(admin_client, person)
    for name in ("email", "groups", "active", "name", "last_name"):
        assert f'name="{name}"' not in html
    response = admin_client.post(f"/admin/users/{person.id}?tab=main", data={"login": "person2"})
    assert response.status_code == 303
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.login == "person2"
    assert (person.email, person.name, person.active) == ("p@example.org", "Pat", True)
    assert [group.id for group in person.groups] == [2]


def test_new_user_form_keeps_the_password_and_explains_the_otp_tab(
    admin_client: FlaskClient,
) -> None:
    fields = dialog_fields(admin_client)
    data = with_changes(fields, password={"visible": None}, active={"visible": None})
    assert admin_client.post(DIALOG, data=data).status_code == 303
    html = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="password"' in html and 'name="active"' not in html
    otp = admin_client.get("/admin/users/new?tab=otp").get_data(as_text=True)
    assert message("layout.otp_after_save") in otp
    response = admin_client.post(
        "/admin/users/new",
        data={
            "login": "fresh",
            "password": "long enough pw 1",
            "password_confirm": "long enough pw 1",
        },
    )
    assert response.status_code == 303
    fresh = db.session.scalar(db.select(User).where(User.login == "fresh"))
    assert fresh is not None and fresh.active


# --------------------------------------------------------------------------- default


def test_default_for_everyone_and_personal_beats_default(
    admin_client: FlaskClient, other_admin_client: FlaskClient, admin: Any
) -> None:
    fields = dialog_fields(other_admin_client)
    mine = with_changes(fields, events={"visible": None})
    assert other_admin_client.post(DIALOG, data=mine).status_code == 303

    fields = dialog_fields(admin_client)
    default = with_changes(fields, groups={"visible": None, "label": "Teams"})
    default["scope"] = "default"
    response = admin_client.post(DIALOG, data=default)
    assert response.status_code == 303
    assert "groups" not in tab_strip(user_page(admin_client, admin))
    # The other administrator has settings of their own: those win.
    assert tab_strip(user_page(other_admin_client, admin)) == [
        "main",
        "groups",
        "personal",
        "otp",
    ]
    [row] = [row for row in layout_rows() if row.owner_id is None]
    assert "default" in db.session.scalars(db.select(Event.details)).all()[-1]

    # The dialog for the default starts from the default.
    fields = dialog_fields(admin_client, DIALOG + "?scope=default")
    assert fields[key_of(fields, "groups", "label")] == "Teams"
    assert key_of(fields, "groups", "visible") not in fields


def test_disable_and_enable_custom_settings(admin_client: FlaskClient, admin: Any) -> None:
    fields = dialog_fields(admin_client)
    default = with_changes(fields, groups={"visible": None})
    default["scope"] = "default"
    admin_client.post(DIALOG, data=default)
    admin_client.post(DIALOG, data=with_changes(fields, otp={"visible": None}))
    html = user_page(admin_client, admin)
    assert tab_strip(html) == ["main", "groups", "personal", "events"]
    assert "Disable custom form settings" in html

    back = f"/admin/users/{admin.id}"
    response = admin_client.post(DIALOG + "/disable", data={"return_to": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    html = user_page(admin_client, admin)
    assert tab_strip(html) == ["main", "personal", "otp", "events"]  # the default's view
    assert "Enable custom form settings" in html

    assert admin_client.post(DIALOG + "/enable").status_code == 303
    assert tab_strip(user_page(admin_client, admin)) == ["main", "groups", "personal", "events"]
    types = event_types()
    assert events.FORM_LAYOUT_DISABLED in types and events.FORM_LAYOUT_ENABLED in types


def test_disable_without_settings_changes_nothing(admin_client: FlaskClient) -> None:
    response = admin_client.post(DIALOG + "/disable", follow_redirects=True)
    assert message("layout.no_personal") in response.get_data(as_text=True)
    assert layout_rows() == []
    assert events.FORM_LAYOUT_DISABLED not in event_types()


def test_reset_and_delete_the_default(
    admin_client: FlaskClient, other_admin_client: FlaskClient, admin: Any
) -> None:
    fields = dialog_fields(admin_client)
    default = with_changes(fields, groups={"visible": None})
    default["scope"] = "default"
    admin_client.post(DIALOG, data=default)
    admin_client.post(DIALOG, data=with_changes(fields, events={"visible": None}))
    assert len(layout_rows()) == 2
    dialog = admin_client.get(DIALOG).get_data(as_text=True)
    assert "Reset to the default layout" in dialog and "Delete the default settings" in dialog

    response = admin_client.post(DIALOG + "/reset", data={"scope": "personal"})
    assert response.status_code == 303
    assert tab_strip(user_page(admin_client, admin)) == ["main", "personal", "otp", "events"]
    response = admin_client.post(DIALOG + "/reset", data={"scope": "default"})
    assert response.status_code == 303
    assert layout_rows() == []
    for client in (admin_client, other_admin_client):
        assert tab_strip(user_page(client, admin)) == [
            "main",
            "groups",
            "personal",
            "otp",
            "events",
        ]
    assert event_types().count(events.FORM_LAYOUT_RESET) == 2
    response = admin_client.post(
        DIALOG + "/reset", data={"scope": "default"}, follow_redirects=True
    )
    assert message("layout.nothing_to_reset") in response.get_data(as_text=True)
    assert admin_client.post(DIALOG + "/reset", data={"scope": "everyone"}).status_code == 400


# --------------------------------------------------------------------------- refusals


def test_required_tabs_and_fields_cannot_be_hidden(admin_client: FlaskClient) -> None:
    fields = dialog_fields(admin_client)
    # The dialog itself offers no way: the boxes are disabled and sent as hidden inputs.
    assert fields[key_of(fields, "main", "visible")] == "y"
    assert fields[key_of(fields, "login", "visible")] == "y"
    data = with_changes(fields, main={"visible": None}, login={"visible": None})
    response = admin_client.post(DIALOG, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message("layout.required_tab", label="User") in html
    assert message("layout.required_field", label="Login") in html
    assert layout_rows() == []
    assert events.FORM_LAYOUT_SAVED not in event_types()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"tabs-99-id": "nope", "tabs-99-position": "9"}, message("layout.unknown_tab", id="nope")),
        (
            {"tabs-0-fields-99-id": "salary", "tabs-0-fields-99-position": "9"},
            message("layout.unknown_field", id="salary"),
        ),
        ({"tabs-1-position": "1"}, message("layout.duplicate_position", position=1)),
        ({"tabs-0-fields-1-position": "1"}, message("layout.duplicate_position", position=1)),
        ({"tabs-1-position": "two"}, message("layout.bad_position")),
        ({"tabs-1-label": "  "}, message("layout.label_empty", name="Groups")),
        (
            {"tabs-1-label": "x" * (LABEL_MAX + 1)},
            message("layout.label_too_long", name="Groups", max=LABEL_MAX),
        ),
        (
            {"tabs-0-fields-1-label": ""},
            message("layout.label_empty", name="E-mail"),
        ),
        (
            {"tabs-0-fields-1-tab": "events"},
            message("layout.tab_takes_no_fields", label="Security events"),
        ),
        ({"tabs-0-fields-1-tab": "nowhere"}, message("layout.unknown_tab", id="nowhere")),
        ({"scope": "everyone"}, message("layout.bad_scope")),
        ({"action": "explode"}, message("layout.malformed")),
        ({"tabs-7-fields-0-id": "email"}, message("layout.malformed")),
    ],
)
def test_bad_input_is_refused_without_change(
    admin_client: FlaskClient, change: dict[str, str], expected: str
) -> None:
    fields = dialog_fields(admin_client)
    assert fields["tabs-1-id"] == "groups" and fields["tabs-0-fields-1-id"] == "email"
    response = admin_client.post(DIALOG, data={**fields, **change})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert expected in html.replace("&#34;", '"').replace("&#39;", "'")
    assert message("layout.not_saved") in html
    assert layout_rows() == []
    assert events.FORM_LAYOUT_SAVED not in event_types()


def test_default_scope_by_a_forged_request_of_a_refused_save_changes_nothing(
    admin_client: FlaskClient,
) -> None:
    fields = dialog_fields(admin_client)
    before = with_changes(fields, groups={"visible": None})
    before["scope"] = "default"
    assert admin_client.post(DIALOG, data=before).status_code == 303
    stored = layout_rows()[0].layout
    broken = {**before, "tabs-2-label": ""}
    assert admin_client.post(DIALOG, data=broken).status_code == 400
    db.session.expire_all()
    assert layout_rows()[0].layout == stored


def test_unsafe_return_to_goes_to_the_form_home(admin_client: FlaskClient) -> None:
    fields = dialog_fields(admin_client)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = admin_client.post(DIALOG, data={**fields, "return_to": target})
        assert response.status_code == 303
        assert response.headers["Location"] == "/admin/users"


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_posts_without_csrf_token_change_nothing(app: Any, make_user: Any) -> None:
    from tests.support import csrf_token_from

    make_user("admin", admin=True)
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"login": "admin", "password": "correct horse battery", "csrf_token": token}
    )
    fields = dialog_fields(client)
    without = {k: v for k, v in fields.items() if k != "csrf_token"}
    assert client.post(DIALOG, data=without).status_code == 400
    assert client.post(DIALOG + "/reset", data={"scope": "personal"}).status_code == 400
    assert layout_rows() == []
    assert client.post(DIALOG, data=fields).status_code == 303
    assert len(layout_rows()) == 1


# --------------------------------------------------------------------------- stale layouts


def test_a_layout_saved_before_the_otp_tab_existed_still_shows_it(
    admin_client: FlaskClient, admin: Any
) -> None:
    old = {
        "version": 1,
        "tabs": [
            {"id": "main", "fields": [{"id": "login"}, {"id": "email"}]},
            {"id": "personal", "label": "About"},
            {"id": "groups"},
            {"id": "events"},
        ],
    }
    db.session.add(
        SavedFormLayout(
            form_id="user_edit", owner_id=admin.id, layout=json.dumps(old), updated_at=utcnow()
        )
    )
    db.session.commit()
    html = user_page(admin_client, admin, "otp")
    assert tab_strip(html) == ["main", "personal", "otp", "groups", "events"]
    assert 'id="panel-otp"' in html
    # Fields it did not know stand at their built-in places.
    assert 'name="password_confirm"' in html and 'name="name"' in html


def test_a_corrupt_stored_layout_never_breaks_the_page(
    admin_client: FlaskClient, admin: Any
) -> None:
    db.session.add(
        SavedFormLayout(
            form_id="user_edit",
            owner_id=None,
            layout='{"tabs": [7, {"id": 1}]',
            updated_at=utcnow(),
        )
    )
    db.session.commit()
    assert tab_strip(user_page(admin_client, admin)) == [
        "main",
        "groups",
        "personal",
        "otp",
        "events",
    ]
    assert admin_client.get(DIALOG + "?scope=default").status_code == 200


def test_the_two_step_settings_form_has_its_own_layout(admin_client: FlaskClient) -> None:
    url = "/admin/form-settings/otp_settings"
    fields = dialog_fields(admin_client, url + "?return_to=/admin/security/otp?tab%3Dparameters")
    assert fields[key_of(fields, "state", "visible")] == "y"  # the switch's tab is required
    data = with_changes(fields, issuer={"visible": None}, parameters={"label": "Options"})
    response = admin_client.post(url, data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/security/otp?tab=parameters"
    [row] = layout_rows()
    assert row.form_id == "otp_settings"
    # The user form is not touched by the settings form's layout.
    assert admin_client.get(DIALOG).status_code == 200
    assert "Options" not in admin_client.get(DIALOG).get_data(as_text=True)
