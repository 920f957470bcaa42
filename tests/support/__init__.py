"""The helpers every test shares, each written once; the conftest files hold only fixtures.

Here: the test settings, the known password and secret, the codes a phone would show,
CSRF tokens in pages, signing in through the Flask test client, copies of a browser's
cookie, database snapshots and the recorded events, the routes of the url map.
`tests.support.servers` starts real server processes (system and browser tests);
`tests.support.browser` holds what the Playwright journeys share.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
DEFAULT_PASSWORD = "correct horse battery"
SESSION_COOKIE = "console_session"
# The RFC 4226 / 6238 test secret.
RFC_SECRET = b"12345678901234567890"

# Cheap argon2id so the suite stays fast; production uses the library's defaults.
BASE_SETTINGS: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-0123456789",
    "WTF_CSRF_ENABLED": False,
    "SESSION_COOKIE_SECURE": False,
    "PASSWORD_ARGON2_TIME_COST": 1,
    "PASSWORD_ARGON2_MEMORY_KIB": 8,
    "PASSWORD_ARGON2_PARALLELISM": 1,
    "RATELIMIT_STORAGE_URI": TEST_REDIS_URL or "memory://",
}

# The hidden CSRF field as WTForms and as the form macros write it.
CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)
# What the connect pages show: the secret key and the connection's token.
SECRET_SHOWN = re.compile(r'aria-label="Secret key"><code>([A-Z2-7 ]+)</code>')
CONNECTION_INPUT = re.compile(r'name="connection" value="([^"]+)"')


# --- pages and codes ----------------------------------------------------------------


def shown_time(value: datetime, zone: str = "UTC", language: str = "en") -> str:
    """A time as the console shows it to a reader in `zone` who reads `language`."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    return f"{format_datetime(value, 'medium', tzinfo=ZoneInfo(zone), locale=language)} ({zone})"


def csrf_token_from(html: str) -> str:
    """Return the first CSRF token in a page, as a browser would submit it."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def strip_csrf(html: str) -> str:
    """Blank out CSRF tokens, so two pages can be compared."""
    return CSRF_INPUT.sub('name="csrf_token" value=""', html)


def totp_code(secret: bytes = RFC_SECRET, at: datetime | None = None, digits: int = 6) -> str:
    """Return the TOTP code a phone would show at `at` (default: now)."""
    from models import utcnow
    from security import otp

    params = otp.OtpParams(kind="totp", digits=digits)
    return otp.code_at_counter(secret, params, otp.totp_step(params, at or utcnow()))


def hotp_code(counter: int, secret: bytes = RFC_SECRET, digits: int = 6) -> str:
    """Return the HOTP code for a counter value."""
    from security import otp

    return otp.code_at_counter(secret, otp.OtpParams(kind="hotp", digits=digits), counter)


# --- browsers on the Flask test client ----------------------------------------------


class BrowserClient(FlaskClient):
    """A test client whose every request starts with an empty `g`, as in production.

    The app fixture keeps one app context open and each request reuses it, so
    without this `g` (Flask-Login's cached user among others) would leak from one
    request, and from one browser, to the next: a signed-out or copied cookie
    would still look signed in.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if has_app_context():
            vars(g._get_current_object()).clear()
        response = super().open(*args, **kwargs)
        # The language and zone Flask-Babel keeps in `g` belong to that request: a test's
        # own message("…") afterwards reads the console's default (English), not the
        # language of the page it just fetched.
        if has_app_context():
            g.pop("_flask_babel", None)
        return response


@dataclass
class Auth:
    """Post the sign-in form directly (CSRF is off in the test settings)."""

    client: FlaskClient

    def login(self, login: str, password: str = DEFAULT_PASSWORD, **extra: str) -> Any:
        return self.client.post("/login", data={"login": login, "password": password, **extra})

    def logout(self) -> Any:
        return self.client.post("/logout")


def sign_in(client: FlaskClient, login: str, password: str = DEFAULT_PASSWORD, **extra: str) -> Any:
    """Sign in the way a browser does: open the form, send it back with its token."""
    page = client.get("/login")
    data = {"login": login, "password": password, **extra}
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    if match:
        data["csrf_token"] = match.group(1) or match.group(2)
    return client.post("/login", data=data)


def session_cookie(client: FlaskClient) -> str | None:
    """Return the value of the browser's session cookie, if it holds one."""
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie is not None else None


def copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Return a new browser holding a copy of this browser's session cookie."""
    value = session_cookie(client)
    assert value, "the browser has no session cookie to copy"
    other = app.test_client()
    other.set_cookie(SESSION_COOKIE, value)
    return other


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- forms as a browser posts them -------------------------------------------------

LAYOUT_DIALOG = "/admin/form-settings/user_edit"


def otp_settings_form(**changes: Any) -> dict[str, Any]:
    """Return the two-step Parameters form with the stored defaults, and some changes."""
    data: dict[str, Any] = {
        "default_type": "totp",
        "totp_window": "1",
        "hotp_window": "10",
        "remember_days": "30",
        "allow_recovery_codes": "y",
        "mandatory_days": "10",
        "mandatory_groups": ["1"],
        "max_attempts": "5",
        "lockout_minutes": "15",
        "log_requests": "y",
        "issuer": "Company portal",
    }
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


class DialogForm(HTMLParser):
    """Read the dialog's form as a browser would submit it (enabled, checked fields)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and "layout-dialog" in a.get("class", ""):
            self._in_form = True
        if not self._in_form or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None


def dialog_fields(client: FlaskClient, url: str = LAYOUT_DIALOG) -> dict[str, str]:
    """Open a form-layout dialog and return its fields as a browser would submit them."""
    response = client.get(url)
    assert response.status_code == 200
    parser = DialogForm()
    parser.feed(response.get_data(as_text=True))
    return dict(parser.fields)


def key_of(fields: dict[str, str], row_id: str, part: str) -> str:
    """Return the name of `part` of the tab or field row with this id."""
    name = next(name for name, value in fields.items() if name.endswith("-id") and value == row_id)
    return name[: -len("id")] + part


def with_changes(fields: dict[str, str], **changes: Any) -> dict[str, str]:
    """Apply changes like hide_otp=..., written as {row_id: {part: value or None}}."""
    data = dict(fields)
    for row_id, parts in changes.items():
        for part, value in parts.items():
            name = key_of(fields, row_id, part)
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
    return data


def post_new_user(client: FlaskClient, login: str, **fields: Any) -> Any:
    """Send the administrator's new-user form with the default password, and some changes."""
    data = {
        "login": login,
        "password": DEFAULT_PASSWORD,
        "password_confirm": DEFAULT_PASSWORD,
        "active": "y",
        **fields,
    }
    return client.post("/admin/users/new", data=data)


# --- the database -------------------------------------------------------------------


def reset_postgres_schema(url: str) -> None:
    """Drop and recreate the public schema of a PostgreSQL test database."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def empty_database() -> None:
    """Delete every row but the two built-in groups, and reset those groups' rights."""
    from extensions import db
    from models import ADMINISTRATORS_GROUP_ID, EMPLOYEES_GROUP_ID

    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "groups"]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
        connection.execute(
            text("DELETE FROM groups WHERE id NOT IN (:a, :e)"),
            {"a": ADMINISTRATORS_GROUP_ID, "e": EMPLOYEES_GROUP_ID},
        )
        connection.execute(
            text("UPDATE groups SET is_admin = (id = :a), can_manage_otp = (id = :a)"),
            {"a": ADMINISTRATORS_GROUP_ID},
        )


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


def without_events(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Return a snapshot without the event log, for "nothing but the events changed" checks."""
    return {name: rows for name, rows in tables.items() if name != "events"}


def user_named(login: str) -> Any:
    """Return the user with this login as the database holds it now, or None."""
    from extensions import db
    from security.accounts import find_by_login

    db.session.expire_all()
    return find_by_login(login)


def user_count() -> int:
    """Return how many users the database holds."""
    from sqlalchemy import func

    from extensions import db
    from models import User

    return int(db.session.scalar(select(func.count(User.id))) or 0)


def make_sign_in_stale(user_id: int, minutes: int = 11) -> None:
    """Move the user's last full sign-in back, as if the password was given long ago."""
    from datetime import timedelta

    from sqlalchemy import update

    from extensions import db
    from models import UserSession, utcnow

    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id)
        .values(authenticated_at=utcnow() - timedelta(minutes=minutes))
    )
    db.session.commit()


def events_of(event_type: str) -> list[Any]:
    """Return the events of one type, oldest first."""
    from extensions import db
    from models import Event

    db.session.expire_all()
    return list(
        db.session.scalars(select(Event).where(Event.type == event_type).order_by(Event.id))
    )


def event_types(subject_login: str | None = None) -> list[str]:
    """Return the types of the recorded events, oldest first (optionally for one subject)."""
    from extensions import db
    from models import Event

    statement = select(Event.type).order_by(Event.id)
    if subject_login is not None:
        statement = statement.where(Event.subject_login == subject_login)
    return list(db.session.scalars(statement))


# --- the url map --------------------------------------------------------------------

IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


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


def inventory_token_id(serial: str = "T-1") -> int:
    """Put a TOTP token (RFC 6238's seed) in the inventory; return its id, for route values."""
    from extensions import db
    from models import HardwareToken, utcnow
    from security import keys

    token = HardwareToken(
        serial=serial,
        kind="totp",
        digits=6,
        period=30,
        counter=0,
        algorithm="SHA1",
        secret_encrypted=keys.secret_box().encrypt(RFC_SECRET),
        state="unassigned",
        imported_at=utcnow(),
        imported_by="admin",
    )
    db.session.add(token)
    db.session.commit()
    return token.id
