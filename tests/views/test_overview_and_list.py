"""The overview's two-step counts and the user list's states and filter, on a seeded mix."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from extensions import db
from models import OtpDevice, utcnow
from security import two_step
from security.otp_settings import load_settings

ROW = re.compile(r'<tr data-user-id="(\d+)" data-otp-status="([a-z_]+)">')
COUNT = re.compile(r'<li data-otp-count="([a-z_]+)"><a href="([^"]+)"[^>]*><strong>(\d+)</strong>')


def _rows(response: Any) -> dict[int, str]:
    assert response.status_code == 200
    return {int(user_id): status for user_id, status in ROW.findall(response.get_data(True))}


@pytest.fixture
def mix(two_step_on: Any, make_user: Any, admin: Any, connect_device: Any) -> dict[str, Any]:
    """Users in every state; mandatory for the group Sales, so the administrators are not bound."""
    from models import Group

    sales = Group(name="Sales")
    db.session.add(sales)
    db.session.commit()
    two_step_on(mandatory=True, mandatory_groups=str(sales.id), mandatory_days=5)
    now = utcnow()
    users: dict[str, Any] = {"admin": admin}
    for login in (
        "active1",
        "active2",
        "disabled",
        "own_off",
        "temp_over",
        "pending",
        "overdue",
        "locked",
        "exempt",
        "outsider",
        "admin2",
    ):
        if login == "outsider":
            users[login] = make_user(login)
        elif login == "admin2":
            users[login] = make_user(login, admin=True)
        else:
            users[login] = make_user(login, group_ids=(sales.id,))
    for login in ("active1", "active2", "disabled", "own_off", "temp_over", "locked", "admin2"):
        connect_device(users[login], kind="hotp" if login == "active2" else "totp")
    # Under mandatory two-step only an administrator's switch-off with an end date
    # lets the password alone in; own_off switched theirs off "until re-enabled" before
    # two-step became mandatory, so the sign-in still asks for the code: active.
    two_step.disable(
        users["disabled"], days=3, now=now, actor=admin, ip="test", settings=load_settings()
    )
    own_off = two_step.device_of(users["own_off"].id)
    assert own_off is not None
    own_off.enabled = False
    two_step.disable(
        users["temp_over"], days=1, now=now, actor=admin, ip="test", settings=load_settings()
    )
    db.session.flush()
    device = two_step.device_of(users["temp_over"].id)
    assert device is not None
    device.disabled_until = now - timedelta(minutes=1)
    # admin2 is an administrator whose device is switched off.
    two_step.disable(
        users["admin2"], days=0, now=now, actor=admin, ip="test", settings=load_settings()
    )
    two_step.ensure_account(users["pending"].id).grace_deadline = now + timedelta(days=3)
    two_step.ensure_account(users["overdue"].id).grace_deadline = now - timedelta(days=1)
    two_step.ensure_account(users["locked"].id).locked_until = now + timedelta(minutes=5)
    exempt = two_step.ensure_account(users["exempt"].id)
    exempt.grace_deadline = now - timedelta(days=1)
    exempt.exempt_until = now + timedelta(days=5)
    db.session.commit()
    return users


EXPECTED = {
    "admin": "not_configured",
    "active1": "active",
    "active2": "active",
    "disabled": "disabled",
    "own_off": "active",
    "temp_over": "active",
    "pending": "pending",
    "overdue": "overdue",
    "locked": "locked",
    "exempt": "not_configured",
    "outsider": "not_configured",
    "admin2": "disabled",
}


def test_list_shows_each_users_state_like_status_of(mix: dict[str, Any], admin_client: Any) -> None:
    rows = _rows(admin_client.get("/admin/users"))
    assert rows == {mix[login].id: status for login, status in EXPECTED.items()}
    # The SQL states agree with the domain's own rule for every user.
    settings, now = load_settings(), utcnow()
    for user in mix.values():
        expected = two_step.status_of(
            user, settings, two_step.device_of(user.id), two_step.account_of(user.id), now
        )
        assert rows[user.id] == expected.value, user.login
    page = admin_client.get("/admin/users").get_data(True)
    assert 'name="otp"' in page and ">Two-step<" in page


@pytest.mark.parametrize(
    "status", ["not_configured", "active", "disabled", "pending", "overdue", "locked"]
)
def test_filter_by_state_is_sql(mix: dict[str, Any], admin_client: Any, status: str) -> None:
    wanted = {mix[login].id for login, value in EXPECTED.items() if value == status}
    rows = _rows(admin_client.get(f"/admin/users?otp={status}"))
    assert set(rows) == wanted
    assert set(rows.values()) <= {status}
    # Pages and the total follow the filter.
    if len(wanted) >= 2:
        response = admin_client.get(f"/admin/users?otp={status}&per_page=1&page=2")
        assert len(_rows(response)) == 1
        assert f"({len(wanted)} in all)" in response.get_data(True)


def test_filter_combines_with_group_and_search(mix: dict[str, Any], admin_client: Any) -> None:
    rows = _rows(admin_client.get("/admin/users?otp=unprotected&group=1"))
    assert set(rows) == {mix["admin"].id, mix["admin2"].id}
    rows = _rows(admin_client.get("/admin/users?otp=active&q=active2"))
    assert set(rows) == {mix["active2"].id}


def test_unknown_filter_value_is_a_400_not_a_500(mix: dict[str, Any], admin_client: Any) -> None:
    response = admin_client.get("/admin/users?otp=nonsense")
    assert response.status_code == 400


def test_list_states_cost_a_fixed_number_of_queries(
    mix: dict[str, Any], admin_client: Any, make_user: Any
) -> None:
    def count_queries(path: str) -> int:
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(str(args[2]))

        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert admin_client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return sum(1 for sql in statements if "CASE WHEN" in sql)

    few = count_queries("/admin/users")
    for index in range(10):
        make_user(f"extra{index}")
    assert count_queries("/admin/users") == few
    assert few <= 2


def test_overview_counts_and_links(mix: dict[str, Any], admin_client: Any) -> None:
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    page = response.get_data(True)
    counts = {name: (int(number), link) for name, link, number in COUNT.findall(page)}
    assert {name: number for name, (number, _) in counts.items()} == {
        "active": 4,
        "pending": 1,
        "overdue": 1,
        "disabled": 2,
        "locked": 1,
        "not_configured": 3,
        "admins_without": 2,
    }
    assert counts["active"][1] == "/admin/users?otp=active"
    assert counts["overdue"][1] == "/admin/users?otp=overdue"
    assert "group=1" in counts["admins_without"][1]
    assert "otp=unprotected" in counts["admins_without"][1]
    # Each link lists exactly the users it counts.
    for name, (number, link) in counts.items():
        listed = _rows(admin_client.get(link.replace("&amp;", "&")))
        assert len(listed) == number, name
    assert "Two-step authentication enabled" in page
    assert "TOTP" in page
    assert "Sales" in page and "5 days to connect" in page


def test_overview_counts_are_one_statement_that_does_not_grow(
    mix: dict[str, Any], admin_client: Any, make_user: Any
) -> None:
    def two_step_statements() -> list[str]:
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert admin_client.get("/admin/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return [sql for sql in statements if "count(" in sql and "two_step_accounts" in sql]

    touching = two_step_statements()
    assert len(touching) == 1
    # Counted from the small tables: no state computed user by user, which would join
    # every user to the device and account tables and group the results.
    assert "OUTER JOIN" not in touching[0].upper()
    assert "GROUP BY" not in touching[0].upper()
    for index in range(5):
        make_user(f"more{index}")
    assert len(two_step_statements()) == 1


def test_overview_when_two_step_is_off(admin_client: Any, employee: Any) -> None:
    page = admin_client.get("/admin/").get_data(True)
    assert "Two-step authentication disabled" in page
    counts = {name: int(number) for name, _, number in COUNT.findall(page)}
    assert counts["not_configured"] == 2
    assert counts["admins_without"] == 1
    assert counts["active"] == 0


def test_a_temporary_disable_ending_moves_the_counts(
    mix: dict[str, Any], admin_client: Any
) -> None:
    device = db.session.get(OtpDevice, two_step.device_of(mix["disabled"].id).id)
    device.disabled_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = admin_client.get("/admin/").get_data(True)
    counts = {name: int(number) for name, _, number in COUNT.findall(page)}
    # A switch-off "until re-enabled" has enabled false and a NULL end; one with an end in
    # the past is over, whatever the flag says.
    assert counts["active"] == 5
    assert counts["disabled"] == 1


def _states_by_rule(users: list[Any]) -> dict[int, str]:
    settings, now = load_settings(), utcnow()
    return {
        user.id: two_step.status_of(
            user, settings, two_step.device_of(user.id), two_step.account_of(user.id), now
        ).value
        for user in users
    }


def _check_sql_agrees_with_status_of(users: list[Any], admin_client: Any) -> None:
    """The overview's counts, the filter's rows and its totals all agree with status_of."""
    from security import status_read_model

    expected = _states_by_rule(users)
    settings, now = load_settings(), utcnow()
    counts = status_read_model.status_counts(settings, now)
    for status in two_step.Status:
        members = {user_id for user_id, value in expected.items() if value == status.value}
        assert counts[status.value] == len(members), status
        assert set(_rows(admin_client.get(f"/admin/users?otp={status.value}"))) == members
        assert status_read_model.count_in_state(status.value, settings, now) == len(members)
    assert counts["total"] == len(users)
    unprotected = {
        user.id
        for user in users
        if (device := two_step.device_of(user.id)) is None
        or not two_step.device_applies(
            device,
            mandatory=two_step.is_mandatory_for(user, settings, two_step.account_of(user.id), now),
            now=now,
        )
    }
    assert set(_rows(admin_client.get("/admin/users?otp=unprotected"))) == unprotected
    assert status_read_model.count_in_state("unprotected", settings, now) == len(unprotected)


def test_edge_states_agree_with_status_of(
    mix: dict[str, Any],
    admin_client: Any,
    make_user: Any,
    connect_device: Any,
    two_step_on: Any,
) -> None:
    """Locks over devices, exempt and locked together, two mandatory groups, overlaps."""
    from models import Group

    admin = mix["admin"]
    sales = db.session.scalar(select(Group).where(Group.name == "Sales"))
    support = Group(name="Support")
    db.session.add(support)
    db.session.commit()
    now = utcnow()
    both = make_user("both", group_ids=(sales.id, support.id))  # counted once
    only_support = make_user("only_support", group_ids=(support.id,))
    locked_disabled = make_user("locked_disabled", group_ids=(sales.id,))
    locked_admin = make_user("locked_admin", admin=True)
    locked_exempt = make_user("locked_exempt", group_ids=(sales.id,))
    exempt_over = make_user("exempt_over", group_ids=(sales.id,))
    lock_over = make_user("lock_over", group_ids=(sales.id,))
    for user in (locked_disabled, locked_admin):
        connect_device(user)
    two_step.disable(
        locked_disabled, days=2, now=now, actor=admin, ip="test", settings=load_settings()
    )
    for user in (locked_disabled, locked_admin, locked_exempt):
        two_step.ensure_account(user.id).locked_until = now + timedelta(minutes=5)
    account = two_step.ensure_account(locked_exempt.id)
    account.exempt_until = now + timedelta(days=1)
    account.grace_deadline = now - timedelta(days=1)
    # An exemption that ended and a lock that ended count for nothing.
    account = two_step.ensure_account(exempt_over.id)
    account.exempt_until = now - timedelta(minutes=1)
    account.grace_deadline = now - timedelta(days=1)
    account = two_step.ensure_account(lock_over.id)
    account.locked_until = now - timedelta(minutes=1)
    db.session.commit()
    two_step_on(mandatory=True, mandatory_groups=f"{sales.id},{support.id}")
    users = [*mix.values(), both, only_support, locked_disabled, locked_admin]
    users += [locked_exempt, exempt_over, lock_over]
    states = _states_by_rule(users)
    assert states[both.id] == states[only_support.id] == "pending"
    assert states[locked_disabled.id] == states[locked_admin.id] == "locked"
    assert states[exempt_over.id] == "overdue" and states[lock_over.id] == "pending"
    _check_sql_agrees_with_status_of(users, admin_client)
    # Mandatory for Employees, whom every user joins: the counts take a shortcut.
    two_step_on(mandatory=True, mandatory_groups="2")
    _check_sql_agrees_with_status_of(users, admin_client)
    two_step_on(mandatory=True, mandatory_groups=f"2,{support.id}")
    _check_sql_agrees_with_status_of(users, admin_client)
    # Mandatory switched off: deadlines no longer make anyone pending or overdue.
    two_step_on(mandatory=False)
    _check_sql_agrees_with_status_of(users, admin_client)
    # Two-step switched off for the console: devices and locks still show.
    settings = load_settings()
    settings.enabled = False
    db.session.commit()
    _check_sql_agrees_with_status_of(users, admin_client)
