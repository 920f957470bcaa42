"""A refusal is recorded once per client and window, with a count, not once per request
(issue 10, item 9): one client cannot fill the event log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from flask import Flask

from tests.support import events_of


def _guess(client: Any, number: int, address: str) -> int:
    response = client.post(
        "/login",
        data={"login": f"user{number}", "password": "a wrong guess"},
        environ_base={"REMOTE_ADDR": address},
    )
    return int(response.status_code)


def test_a_hundred_refused_requests_make_one_event_that_counts_them(
    app: Flask, admin_client: Any
) -> None:
    from security.messages import message

    client = app.test_client()
    statuses = [_guess(client, number, "192.0.2.1") for number in range(110)]
    assert statuses == [200] * 10 + [429] * 100
    [event] = events_of("rate_limited")
    assert (event.ip, event.outcome, event.count) == ("192.0.2.1", "refused", 100)
    assert event.subject_login == "user10"  # the first refusal's

    # A second address gets its own row.
    statuses = [_guess(client, number, "198.51.100.7") for number in range(12)]
    assert statuses == [200] * 10 + [429] * 2
    assert [(e.ip, e.count) for e in events_of("rate_limited")] == [
        ("192.0.2.1", 100),
        ("198.51.100.7", 2),
    ]

    # The event log shows the count, and so does its CSV.
    page = admin_client.get("/admin/events?type=rate_limited").get_data(as_text=True)
    assert message("events.repeated", count=100) in page
    assert message("events.repeated", count=2) in page
    rows = list(csv.reader(io.StringIO(admin_client.get("/admin/events.csv").get_data(True))))
    counts = {row[5]: row[-1] for row in rows[1:] if row[1] == "rate_limited"}
    assert counts == {"192.0.2.1": "100", "198.51.100.7": "2"}


def test_refused_pages_of_one_user_make_one_event(employee: Any, employee_client: Any) -> None:
    for _ in range(20):
        assert employee_client.get("/admin/users").status_code == 403
    [event] = events_of("access_denied")
    assert (event.actor_login, event.outcome, event.count) == ("employee", "refused", 20)
    assert event.details == "path=/admin/users; method=GET"


def test_refusals_count_per_type_address_actor_and_minute(app: Flask, make_user: Any) -> None:
    from extensions import db
    from models import utcnow
    from security import events

    alice = make_user("alice")
    bob = make_user("bob")
    start = utcnow()

    def refuse(at: timedelta, event_type: str = events.ACCESS_DENIED, **who: Any) -> None:
        events.record_refusal(event_type, now=start + at, **who)
        db.session.commit()

    refuse(timedelta(0), ip="192.0.2.1", actor=alice)
    refuse(timedelta(seconds=30), ip="192.0.2.1", actor=alice)
    refuse(timedelta(seconds=59), ip="192.0.2.1", actor=alice)
    refuse(timedelta(seconds=30), ip="192.0.2.1", actor=bob)  # another user behind the address
    refuse(timedelta(seconds=30), ip="192.0.2.2", actor=alice)  # another address
    refuse(timedelta(seconds=30), events.RATE_LIMITED, ip="192.0.2.1")  # another type
    refuse(timedelta(seconds=61), ip="192.0.2.1", actor=alice)  # the next window
    refuse(timedelta(seconds=62), ip="192.0.2.1", actor=alice)
    denied = [(e.actor_login, e.ip, e.count) for e in events_of(events.ACCESS_DENIED)]
    assert denied == [
        ("alice", "192.0.2.1", 3),
        ("bob", "192.0.2.1", 1),
        ("alice", "192.0.2.2", 1),
        ("alice", "192.0.2.1", 2),
    ]
    assert [(e.ip, e.count) for e in events_of(events.RATE_LIMITED)] == [("192.0.2.1", 1)]
