"""Fixtures: one migrated database per run, a fresh app per test, users and sign-in helpers.

Set TEST_DATABASE_URL (postgresql+psycopg://…) and TEST_REDIS_URL (redis://…) to run
the same suite on PostgreSQL with Redis-backed rate limits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
DEFAULT_PASSWORD = "correct horse battery"

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


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def database_url(instance_dir: str) -> str:
    """Build the schema once per run through the Alembic migrations themselves."""
    from flask_migrate import upgrade

    from app import create_app

    url = TEST_DATABASE_URL or f"sqlite:///{instance_dir}/test.db"
    if url.startswith("postgresql"):
        _reset_postgres_schema(url)
    app = create_app(
        {**BASE_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance_dir}
    )
    with app.app_context():
        upgrade()
        from extensions import db

        db.engine.dispose()
    return url


def _empty_database(app: Flask) -> None:
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


@pytest.fixture
def app_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for this test: the base ones, then any @pytest.mark.settings(...)."""
    settings = dict(BASE_SETTINGS)
    for marker in reversed(list(request.node.iter_markers("settings"))):
        settings.update(marker.kwargs)
    return settings


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
        return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url: str, instance_dir: str, app_settings: dict[str, Any]) -> Iterator[Flask]:
    from app import create_app
    from extensions import db

    settings = {
        **app_settings,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": instance_dir,
    }
    application = create_app(settings)
    application.test_client_class = BrowserClient
    with application.app_context():
        _empty_database(application)
        # Redis counters outlive one test (the limiter is one object per process).
        from extensions import limiter

        limiter.reset()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask) -> Any:
    """Create a user through the domain function; admin=True puts them in Administrators."""
    from extensions import db
    from models import ADMINISTRATORS_GROUP_ID, utcnow
    from security.accounts import Profile, create_user

    def make(
        login: str = "employee",
        password: str = DEFAULT_PASSWORD,
        *,
        admin: bool = False,
        group_ids: tuple[int, ...] = (),
        active: bool = True,
        email: str = "",
        name: str = "",
    ) -> Any:
        groups = (*group_ids, ADMINISTRATORS_GROUP_ID) if admin else group_ids
        user = create_user(
            login,
            password,
            now=utcnow(),
            group_ids=groups,
            active=active,
            profile=Profile(email=email, name=name),
        )
        db.session.commit()
        return user

    return make


@dataclass
class Auth:
    client: FlaskClient

    def login(self, login: str, password: str = DEFAULT_PASSWORD, **extra: str) -> Any:
        return self.client.post("/login", data={"login": login, "password": password, **extra})

    def logout(self) -> Any:
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def admin(make_user: Any) -> Any:
    return make_user("admin", admin=True)


@pytest.fixture
def employee(make_user: Any) -> Any:
    return make_user("employee")


@pytest.fixture
def admin_client(app: Flask, admin: Any) -> FlaskClient:
    client = app.test_client()
    assert Auth(client).login("admin").status_code == 303
    return client


@pytest.fixture
def employee_client(app: Flask, employee: Any) -> FlaskClient:
    client = app.test_client()
    assert Auth(client).login("employee").status_code == 303
    return client


CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    """Return the first CSRF token in a page, as a browser would submit it."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


# --- two-step helpers -------------------------------------------------------------------

RFC_SECRET = b"12345678901234567890"


def totp_code(secret: bytes = RFC_SECRET, at: Any = None, digits: int = 6) -> str:
    """The TOTP code a phone would show at `at` (default: now)."""
    from models import utcnow
    from security import otp

    params = otp.OtpParams(kind="totp", digits=digits)
    return otp.code_at_counter(secret, params, otp.totp_step(params, at or utcnow()))


def hotp_code(counter: int, secret: bytes = RFC_SECRET, digits: int = 6) -> str:
    """The HOTP code for a counter value."""
    from security import otp

    return otp.code_at_counter(secret, otp.OtpParams(kind="hotp", digits=digits), counter)


@pytest.fixture
def two_step_on(app: Flask) -> Any:
    """Switch two-step on for the console, with any Parameters given."""
    from extensions import db
    from security.otp_settings import load_settings

    def turn_on(**parameters: Any) -> Any:
        settings = load_settings()
        settings.enabled = True
        for name, value in parameters.items():
            setattr(settings, name, value)
        db.session.commit()
        return settings

    return turn_on


@pytest.fixture
def connect_device(app: Flask) -> Any:
    """Connect a device with a known secret through the domain; return the recovery codes.

    TOTP connects with the code of one minute ago, so that the current step is still
    unspent; HOTP spends counters 0 and 1.
    """
    from datetime import timedelta

    from extensions import db
    from models import utcnow
    from security import device_connection
    from security.otp_settings import load_settings

    def connect(user: Any, kind: str = "totp", secret: bytes = RFC_SECRET) -> list[str]:
        settings = load_settings()
        now = utcnow()
        connection = device_connection.new_connection(user, kind, secret=secret)
        if kind == "totp":
            earlier = now - timedelta(seconds=60)
            connected = device_connection.confirm_connection(
                connection,
                user,
                totp_code(secret, earlier),
                now=earlier,
                settings=settings,
                actor=user,
                ip="test",
            )
        else:
            connected = device_connection.confirm_connection(
                connection,
                user,
                hotp_code(0, secret),
                hotp_code(1, secret),
                now=now,
                settings=settings,
                actor=user,
                ip="test",
            )
        db.session.commit()
        return connected.recovery_codes

    return connect


def event_types(subject_login: str | None = None) -> list[str]:
    """The types of the recorded events, oldest first (optionally for one subject)."""
    from sqlalchemy import select

    from extensions import db
    from models import Event

    statement = select(Event.type).order_by(Event.id)
    if subject_login is not None:
        statement = statement.where(Event.subject_login == subject_login)
    return list(db.session.scalars(statement))
