"""Helpers for the view tests: routes of the url map, CSRF sign-in, cookie copies, DB snapshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

DEFAULT_PASSWORD = "correct horse battery"
SESSION_COOKIE = "console_session"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})

CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str
    path: str


def iter_routes(app: Flask, values: dict[str, object]) -> Iterator[Route]:
    """Yield every (rule, method) of the url map but static files, with arguments filled in."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        missing = set(rule.arguments) - set(values)
        assert not missing, f"{rule.rule}: give the access tests a value for {sorted(missing)}"
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            yield Route(rule.rule, rule.endpoint, method, path)


def csrf_token_from(html: str) -> str:
    """Return the first CSRF token in a page."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def strip_csrf(html: str) -> str:
    """Blank out CSRF tokens, so two pages can be compared."""
    return CSRF_INPUT.sub('name="csrf_token" value=""', html)


def sign_in(client: FlaskClient, login: str, password: str = DEFAULT_PASSWORD, **extra: str) -> Any:
    """Sign in the way a browser does: open the form, send it back with its token."""
    page = client.get("/login")
    data = {"login": login, "password": password, **extra}
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    if match:
        data["csrf_token"] = match.group(1) or match.group(2)
    return client.post("/login", data=data)


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie is not None else None


def copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Return a new browser holding a copy of this browser's session cookie."""
    value = session_cookie(client)
    assert value, "the browser has no session cookie to copy"
    other = app.test_client()
    other.set_cookie(SESSION_COOKIE, value)
    return other


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every table, for "nothing changed" checks."""
    from extensions import db

    db.session.expire_all()
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    db.session.rollback()
    return tables


def events_of(event_type: str) -> list[Any]:
    """Return the events of one type, oldest first."""
    from extensions import db
    from models import Event

    db.session.expire_all()
    return list(
        db.session.scalars(select(Event).where(Event.type == event_type).order_by(Event.id))
    )


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")
