"""No page answers 500: every route of the url map, with hostile path, query and form values.

The sweep opens every GET page first (as the person the sweep runs as) and collects the
links and forms it shows: those give each route a believable request to start from, so
the hostile value reaches the code behind the first validation. A recording request
class adds the names a view reads without offering them in a form. Then, for each route,
method and name, each hostile value replaces the believable one (in the path, the query
or the form body), and a file part stands in for each form field. The same test runs on
PostgreSQL when TEST_DATABASE_URL is set: it refuses NUL in text and integers beyond
32 bits, where SQLite is lenient.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from flask import Flask, Request
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.support import inventory_token_id, sign_in

HOSTILE = [
    "\u00b2",  # a digit to str.isdigit(), not to int()
    "9" * 20,  # beyond a 32-bit and a 64-bit integer column
    "-1",
    "0",
    "\x00",  # PostgreSQL refuses NUL in text
    "a\x00b",
    "\x1b[31m",
    "\u202e",
    " 1",
    "1.5",
    "x" * 5000,
    "",
]
# Hostile values for a path segment: a segment is never empty and a "/" ends it.
HOSTILE_PATH = [value for value in HOSTILE if value]
FILLER = "x"
MAX_BASES = 6  # believable starting requests per route and method

_read_names: set[str] = set()


class _RecordingDict(ImmutableMultiDict[str, Any]):
    """Query and form values that note which names the view asks for."""

    def __contains__(self, key: object) -> bool:
        _read_names.add(str(key))
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        _read_names.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        _read_names.add(key)
        return super().get(key, default, type)

    def getlist(self, key: str, type: Any = None) -> list[Any]:  # noqa: A002
        _read_names.add(key)
        return super().getlist(key, type)


class _RecordingRequest(Request):
    parameter_storage_class = _RecordingDict


Pairs = tuple[tuple[str, str], ...]


class _PageParser(HTMLParser):
    """Collect the links and the forms of a page, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str, list[tuple[str, str]]]] = []
        self._form: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "form":
            self._form = []
            self.forms.append((a.get("action", ""), a.get("method", "get").upper(), self._form))
        elif self._form is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind == "file":
                return
            self._form.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_value = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form.append((a["name"], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self._form is not None:
            name, value = self._form[-1]
            self._form[-1] = (name, value + data)


@dataclass
class _Sweep:
    app: Flask
    path_values: dict[str, str]
    # (endpoint, method) -> believable starting values (query for GET, body for POST)
    bases: dict[tuple[str, str], list[Pairs]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    requests: int = 0

    def endpoint_of(self, path: str, method: str) -> str | None:
        adapter = self.app.url_map.bind("localhost")
        try:
            endpoint, _ = adapter.match(path, method=method)
        except (NotFound, MethodNotAllowed):
            return None
        return str(endpoint)

    def add_base(self, path: str, method: str, pairs: Pairs) -> None:
        endpoint = self.endpoint_of(path, method)
        if endpoint is None:
            return
        known = self.bases.setdefault((endpoint, method), [])
        if pairs not in known and len(known) < MAX_BASES:
            known.append(pairs)

    def harvest(self, page_path: str, html: str) -> None:
        parser = _PageParser()
        parser.feed(html)
        for href in parser.links:
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/"):
                continue
            self.add_base(parts.path, "GET", tuple(parse_qsl(parts.query, keep_blank_values=True)))
        for action, method, data in parser.forms:
            path = urlsplit(action).path or page_path
            self.add_base(path, method, tuple(data))
            # Fields left empty stop most forms at "required": fill them in as well.
            self.add_base(path, method, tuple((name, value or FILLER) for name, value in data))

    def send(self, client: FlaskClient, method: str, path: str, **kwargs: Any) -> set[str]:
        """Send one request; note a 500 or an exception; return the names the view read."""
        from extensions import db

        _read_names.clear()
        self.requests += 1
        where = f"{method} {path} {_describe(kwargs)}"
        try:
            response = client.open(path, method=method, **kwargs)
        except Exception as error:  # noqa: BLE001 - every exception is the finding
            db.session.rollback()
            self.failures.append(f"{where}: {type(error).__name__}: {str(error)[:200]}")
            return set(_read_names)
        if response.status_code >= 500:
            self.failures.append(f"{where}: {response.status_code}")
        return set(_read_names)


def _describe(kwargs: dict[str, Any]) -> str:
    shown: dict[str, Any] = {}
    for key in ("query_string", "data"):
        if key in kwargs:
            value = kwargs[key]
            if isinstance(value, str):
                shown[key] = value[:80]
                continue
            items = value.items(multi=True) if isinstance(value, MultiDict) else value
            shown[key] = {
                name: ("<file>" if isinstance(v, tuple) else repr(v)[:30]) for name, v in items
            }
    return str(shown) if shown else ""


def _replaced(base: Pairs, name: str, value: Any) -> list[tuple[str, Any]]:
    kept = [(key, v) for key, v in base if key != name]
    return [*kept, (name, value)]


def _rules(app: Flask) -> Iterator[Any]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint != "static":
            yield rule


def _path(app: Flask, rule: Any, values: dict[str, str]) -> str:
    with app.test_request_context():
        from flask import url_for

        return str(url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))


_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _hostile_paths(rule: Any, values: dict[str, str]) -> Iterator[str]:
    for argument in sorted(rule.arguments):
        for value in HOSTILE_PATH:
            chosen = {**values, argument: value}
            yield _ARGUMENT.sub(
                lambda m, chosen=chosen: quote(chosen[m.group(1)], safe=""), rule.rule
            )


def _sweep_route(sweep: _Sweep, client: FlaskClient, rule: Any, method: str) -> None:
    path = _path(sweep.app, rule, sweep.path_values)
    bases = sweep.bases.get((rule.endpoint, method)) or [()]

    def values(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if method == "GET":
            return {"query_string": urlencode(pairs)}
        return {"data": MultiDict(pairs)}

    for hostile_path in _hostile_paths(rule, sweep.path_values):
        sweep.send(client, method, hostile_path, **values(list(bases[0])))
    for base in bases:
        names = {name for name, _ in base}
        names |= sweep.send(client, method, path, **values(list(base)))
        done: set[str] = set()
        while names - done:
            name = sorted(names - done)[0]
            done.add(name)
            for value in HOSTILE:
                names |= sweep.send(client, method, path, **values(_replaced(base, name, value)))
            if method == "POST":
                upload = (io.BytesIO(b"\x00not text"), "upload.bin")
                sweep.send(
                    client,
                    method,
                    path,
                    data=MultiDict(_replaced(base, name, upload)),
                    content_type="multipart/form-data",
                )


def _run_sweep(
    app: Flask, path_values: dict[str, str], new_client: Any, *, only: tuple[str, ...] = ()
) -> _Sweep:
    app.request_class = _RecordingRequest
    sweep = _Sweep(app, path_values)
    crawler = new_client()
    for rule in _rules(app):
        if "GET" in (rule.methods or ()) and (not only or rule.endpoint.startswith(only)):
            path = _path(app, rule, path_values)
            response = crawler.get(path)
            if response.status_code == 200 and response.mimetype == "text/html":
                sweep.harvest(path, response.get_data(as_text=True))
    for rule in _rules(app):
        if only and not rule.endpoint.startswith(only):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            # A fresh sign-in per route: a route that ends the session (logout, end
            # session) must not leave the rest of the sweep signed out.
            _sweep_route(sweep, new_client(), rule, method)
    return sweep


def _report(sweep: _Sweep) -> str:
    shown = "\n".join(sweep.failures[:40])
    more = len(sweep.failures) - 40
    return f"{len(sweep.failures)} of {sweep.requests} requests failed:\n{shown}" + (
        f"\n… and {more} more" if more > 0 else ""
    )


@pytest.fixture
def sweep_setup(app: Flask, admin: Any, employee: Any, two_step_on: Any) -> dict[str, str]:
    """Two-step switched on (so its pages go past "switched off") and real path values."""
    from extensions import db
    from models import UserSession

    two_step_on()
    client = app.test_client()
    assert sign_in(client, "employee").status_code == 303
    session_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == employee.id))
    return {
        "user_id": str(employee.id),
        "session_id": str(session_id),
        "form_id": "user_edit",
        "token_id": str(inventory_token_id()),
        "password_id": "1",
        "client_id": "1",
        "login": "employee",
    }


@pytest.mark.settings(RATELIMIT_ENABLED=False)
def test_no_route_answers_500_to_an_administrator(app: Flask, sweep_setup: dict[str, str]) -> None:
    def signed_in_admin() -> FlaskClient:
        client = app.test_client()
        assert sign_in(client, "admin").status_code == 303, "the sweep lost the admin account"
        return client

    sweep = _run_sweep(app, sweep_setup, signed_in_admin)
    assert sweep.requests > 1000
    assert not sweep.failures, _report(sweep)


@pytest.mark.settings(RATELIMIT_ENABLED=False)
def test_no_sign_in_page_answers_500_to_a_stranger(app: Flask, sweep_setup: dict[str, str]) -> None:
    sweep = _run_sweep(app, sweep_setup, app.test_client, only=("auth.", "health."))
    assert sweep.requests > 100
    assert not sweep.failures, _report(sweep)


@pytest.mark.settings(RATELIMIT_ENABLED=False)
def test_no_sign_in_step_answers_500_between_password_and_code(
    app: Flask, sweep_setup: dict[str, str], employee: Any, connect_device: Any
) -> None:
    connect_device(employee)

    def password_accepted() -> FlaskClient:
        client = app.test_client()
        response = sign_in(client, "employee")
        assert response.status_code == 303
        assert response.headers["Location"] == "/login/otp", "not half signed in"
        return client

    sweep = _run_sweep(app, sweep_setup, password_accepted, only=("auth.",))
    assert sweep.requests > 100
    assert not sweep.failures, _report(sweep)


# --- the values the review found, one by one -------------------------------------------


@pytest.mark.parametrize("group", ["\u00b2", "9" * 20, "-1", "\x00"])
def test_an_unreadable_group_is_refused_with_a_message(admin_client: Any, group: str) -> None:
    response = admin_client.get("/admin/users", query_string={"group": group})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["9" * 20, "-1", "0", "\u00b2", "\x00"])
def test_an_unreadable_events_page_is_the_first_page(
    admin_client: Any, employee: Any, value: str
) -> None:
    response = admin_client.get(
        f"/admin/users/{employee.id}", query_string={"tab": "events", "events_page": value}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/admin/events", "/admin/events.csv"])
@pytest.mark.parametrize("event_type", ["\x00", "sign_in\x00", "no_such_type"])
def test_an_unknown_event_type_is_refused(admin_client: Any, path: str, event_type: str) -> None:
    response = admin_client.get(path, query_string={"type": event_type})
    assert response.status_code in (200, 400)
    if path == "/admin/events":
        assert response.status_code == 400
        assert "Not a valid choice" in response.get_data(as_text=True)
    else:
        # The export treats filters it cannot read as absent (as it always has).
        assert response.status_code == 200
        assert response.get_data(as_text=True).startswith("time_utc,type,")


@pytest.mark.parametrize("session_id", ["%00", "a%00b", "%1b", "x" * 300])
def test_a_control_character_in_a_path_is_404(admin_client: Any, session_id: str) -> None:
    assert admin_client.post(f"/my/sessions/{session_id}/end").status_code == 404


@pytest.mark.parametrize("field", ["login", "password"])
def test_a_file_in_place_of_a_sign_in_field_is_a_missing_field(
    app: Flask, employee: Any, field: str
) -> None:
    from security.messages import message

    client = app.test_client()
    data: dict[str, Any] = {"login": "employee", "password": "correct horse battery"}
    data[field] = (io.BytesIO(b"employee"), "login.txt")
    response = client.post("/login", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert message("form.required") in response.get_data(as_text=True)
    assert client.get("/my/").status_code == 302
