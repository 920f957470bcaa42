"""The security event log: filters, CSV export, and logins that try to forge lines."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from tests.support import events_of


def _types(response: Any) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<tr data-event-type="([a-z_]+)"', response.get_data(as_text=True))


@pytest.fixture
def history(admin: Any, employee: Any) -> None:
    """A few events on known days."""
    from extensions import db
    from security import events

    for day, kind, subject in (
        (1, "sign_in", employee),
        (2, "sign_in_failed", employee),
        (3, "sign_in", admin),
        (4, "user_blocked", employee),
    ):
        events.record(
            kind, now=datetime(2024, 5, day, 12, tzinfo=UTC), subject=subject, actor=admin
        )
    events.record(
        "sign_in_failed",
        now=datetime(2024, 5, 5, 23, 59, tzinfo=UTC),
        subject_login="Ghost",
        outcome="failure",
    )
    db.session.commit()


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_filter_by_type(admin_client: Any, history: None) -> None:
    assert _types(admin_client.get("/admin/events?type=sign_in_failed")) == [
        "sign_in_failed",
        "sign_in_failed",
    ]
    assert _types(admin_client.get("/admin/events?type=user_blocked")) == ["user_blocked"]


def test_filter_by_user(admin_client: Any, history: None) -> None:
    # As subject or as actor, whatever the case of the login typed.
    assert _types(admin_client.get("/admin/events?user=ghost")) == ["sign_in_failed"]
    employee_events = _types(
        admin_client.get("/admin/events?user=EMPLOYEE&since=2024-05-01&until=2024-05-31")
    )
    assert employee_events == ["user_blocked", "sign_in_failed", "sign_in"]


def test_filter_by_dates(admin_client: Any, history: None) -> None:
    assert _types(admin_client.get("/admin/events?since=2024-05-02&until=2024-05-03")) == [
        "sign_in",
        "sign_in_failed",
    ]
    # "Until" a day includes the whole of that day.
    assert _types(admin_client.get("/admin/events?since=2024-05-05&until=2024-05-05")) == [
        "sign_in_failed"
    ]
    assert _types(admin_client.get("/admin/events?until=2024-04-30")) == []


def test_the_log_is_newest_first_and_paginated(admin_client: Any, employee: Any) -> None:
    from extensions import db
    from security import events

    for minute in range(55):
        events.record("sign_in", now=datetime(2024, 6, 1, 10, minute, tzinfo=UTC), subject=employee)
    db.session.commit()
    first = admin_client.get("/admin/events?type=sign_in&until=2024-06-01").get_data(as_text=True)
    assert first.count("<tr data-event-type=") == 50
    assert first.index("10:54") < first.index("10:53")
    assert 'rel="next"' in first
    second = admin_client.get("/admin/events?type=sign_in&until=2024-06-01&page=2")
    assert len(_types(second)) == 5


def test_csv_has_a_header_and_the_filtered_rows(admin_client: Any, history: None) -> None:
    rows = _csv(admin_client.get("/admin/events.csv?type=sign_in&until=2024-12-31"))
    assert rows[0] == [
        "time_utc",
        "type",
        "outcome",
        "actor",
        "subject",
        "ip",
        "details",
        "count",
    ]
    assert [row[1] for row in rows[1:]] == ["sign_in", "sign_in"]
    assert rows[1][0] == "2024-05-03T12:00:00Z"


def test_csv_is_complete_beyond_one_page(admin_client: Any, employee: Any) -> None:
    from extensions import db
    from security import events

    for second in range(1200):
        events.record(
            "sign_in",
            now=datetime(2024, 6, 1, 10, second // 60, second % 60, tzinfo=UTC),
            subject=employee,
        )
    db.session.commit()
    rows = _csv(
        admin_client.get("/admin/events.csv?type=sign_in&since=2024-06-01&until=2024-06-01")
    )
    assert len(rows) == 1 + 1200
    assert len({row[0] for row in rows[1:]}) == 1200


def test_csv_neutralises_spreadsheet_formulas(admin_client: Any, client: Any) -> None:
    formulas = ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)"]
    for login in formulas:
        client.post("/login", data={"login": login, "password": "whatever it is"})
    rows = _csv(admin_client.get("/admin/events.csv?type=sign_in_failed"))
    subjects = sorted(row[4] for row in rows[1:])
    assert subjects == sorted("'" + login for login in formulas)
    for row in rows[1:]:
        assert all(cell[:1] not in ("=", "+", "-", "@") for cell in row)


def test_control_characters_cannot_forge_a_log_line(admin: Any, admin_client: Any) -> None:
    from extensions import db
    from models import utcnow
    from security import signin

    forged = "bob\r\n2024-01-01T00:00:00Z,sign_in,success,admin,admin,10.0.0.1,\x1b[2K\u2028x"
    signin.check_password(forged, "a wrong password", now=utcnow(), ip="192.0.2.9\nfake")
    db.session.commit()
    [event] = events_of("sign_in_failed")
    for text in (event.subject_login, event.ip, event.details):
        assert not re.search(r"[\x00-\x1f\x7f\u2028\u2029]", text), text
    page = admin_client.get("/admin/events").get_data(as_text=True)
    row = re.search(r'<tr data-event-type="sign_in_failed">(.*?)</tr>', page, re.S)
    assert row and "bob" in row.group(1)
    assert "\n2024-01-01" not in row.group(1)
    rows = _csv(admin_client.get("/admin/events.csv?type=sign_in_failed"))
    assert len(rows) == 2  # the header and the one attempt; no forged row
    assert rows[1][1] == "sign_in_failed"


def test_control_characters_in_a_rate_limited_login_are_neutralised(app: Flask) -> None:
    client = app.test_client()
    for _ in range(11):
        client.post("/login", data={"login": "x\r\nforged", "password": "p"})
    [event] = events_of("rate_limited")
    assert "\n" not in event.subject_login and "\r" not in event.subject_login


def test_the_event_log_is_for_administrators(employee_client: Any) -> None:
    assert employee_client.get("/admin/events").status_code == 403
    assert employee_client.get("/admin/events.csv").status_code == 403
