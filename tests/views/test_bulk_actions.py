"""Bulk actions on the user list: a confirmation page first, then exactly the confirmed change."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from extensions import db
from models import Group, Notice, TwoStepAccount, utcnow
from security import events, two_step
from security.messages import message
from tests.support import events_of, make_sign_in_stale, sign_in, snapshot

BULK = "/admin/users/bulk"


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _hidden(page: str, name: str) -> list[str]:
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)


def _device(user: Any) -> Any:
    db.session.expire_all()
    return two_step.device_of(user.id)


def _lock(*users: Any) -> None:
    for user in users:
        two_step.ensure_account(user.id).locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()


def _locked(user: Any) -> bool:
    db.session.expire_all()
    return two_step.is_locked(two_step.account_of(user.id), utcnow())


@pytest.fixture
def people(make_user: Any, connect_device: Any, two_step_on: Any) -> dict[str, Any]:
    """alice and carol with a device, bob without one, dave with one (never selected)."""
    two_step_on()
    found = {name: make_user(name) for name in ("alice", "bob", "carol", "dave")}
    for name in ("alice", "carol", "dave"):
        connect_device(found[name])
    return found


def test_the_confirmation_page_says_who_changes_and_who_is_refused_and_changes_nothing(
    admin_client: Any, people: dict[str, Any]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    before = snapshot()
    response = admin_client.post(
        BULK,
        data={"action": "disable", "days": "3", "user_ids": [alice.id, bob.id, carol.id]},
    )
    assert response.status_code == 200
    page = _text(response)
    assert message("bulk.will_change", count=2, what=message("bulk.what.disable", days=3)) in page
    assert f'<li data-user-id="{alice.id}">alice</li>' in page
    assert f'<li data-user-id="{carol.id}">carol</li>' in page
    # bob has no device: refused, with the domain's own reason.
    assert re.search(
        rf'<tr data-user-id="{bob.id}" data-refusal="otp.no_device"><td>bob</td>'
        rf"<td>{re.escape(message('otp.no_device'))}</td>",
        page,
    )
    assert f'data-user-id="{people["dave"].id}"' not in page
    # The form confirms the same action over the same selection.
    assert _hidden(page, "confirmed") == ["1"]
    assert _hidden(page, "action") == ["disable"] and _hidden(page, "days") == ["3"]
    assert sorted(map(int, _hidden(page, "user_ids"))) == sorted([alice.id, bob.id, carol.id])
    assert snapshot() == before


def test_confirmed_exactly_the_confirmed_users_change_one_event_each(
    admin_client: Any, people: dict[str, Any]
) -> None:
    alice, bob, carol, dave = (people[name] for name in ("alice", "bob", "carol", "dave"))
    response = admin_client.post(
        BULK,
        data={
            "action": "disable",
            "days": "3",
            "user_ids": [alice.id, bob.id, carol.id],
            "confirmed": "1",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    for user in (alice, carol):
        device = _device(user)
        assert device is not None and not device.enabled and device.disabled_until is not None
    assert _device(dave).enabled  # not selected
    assert _device(bob) is None
    disabled = events_of(events.OTP_DISABLED)
    assert sorted(event.subject_login for event in disabled) == ["alice", "carol"]
    page = _text(admin_client.get("/admin/users"))
    assert message("bulk.done", changed=2, refused=1) in page
    assert (
        message("bulk.refused_line", reason=message("otp.no_device"), count=1, users="bob") in page
    )


def test_all_matching_acts_on_every_page_of_the_filter_and_on_nobody_else(
    app: Flask, admin_client: Any, make_user: Any, two_step_on: Any
) -> None:
    two_step_on()
    sales = Group(name="Sales")
    db.session.add(sales)
    db.session.commit()
    members = [make_user(f"sales{number:03d}", group_ids=(sales.id,)) for number in range(120)]
    others = [make_user(f"other{number}") for number in range(3)]
    listing = _text(admin_client.get(f"/admin/users?group={sales.id}&per_page=50"))
    assert listing.count('name="user_ids"') == 50  # one page of the list shows 50
    assert message("bulk.all_matching", count=120) in listing

    form = {"action": "defer", "days": "7", "all_matching": "1", "group": str(sales.id)}
    page = _text(admin_client.post(BULK, data=form))
    assert message("bulk.will_change", count=120, what=message("bulk.what.defer", days=7)) in page
    assert _hidden(page, "all_matching") == ["1"] and _hidden(page, "group") == [str(sales.id)]

    response = admin_client.post(BULK, data={**form, "confirmed": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users?group={sales.id}"
    db.session.expire_all()
    deadlines = dict(
        db.session.execute(select(TwoStepAccount.user_id, TwoStepAccount.grace_deadline)).all()
    )
    assert all(deadlines.get(member.id) is not None for member in members)
    assert all(other.id not in deadlines for other in others)
    assert len(events_of(events.OTP_GRACE_EXTENDED)) == 120


def test_a_manager_of_one_time_passwords_cannot_act_on_administrators(
    manager_client: Any, make_user: Any, connect_device: Any, two_step_on: Any
) -> None:
    two_step_on()
    boss = make_user("boss", admin=True)
    worker = make_user("worker")
    for user in (boss, worker):
        connect_device(user)
    _lock(boss, worker)
    data = {"action": "unlock", "user_ids": [boss.id, worker.id]}
    page = _text(manager_client.post(BULK, data=data))
    assert 'data-refusal="bulk.refused_administrator"><td>boss</td>' in page
    assert message("bulk.refused_administrator") in page

    assert manager_client.post(BULK, data={**data, "confirmed": "1"}).status_code == 303
    assert not _locked(worker)
    assert _locked(boss)
    assert [event.subject_login for event in events_of(events.OTP_UNLOCKED)] == ["worker"]


def test_nobody_extends_their_own_mandatory_grace_in_bulk(
    admin: Any, admin_client: Any, people: dict[str, Any], two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_groups="2")
    data = {"action": "defer", "days": "5", "user_ids": [admin.id, people["bob"].id]}
    page = _text(admin_client.post(BULK, data=data))
    assert 'data-refusal="otp.own_mandatory"><td>admin</td>' in page
    assert admin_client.post(BULK, data={**data, "confirmed": "1"}).status_code == 303
    extended = events_of(events.OTP_GRACE_EXTENDED)
    assert [(e.subject_login, e.outcome) for e in extended] == [
        ("admin", events.REFUSED),  # on record, as on the tab
        ("bob", events.SUCCESS),
    ]
    page = _text(admin_client.get("/admin/users"))
    assert message("bulk.done", changed=1, refused=1) in page
    assert message("otp.own_mandatory") in page


def test_remind_tells_the_users_who_must_connect_and_refuses_the_others(
    app: Flask, admin_client: Any, people: dict[str, Any], two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_groups="2")
    alice, bob = people["alice"], people["bob"]
    deadline = utcnow() + timedelta(days=4)
    two_step.ensure_account(bob.id).grace_deadline = deadline
    db.session.commit()
    data = {"action": "remind", "user_ids": [alice.id, bob.id]}
    page = _text(admin_client.post(BULK, data=data))
    assert 'data-refusal="bulk.refused_has_device"><td>alice</td>' in page
    assert admin_client.post(BULK, data={**data, "confirmed": "1"}).status_code == 303
    db.session.expire_all()
    notices = db.session.scalars(select(Notice).where(Notice.kind == "connect_reminder")).all()
    assert [notice.user_id for notice in notices] == [bob.id]
    # bob reads it on My page, with his deadline.
    browser = app.test_client()
    assert sign_in(browser, "bob").status_code == 303
    shown = _text(browser.get("/my/notifications"))
    assert message("notice.connect_reminder.subject") in shown
    assert 'data-notice-kind="connect_reminder"' in shown


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"action": "explode"}, "Not a valid choice."),
        ({"action": "disable", "days": "31"}, message("otp.disable_days", max=30)),
        ({"action": "disable", "days": "-1"}, message("form.days_number")),
        ({"action": "defer", "days": "0"}, message("otp.defer_days")),
        ({"action": "defer"}, message("form.required")),
        ({"action": "exempt", "until": "2026-02-30"}, "Not a valid date value."),
        ({"action": "exempt", "until": "2001-01-01"}, message("otp.exempt_past")),
        ({"action": "exempt"}, message("form.required")),
        ({"action": "unlock", "user_ids": ["1", "two"]}, message("bulk.bad_ids")),
        ({"action": "unlock", "user_ids": ["9" * 20]}, message("bulk.bad_ids")),
        ({"action": "unlock", "user_ids": []}, message("bulk.nothing_selected")),
        ({"action": "unlock", "user_ids": ["999999"]}, message("bulk.nothing_selected")),
        (
            {"action": "unlock", "user_ids": [], "all_matching": "yes"},
            message("bulk.nothing_selected"),
        ),
        ({"action": "x" * 10_000}, "Not a valid choice."),
        (
            {"action": "unlock", "all_matching": "1", "q": "x" * 10_000},
            message("form.too_long", max=100),
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    admin_client: Any, people: dict[str, Any], data: dict[str, Any], expected: str
) -> None:
    _lock(people["alice"])
    data = {"user_ids": [people["alice"].id], **data, "confirmed": "1"}
    before = snapshot()
    response = admin_client.post(BULK, data=data)
    assert response.status_code == 400
    assert expected in _text(response)
    assert snapshot() == before


def test_switching_off_in_bulk_asks_for_a_recent_sign_in(
    admin: Any, admin_client: Any, people: dict[str, Any]
) -> None:
    make_sign_in_stale(admin.id)
    before = snapshot()
    data = {"action": "disable", "days": "1", "user_ids": [people["alice"].id], "confirmed": "1"}
    response = admin_client.post(BULK, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/my/reauth")
    assert snapshot() == before
    assert _device(people["alice"]).enabled


def test_an_employee_gets_403_and_nothing_changes(
    employee_client: Any, people: dict[str, Any]
) -> None:
    before = snapshot()
    data = {"action": "delete_device", "user_ids": [people["alice"].id], "confirmed": "1"}
    assert employee_client.post(BULK, data=data).status_code == 403
    assert _device(people["alice"]) is not None
    assert [row for row in snapshot()["events"] if row not in before["events"]]  # access_denied
    assert {k: v for k, v in snapshot().items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }
