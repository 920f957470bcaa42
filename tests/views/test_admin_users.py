"""The users screens: create, edit, block, search, filter, paginate, and the events tab."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.support import (
    events_of,
    is_login_redirect,
    post_new_user,
    sign_in,
    snapshot,
    user_named,
)


def _group_ids(user: Any) -> list[int]:
    return [group.id for group in user.groups]


def _listed_ids(response: Any) -> list[int]:
    assert response.status_code == 200
    return [int(value) for value in re.findall(r'data-user-id="(\d+)"', response.get_data(True))]


def _edit(client: Any, user: Any, **fields: Any) -> Any:
    data: dict[str, Any] = {
        "login": user.login,
        "email": user.email,
        "name": user.name,
        "last_name": user.last_name,
        "groups": _group_ids(user),
    }
    if user.active:
        data["active"] = "y"
    data.update(fields)
    return client.post(f"/admin/users/{user.id}", data=data)


def test_create_a_user(admin: Any, admin_client: Any, app: Flask) -> None:
    from security.messages import message

    response = post_new_user(
        admin_client, "Jane.Doe", email="jane@example.com", name="Jane", last_name="Doe"
    )
    assert response.status_code == 303
    jane = user_named("jane.doe")
    assert response.headers["Location"].startswith(f"/admin/users/{jane.id}")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert message("user.created", login="Jane.Doe") in page
    assert (jane.login, jane.email, jane.full_name, jane.active) == (
        "Jane.Doe",
        "jane@example.com",
        "Jane Doe",
        True,
    )
    assert _group_ids(jane) == [2]
    assert jane.id in _listed_ids(admin_client.get("/admin/users"))
    [event] = [event for event in events_of("user_created") if event.subject_id == jane.id]
    assert event.actor_id == admin.id
    assert sign_in(app.test_client(), "jane.doe").status_code == 303


def test_every_user_is_in_employees(admin_client: Any) -> None:
    assert post_new_user(admin_client, "boss", groups=[1]).status_code == 303
    assert _group_ids(user_named("boss")) == [1, 2]
    assert post_new_user(admin_client, "blocked", active="").status_code == 303
    blocked = user_named("blocked")
    assert not blocked.active
    assert _group_ids(blocked) == [2]


def test_a_duplicate_login_is_refused_whatever_its_case(admin_client: Any, employee: Any) -> None:
    from security.messages import message

    before = snapshot()
    response = post_new_user(admin_client, "EMPLOYEE")
    assert response.status_code == 400
    assert message("user.login_taken") in response.get_data(as_text=True)
    assert snapshot() == before


def test_the_passwords_must_match(admin_client: Any) -> None:
    from security.messages import message

    response = post_new_user(admin_client, "newbie", password_confirm="something different")
    assert response.status_code == 400
    assert message("user.passwords_differ") in response.get_data(as_text=True)
    assert user_named("newbie") is None


def test_a_new_user_needs_a_password(admin_client: Any) -> None:
    from security.messages import message

    response = post_new_user(admin_client, "newbie", password="", password_confirm="")
    assert response.status_code == 400
    assert message("form.required") in response.get_data(as_text=True)
    assert user_named("newbie") is None


def test_rename_a_user(app: Flask, admin_client: Any, employee: Any) -> None:
    response = _edit(admin_client, employee, login="Employee.Two", name="Emma")
    assert response.status_code == 303
    renamed = user_named("employee.two")
    assert (renamed.id, renamed.login, renamed.name) == (employee.id, "Employee.Two", "Emma")
    assert user_named("employee") is None
    assert sign_in(app.test_client(), "EMPLOYEE.two").status_code == 303
    [event] = events_of("user_changed")
    assert "login" in event.details and "name" in event.details


def test_rename_to_a_taken_login_is_refused(
    admin_client: Any, employee: Any, make_user: Any
) -> None:
    from security.messages import message

    make_user("taken")
    before = snapshot()
    response = _edit(admin_client, employee, login="Taken")
    assert response.status_code == 400
    assert message("user.login_taken") in response.get_data(as_text=True)
    assert snapshot() == before
    # The same login in another case is the user's own: allowed.
    assert _edit(admin_client, employee, login="EMPLOYEE").status_code == 303
    assert user_named("employee").login == "EMPLOYEE"


def test_change_groups(admin_client: Any, employee: Any) -> None:
    from extensions import db
    from models import Group

    db.session.add(Group(id=3, name="Helpdesk", can_manage_otp=True))
    db.session.commit()
    assert _edit(admin_client, employee, groups=[3]).status_code == 303
    assert _group_ids(user_named("employee")) == [2, 3]
    assert _edit(admin_client, user_named("employee"), groups=[]).status_code == 303
    assert _group_ids(user_named("employee")) == [2]


def test_block_ends_the_sessions_and_unblock_lets_in_again(
    app: Flask, admin_client: Any, employee: Any
) -> None:
    browser = app.test_client()
    assert sign_in(browser, "employee").status_code == 303
    response = _edit(admin_client, employee, active="")
    assert response.status_code == 303
    assert not user_named("employee").active
    assert is_login_redirect(browser.get("/my/"))
    assert [event.subject_id for event in events_of("user_blocked")] == [employee.id]
    assert sign_in(app.test_client(), "employee").status_code == 200
    assert _edit(admin_client, user_named("employee"), active="y").status_code == 303
    assert events_of("user_unblocked")
    assert sign_in(app.test_client(), "employee").status_code == 303


def test_set_a_new_password(app: Flask, admin_client: Any, employee: Any) -> None:
    response = _edit(
        admin_client,
        employee,
        password="chosen by the admin",
        password_confirm="chosen by the admin",
    )
    assert response.status_code == 303
    assert sign_in(app.test_client(), "employee").status_code == 200
    assert sign_in(app.test_client(), "employee", "chosen by the admin").status_code == 303
    [event] = events_of("password_changed")
    assert event.subject_id == employee.id
    assert "chosen by the admin" not in event.details


def test_an_empty_password_keeps_the_old_one(app: Flask, admin_client: Any, employee: Any) -> None:
    assert (
        _edit(admin_client, employee, name="Same", password="", password_confirm="").status_code
        == 303
    )
    assert sign_in(app.test_client(), "employee").status_code == 303
    assert not events_of("password_changed")


def test_an_administrator_cannot_block_himself(admin: Any, admin_client: Any) -> None:
    from security.messages import message

    before = snapshot()
    response = _edit(admin_client, admin, active="")
    assert response.status_code == 400
    assert message("user.cannot_block_self") in response.get_data(as_text=True)
    assert snapshot() == before
    assert admin_client.get("/admin/").status_code == 200


def test_an_administrator_cannot_leave_administrators(admin: Any, admin_client: Any) -> None:
    from security.messages import message

    before = snapshot()
    response = _edit(admin_client, admin, groups=[2])
    assert response.status_code == 400
    assert message("user.cannot_drop_own_admin") in response.get_data(as_text=True)
    assert snapshot() == before
    assert admin_client.get("/admin/").status_code == 200


def test_search_by_login_name_and_email(admin_client: Any, make_user: Any) -> None:
    alice = make_user("alice", email="alice@corp.example", name="Alice")
    bob = make_user("bob", email="robert@home.example", name="Bobby")
    carol = make_user("carol_x", name="Carol")
    assert _listed_ids(admin_client.get("/admin/users?q=ALI")) == [alice.id]
    assert _listed_ids(admin_client.get("/admin/users?q=bobby")) == [bob.id]
    assert _listed_ids(admin_client.get("/admin/users?q=home.example")) == [bob.id]
    # LIKE wildcards are searched for literally.
    assert _listed_ids(admin_client.get("/admin/users?q=_x")) == [carol.id]
    assert _listed_ids(admin_client.get("/admin/users?q=%25")) == []
    assert admin_client.get("/admin/users?q=nobody").status_code == 200


def test_filter_by_group(admin: Any, admin_client: Any, employee: Any) -> None:
    assert _listed_ids(admin_client.get("/admin/users?group=1")) == [admin.id]
    assert _listed_ids(admin_client.get("/admin/users?group=2")) == [admin.id, employee.id]
    assert _listed_ids(admin_client.get("/admin/users?group=1&q=employee")) == []


def test_pagination(admin: Any, admin_client: Any, make_user: Any) -> None:
    from extensions import db
    from models import User

    for number in range(6):
        make_user(f"user{number}")
    every = list(db.session.scalars(select(User.id).order_by(User.id)))
    assert len(every) == 7
    pages = [_listed_ids(admin_client.get(f"/admin/users?per_page=3&page={n}")) for n in (1, 2, 3)]
    assert pages == [every[0:3], every[3:6], every[6:7]]
    page_two = admin_client.get("/admin/users?per_page=3&page=2").get_data(as_text=True)
    assert 'rel="next"' in page_two and 'rel="prev"' in page_two
    assert "7 in all" in page_two
    assert _listed_ids(admin_client.get("/admin/users?per_page=3&page=9")) == []


def test_the_events_tab_lists_that_users_events_newest_first(
    admin: Any, admin_client: Any, employee: Any, make_user: Any
) -> None:
    from extensions import db
    from models import utcnow
    from security import events

    other = make_user("other")
    start = utcnow() - timedelta(days=1)
    for minutes, kind in ((1, "sign_in"), (2, "sign_in_failed"), (3, "sign_out")):
        events.record(
            kind, now=start + timedelta(minutes=minutes), subject=employee, actor=employee
        )
    events.record("sign_in", now=start + timedelta(minutes=4), subject=other, actor=other)
    db.session.commit()
    page = admin_client.get(f"/admin/users/{employee.id}?tab=events").get_data(as_text=True)
    kinds = re.findall(r'<tr data-event-type="([a-z_]+)"', page)
    assert kinds == ["user_created", "sign_out", "sign_in_failed", "sign_in"]
    assert "other" not in re.findall(r"<td>([^<]*)</td>", page)


def test_an_unknown_user_is_404(admin_client: Any) -> None:
    assert admin_client.get("/admin/users/424242").status_code == 404
    assert admin_client.get("/admin/users/424242?tab=events").status_code == 404


def test_the_events_tab_is_paginated(admin_client: Any, employee: Any) -> None:
    from extensions import db
    from models import utcnow
    from security import events

    start = utcnow() - timedelta(days=1)
    for minutes in range(30):
        events.record("sign_in", now=start + timedelta(minutes=minutes), subject=employee)
    db.session.commit()
    first = admin_client.get(f"/admin/users/{employee.id}?tab=events").get_data(as_text=True)
    second = admin_client.get(f"/admin/users/{employee.id}?tab=events&events_page=2")
    rows = re.findall(r"<tr data-event-type=", second.get_data(as_text=True))
    assert first.count("<tr data-event-type=") == 20
    assert len(rows) == 11  # 30 sign-ins and the creation


def test_the_events_tab_links_to_older_events(admin_client: Any, employee: Any) -> None:
    from extensions import db
    from models import utcnow
    from security import events

    for _ in range(25):
        events.record(events.SIGN_IN_FAILED, now=utcnow(), subject=employee, outcome="failure")
    db.session.commit()
    page = admin_client.get(f"/admin/users/{employee.id}?tab=events").get_data(as_text=True)
    assert "events_page=2" in page
    older = admin_client.get(f"/admin/users/{employee.id}?tab=events&events_page=2")
    assert older.status_code == 200
    assert older.get_data(as_text=True).count('data-event-type="sign_in_failed"') >= 5
