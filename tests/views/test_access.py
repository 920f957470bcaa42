"""One access matrix over every route of the url map: anonymous, employee, administrator."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from tests.support import Route, events_of, inventory_token_id, iter_routes, sign_in, snapshot

# Pages anyone may open without signing in.
# The API's description: public, as a service's author reads it before holding a key.
API_DOCUMENTS = {"api-docs.openapi_json", "api_pages.docs"}


def is_api(route: Route) -> bool:
    return route.path.startswith("/api/v1/")


PUBLIC_GETS = {"auth.login", "health.healthz", "health.readyz", "metrics.scrape"}


@pytest.fixture
def path_values(admin: Any, employee: Any, app: Flask) -> dict[str, object]:
    """Real values for the url map's arguments: a real user, a real session, a real form."""
    from extensions import db
    from models import UserSession

    client = app.test_client()
    assert sign_in(client, "admin").status_code == 303
    session_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == admin.id))
    return {
        "user_id": employee.id,
        "session_id": session_id,
        "form_id": "user_edit",
        "token_id": inventory_token_id(),
        "password_id": 1,
        "client_id": 1,
        "login": "employee",
    }


def _routes(app: Flask, values: dict[str, object]) -> list[Route]:
    routes = list(iter_routes(app, values))
    assert any(route.path.startswith("/admin/") for route in routes)
    return routes


def _request(client: Any, route: Route) -> Any:
    return client.open(route.path, method=route.method)


def test_anonymous_is_sent_to_the_login_page_with_next(
    app: Flask, client: Any, path_values: dict[str, object]
) -> None:
    checked = 0
    for route in _routes(app, path_values):
        response = _request(client, route)
        where = f"{route.method} {route.path}"
        if route.endpoint in PUBLIC_GETS and route.method == "GET":
            assert response.status_code == 200, where
            continue
        if is_api(route):
            # The API has no sign-in page: its operations want a client key (401).
            expected = 200 if route.endpoint in API_DOCUMENTS else 401
            assert response.status_code == expected, where
            assert "Location" not in response.headers, where
            continue
        if route.endpoint.startswith("auth."):
            if route.endpoint == "auth.login":
                continue  # POST /login is the sign-in itself
            if route.endpoint == "auth.choose_language":
                # A visitor's language switch: back to the sign-in page, signed out still.
                assert response.status_code == 303, where
                assert urlsplit(response.headers["Location"]).path == "/login", where
                continue
            # The other sign-in steps and logout go back to the first step.
            assert response.status_code == 302, where
            assert urlsplit(response.headers["Location"]).path == "/login", where
            continue
        assert response.status_code == 302, where
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login", where
        assert parse_qs(location.query)["next"] == [route.path], where
        checked += 1
    assert checked >= 10


def test_employee_gets_403_on_every_admin_route(
    app: Flask, employee_client: Any, path_values: dict[str, object]
) -> None:
    before = snapshot()
    admin_routes = [r for r in _routes(app, path_values) if r.path.startswith("/admin/")]
    for route in admin_routes:
        response = _request(employee_client, route)
        assert response.status_code == 403, f"{route.method} {route.path}"
    assert {route.method for route in admin_routes} == {"GET", "POST"}
    after = snapshot()
    # The refusals are on record (one row per client and minute, counting them), and they
    # are the only change.
    assert len([row for row in after["events"] if row not in before["events"]]) == 1
    [denied] = events_of("access_denied")
    assert denied.count == len(admin_routes)
    assert {key: rows for key, rows in after.items() if key != "events"} == {
        key: rows for key, rows in before.items() if key != "events"
    }


def test_administrator_opens_every_admin_page(
    app: Flask, admin_client: Any, path_values: dict[str, object]
) -> None:
    pages = [
        r for r in _routes(app, path_values) if r.path.startswith("/admin/") and r.method == "GET"
    ]
    assert len(pages) >= 5
    before = snapshot()
    for route in pages:
        assert _request(admin_client, route).status_code == 200, route.path
    assert snapshot() == before  # a GET changes nothing


def test_employee_opens_every_page_outside_admin(
    app: Flask, employee_client: Any, path_values: dict[str, object]
) -> None:
    pages = [
        r
        for r in _routes(app, path_values)
        if r.method == "GET"
        and not r.path.startswith("/admin/")
        and not r.endpoint.startswith("auth.")  # the sign-in steps
        and not (is_api(r) and r.endpoint not in API_DOCUMENTS)  # a key, not a session
    ]
    assert any(route.path == "/my/" for route in pages)
    for route in pages:
        response = _request(employee_client, route)
        assert response.status_code < 400, route.path
        assert not response.headers.get("Location", "").startswith("/login"), route.path


def test_a_refusal_is_recorded_as_access_denied(employee: Any, employee_client: Any) -> None:
    from security.messages import message

    response = employee_client.get("/admin/users?q=x")
    assert response.status_code == 403
    assert message("access.denied") in response.get_data(as_text=True)
    [event] = events_of("access_denied")
    assert event.actor_id == employee.id
    assert event.outcome == "refused"
    assert "/admin/users" in event.details


def test_a_blocked_user_signed_in_elsewhere_loses_admin_at_once(
    admin: Any, admin_client: Any, make_user: Any, app: Flask
) -> None:
    from extensions import db
    from models import ADMINISTRATORS_GROUP_ID, User

    other = make_user("second-admin", admin=True)
    other_client = app.test_client()
    assert sign_in(other_client, "second-admin").status_code == 303
    assert other_client.get("/admin/users").status_code == 200
    # The first administrator takes the second one out of Administrators.
    response = admin_client.post(
        f"/admin/users/{other.id}",
        data={"login": "second-admin", "active": "y", "groups": []},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert ADMINISTRATORS_GROUP_ID not in [g.id for g in db.session.get(User, other.id).groups]
    assert other_client.get("/admin/users").status_code == 403
