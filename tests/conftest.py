"""Fixtures: one migrated database per run, a fresh app per test, users, two-step on.

Set TEST_DATABASE_URL (postgresql+psycopg://…) and TEST_REDIS_URL (redis://…) to run
the same suite on PostgreSQL with Redis-backed rate limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.support import (
    BASE_SETTINGS,
    DEFAULT_PASSWORD,
    RFC_SECRET,
    TEST_DATABASE_URL,
    Auth,
    BrowserClient,
    empty_database,
    hotp_code,
    reset_postgres_schema,
    sign_in,
    totp_code,
)


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
        reset_postgres_schema(url)
    app = create_app(
        {**BASE_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance_dir}
    )
    with app.app_context():
        upgrade()
        from extensions import db

        db.engine.dispose()
    return url


@pytest.fixture
def app_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for this test: the base ones, then any @pytest.mark.settings(...)."""
    settings = dict(BASE_SETTINGS)
    for marker in reversed(list(request.node.iter_markers("settings"))):
        settings.update(marker.kwargs)
    return settings


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
        empty_database()
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


@pytest.fixture
def manager_client(app: Flask, make_user: Any) -> FlaskClient:
    """A member of a group with "Manage one-time passwords", who is not an administrator."""
    from extensions import db
    from models import Group

    group = Group(name="Help desk", can_manage_otp=True)
    db.session.add(group)
    db.session.commit()
    make_user("helpdesk", group_ids=(group.id,))
    client = app.test_client()
    assert sign_in(client, "helpdesk").status_code == 303
    return client


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

    TOTP connects with the code of one minute before `now` (default: the clock's now),
    so that the current step is still unspent; HOTP spends counters 0 and 1.
    """
    from extensions import db
    from models import utcnow
    from security import device_connection
    from security.otp_settings import load_settings

    def connect(
        user: Any,
        kind: str = "totp",
        secret: bytes = RFC_SECRET,
        *,
        now: datetime | None = None,
    ) -> list[str]:
        settings = load_settings()
        now = now or utcnow()
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
