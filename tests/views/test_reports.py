"""The compliance report: the CSV of the user list's users and the counts per group."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from extensions import db
from models import utcnow
from security import remembered_computers, two_step
from security.otp_settings import load_settings

ROW = re.compile(r'<tr data-user-id="(\d+)" data-otp-status="([a-z_]+)">')
REPORT_ROW = re.compile(r'<tr data-report-group="(\d+)">(.*?)</tr>', re.DOTALL)
REPORT_CELL = re.compile(r'<td data-report-count="([a-z_]+)">(?:<a href="([^"]+)">)?(\d+)')
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
COLUMNS = [
    "login",
    "name",
    "email",
    "groups",
    "state",
    "method",
    "connected_at",
    "last_used_at",
    "grace_deadline",
    "exempt_until",
    "recovery_codes_left",
    "remembered_computers",
]
STATES = ["not_configured", "active", "disabled", "pending", "overdue", "locked"]
FORMULA = "=cmd|' /C calc'!A0"

EXPECTED = {
    "admin": "not_configured",
    "active1": "active",
    "active2": "active",
    "disabled": "disabled",
    "own_off": "active",
    "pending": "pending",
    "overdue": "overdue",
    "locked": "locked",
    "exempt": "not_configured",
    "outsider": "not_configured",
    "admin2": "disabled",
}
SALES = ("active1", "active2", "disabled", "own_off", "pending", "overdue", "locked", "exempt")


@pytest.fixture
def mix(two_step_on: Any, make_user: Any, admin: Any, connect_device: Any) -> dict[str, Any]:
    """Users in every state; mandatory for Sales, so the administrators are not bound."""
    from models import Group

    sales = Group(name="Sales")
    db.session.add(sales)
    db.session.commit()
    two_step_on(
        mandatory=True,
        mandatory_groups=str(sales.id),
        mandatory_days=5,
        allow_remember=True,
        remember_days=30,
    )
    now = utcnow()
    users: dict[str, Any] = {"admin": admin}
    for login in EXPECTED:
        if login == "admin":
            continue
        if login == "outsider":
            users[login] = make_user(login, name=FORMULA, email="outsider@example.test")
        elif login == "admin2":
            users[login] = make_user(login, admin=True)
        else:
            users[login] = make_user(login, group_ids=(sales.id,))
    for login in ("active1", "active2", "disabled", "own_off", "locked", "admin2"):
        connect_device(users[login], kind="hotp" if login == "active2" else "totp")
    settings = load_settings()
    two_step.disable(users["disabled"], days=3, now=now, actor=admin, ip="test", settings=settings)
    own_off = two_step.device_of(users["own_off"].id)
    assert own_off is not None
    own_off.enabled = False  # "until re-enabled", under mandatory two-step: still active
    two_step.disable(users["admin2"], days=0, now=now, actor=admin, ip="test", settings=settings)
    two_step.ensure_account(users["pending"].id).grace_deadline = now + timedelta(days=3)
    two_step.ensure_account(users["overdue"].id).grace_deadline = now - timedelta(days=1)
    two_step.ensure_account(users["locked"].id).locked_until = now + timedelta(minutes=5)
    exempt = two_step.ensure_account(users["exempt"].id)
    exempt.grace_deadline = now - timedelta(days=1)
    exempt.exempt_until = now + timedelta(days=5)
    remembered_computers.remember_computer(
        users["active1"], now=now, ip="test", user_agent="test", days=30
    )
    db.session.commit()
    users["sales"] = sales
    return users


def _list(client: Any, **query: Any) -> dict[int, str]:
    response = client.get("/admin/users", query_string={**query, "per_page": 200})
    assert response.status_code == 200
    return {int(user_id): state for user_id, state in ROW.findall(response.get_data(True))}


def _csv(client: Any, **query: Any) -> list[dict[str, str]]:
    response = client.get("/admin/reports/two-step.csv", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    reader = csv.reader(io.StringIO(response.get_data(True)))
    header = next(reader)
    assert header == COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def _by_login(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["login"]: row for row in rows}


def test_each_csv_row_has_the_state_the_user_list_shows(
    mix: dict[str, Any], admin_client: Any
) -> None:
    listed = _list(admin_client)
    rows = _by_login(_csv(admin_client))
    assert set(rows) == set(EXPECTED)
    for login, state in EXPECTED.items():
        assert listed[mix[login].id] == state, login
        assert rows[login]["state"] == listed[mix[login].id], login
    assert {row["state"] for row in rows.values()} == set(STATES)


def test_the_csv_is_an_attachment_named_with_the_date(
    mix: dict[str, Any], admin_client: Any
) -> None:
    response = admin_client.get("/admin/reports/two-step.csv")
    assert response.status_code == 200
    assert response.is_streamed
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"{utcnow():%Y-%m-%d}.csv" in disposition
    assert response.get_data(True).splitlines()[0] == ",".join(COLUMNS)


@pytest.mark.parametrize(
    "query",
    [
        *({"otp": state} for state in STATES),
        {"otp": "unprotected"},
        {"group": "sales"},
        {"group": "1"},
        {"q": "active"},
        {"q": "ctive"},
        {"otp": "active", "q": "active2"},
        {"otp": "unprotected", "group": "1"},
        {"otp": "not_configured", "group": "sales"},
    ],
)
def test_filters_give_the_users_of_the_list(
    mix: dict[str, Any], admin_client: Any, query: dict[str, str]
) -> None:
    if query.get("group") == "sales":
        query = {**query, "group": str(mix["sales"].id)}
    listed = _list(admin_client, **query)
    logins = {user.id: login for login, user in mix.items() if login in EXPECTED}
    rows = _csv(admin_client, **query)
    assert sorted(row["login"] for row in rows) == sorted(logins[i] for i in listed)
    assert all(row["state"] == listed[mix[row["login"]].id] for row in rows)


def test_an_unreadable_filter_is_refused_not_widened(
    mix: dict[str, Any], admin_client: Any
) -> None:
    for query in ({"otp": "nonsense"}, {"group": "\x00"}, {"q": "a\x00b"}):
        response = admin_client.get("/admin/reports/two-step.csv", query_string=query)
        assert response.status_code == 400
        assert "login,name" not in response.get_data(True)
        assert admin_client.get("/admin/reports", query_string=query).status_code == 400


def test_a_formula_in_a_name_is_neutralised(mix: dict[str, Any], admin_client: Any) -> None:
    row = _by_login(_csv(admin_client))["outsider"]
    assert row["name"] == "'" + FORMULA
    assert row["email"] == "outsider@example.test"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a",
        "Anna",
        "9",
        "=1+1",
        " =1",
        "\u00a0=cmd",
        "\uff1d1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\t",
        "é=",
        "Ω",
    ],
)
def test_every_cell_is_quoted_as_the_event_export_quotes_it(value: str) -> None:
    from blueprints.admin.reports import csv_cell
    from security.untrusted_text import spreadsheet_safe

    assert csv_cell(value) == spreadsheet_safe(value)


def test_cells_say_method_times_codes_and_computers(mix: dict[str, Any], admin_client: Any) -> None:
    rows = _by_login(_csv(admin_client))
    device = two_step.device_of(mix["active1"].id)
    assert device is not None
    active1 = rows["active1"]
    assert active1["method"] == "totp/mobile"
    assert rows["active2"]["method"] == "hotp/mobile"
    assert active1["connected_at"] == device.created_at.astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert ISO_UTC.match(active1["last_used_at"])
    assert active1["recovery_codes_left"] == "10"
    assert active1["remembered_computers"] == "1"
    assert active1["groups"] == f"Employees;{mix['sales'].name}"
    pending = two_step.account_of(mix["pending"].id)
    assert pending is not None and pending.grace_deadline is not None
    assert rows["pending"]["grace_deadline"] == f"{pending.grace_deadline:%Y-%m-%dT%H:%M:%SZ}"
    assert ISO_UTC.match(rows["overdue"]["grace_deadline"])
    assert ISO_UTC.match(rows["exempt"]["exempt_until"])
    # Nothing to say: empty cells, not "None".
    outsider = rows["outsider"]
    for column in ("method", "connected_at", "last_used_at", "grace_deadline", "exempt_until"):
        assert outsider[column] == "", column
    assert outsider["recovery_codes_left"] == "0"
    assert outsider["remembered_computers"] == "0"
    for row in rows.values():
        for column in ("connected_at", "last_used_at", "grace_deadline", "exempt_until"):
            assert row[column] == "" or ISO_UTC.match(row[column]), (row["login"], column)


def test_the_csv_is_read_in_batches_and_loses_no_one(
    mix: dict[str, Any], admin_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from security import reports

    whole = _csv(admin_client)
    monkeypatch.setattr(reports, "BATCH", 2)
    assert _csv(admin_client) == whole
    assert len(whole) == len(EXPECTED)


def _report(client: Any, **query: Any) -> dict[int, dict[str, tuple[int, str | None]]]:
    response = client.get("/admin/reports", query_string=query)
    assert response.status_code == 200
    found = {}
    for group_id, cells in REPORT_ROW.findall(response.get_data(True)):
        found[int(group_id)] = {
            name: (int(number), link.replace("&amp;", "&") if link else None)
            for name, link, number in REPORT_CELL.findall(cells)
        }
    return found


def test_the_report_counts_each_group_and_links_to_the_list(
    mix: dict[str, Any], admin_client: Any
) -> None:
    report = _report(admin_client)
    sales = mix["sales"].id
    assert set(report) == {1, 2, sales}
    wanted = {state: 0 for state in STATES}
    for login in SALES:
        wanted[EXPECTED[login]] += 1
    assert {state: report[sales][state][0] for state in STATES} == wanted
    assert report[sales]["total"][0] == len(SALES)
    assert report[sales]["exempt"] == (1, None)  # the list has no such filter
    assert report[1]["disabled"][0] == 1 and report[1]["not_configured"][0] == 1
    assert report[2]["total"][0] == len(EXPECTED)  # everyone is in Employees
    for group_id, cells in report.items():
        for state in STATES:
            number, link = cells[state]
            assert link == f"/admin/users?group={group_id}&otp={state}"
            # Each count links to exactly the users it counts.
            listed = _list(admin_client, group=group_id, otp=state)
            assert len(listed) == number, (group_id, state)
            assert set(listed.values()) <= {state}


def test_the_report_takes_the_lists_filters_and_links_its_csv(
    mix: dict[str, Any], admin_client: Any
) -> None:
    sales = mix["sales"].id
    report = _report(admin_client, group=sales, q="active")
    assert set(report) == {sales}
    assert report[sales]["active"][0] == 2 and report[sales]["total"][0] == 2
    link = report[sales]["active"][1]
    assert link is not None and "q=active" in link
    assert len(_list(admin_client, **dict(parse_qsl(urlsplit(link).query)))) == 2
    page = admin_client.get("/admin/reports", query_string={"group": sales, "q": "active"})
    html = page.get_data(True)
    assert f'href="/admin/reports/two-step.csv?q=active&amp;group={sales}"' in html
    assert 'href="/admin/reports"' in admin_client.get("/admin/").get_data(True)
    # Bars drawn without a style attribute (the Content-Security-Policy forbids them).
    assert '<rect class="bar-active"' in html and "style=" not in html


def test_an_employee_gets_403(mix: dict[str, Any], employee_client: Any) -> None:
    assert employee_client.get("/admin/reports").status_code == 403
    assert employee_client.get("/admin/reports/two-step.csv").status_code == 403


def test_a_manager_of_one_time_passwords_may_open_it(
    mix: dict[str, Any], manager_client: Any
) -> None:
    response = manager_client.get("/admin/reports")
    assert response.status_code == 200
    assert "Sales" in response.get_data(True)
    rows = _by_login(_csv(manager_client))
    assert rows["locked"]["state"] == "locked"
    assert "helpdesk" in rows


def test_statements_do_not_grow_with_the_users(
    mix: dict[str, Any], admin_client: Any, make_user: Any
) -> None:
    from sqlalchemy import event

    def statements(path: str) -> int:
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            response = admin_client.get(path)
            assert response.status_code == 200
            response.get_data()  # the CSV is read while it streams
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(seen)

    before = {path: statements(path) for path in ("/admin/reports", "/admin/reports/two-step.csv")}
    for index in range(10):
        make_user(f"more{index}")
    after = {path: statements(path) for path in before}
    assert after == before
