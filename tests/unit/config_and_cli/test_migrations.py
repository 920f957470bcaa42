"""The Alembic migrations build, from nothing, exactly the schema the models describe."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'migrations.db'}"


def _postgres_url() -> Iterator[str]:
    """A schema of its own, so that the suite's shared database is not disturbed."""
    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL is not a PostgreSQL URL")
    schema = f"migrations_{uuid.uuid4().hex[:12]}"
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database: no tables at all."""
    from extensions import db

    urls = _sqlite_url(tmp_path) if request.param == "sqlite" else _postgres_url()
    url = next(urls)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "a-test-secret-key-of-some-length",
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "PASSWORD_ARGON2_TIME_COST": 1,
            "PASSWORD_ARGON2_MEMORY_KIB": 8,
            "PASSWORD_ARGON2_PARALLELISM": 1,
        }
    )
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        yield app
        db.session.remove()
        db.engine.dispose()
    for _ in urls:  # run the clean-up
        pass


def _not_the_search_index(name: str | None, type_: str, parent_names: object) -> bool:
    # On SQLite, migration 0009 adds the user search's FTS5 table (a virtual table with
    # its shadow tables, kept by triggers): no model describes it, so the comparison
    # leaves out exactly these tables, and nothing else. (Triggers are never compared.)
    # test_0009_indexes_the_users_there_and_those_to_come checks that they are there.
    from models.user import USER_SEARCH_TABLES

    return not (type_ == "table" and name in USER_SEARCH_TABLES)


def _differences() -> list[Any]:
    from extensions import db

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _not_the_search_index}
        )
        return list(compare_metadata(context, db.metadata))


def test_there_is_one_head() -> None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parents[3] / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_builds_the_schema_of_the_models(fresh_app: Flask) -> None:
    from flask_migrate import upgrade

    assert _differences() != []  # the comparison sees missing tables
    upgrade()
    assert _differences() == []


def test_upgrade_creates_the_two_builtin_groups(fresh_app: Flask) -> None:
    from flask_migrate import upgrade

    from extensions import db
    from models import Group

    upgrade()
    groups = {group.id: group for group in db.session.query(Group).order_by(Group.id)}
    assert groups[1].name == "Administrators" and groups[1].is_admin and groups[1].builtin
    assert groups[2].name == "Employees" and not groups[2].is_admin and groups[2].builtin
    # A new group does not collide with the ids the migration set by hand.
    db.session.add(Group(name="Helpdesk"))
    db.session.commit()
    assert db.session.query(Group).filter_by(name="Helpdesk").one().id > 2


def test_upgrade_is_idempotent_and_downgrade_removes_everything(fresh_app: Flask) -> None:
    from flask_migrate import downgrade, upgrade

    from extensions import db

    upgrade()
    upgrade()
    assert _differences() == []
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _differences() == []


def test_the_cli_upgrades_the_database(fresh_app: Flask) -> None:
    from extensions import db

    result = fresh_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert {"users", "groups", "user_groups", "user_sessions", "events"} <= set(
        inspect(db.engine).get_table_names()
    )


def test_0007_fills_skeletons_and_keeps_the_older_of_two_look_alikes(fresh_app: Flask) -> None:
    from flask_migrate import upgrade

    from extensions import db

    upgrade(revision="0006_single_use_states")
    logins = [
        "admin",
        "\u0430dmin",
        "\uff4d\uff41\uff58",
        "jo",
        "\uff4a\uff4f",
        "\u0438\u0432\u0430\u043d",
    ]
    with db.engine.begin() as connection:
        for number, login in enumerate(logins, start=1):
            connection.execute(
                text(
                    "INSERT INTO users (id, login, login_key, email, name, last_name, active,"
                    " password_hash, created_at) VALUES (:id, :login, :key, '', '', '', :yes,"
                    " 'x', :now)"
                ),
                {
                    "id": number,
                    "login": login,
                    "key": login.casefold(),
                    "yes": True,
                    "now": "2026-11-30 10:00:00",
                },
            )
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT login, login_key, login_skeleton FROM users ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("admin", "admin", "admin"),
        ("\u0430dmin", "\u0430dmin", None),  # looks like admin, who came first
        ("\uff4d\uff41\uff58", "max", "max"),  # full width: its key is now plain
        ("jo", "jo", "jo"),
        ("\uff4a\uff4f", "\uff4a\uff4f", None),  # jo in full width: left for a rename
        ("\u0438\u0432\u0430\u043d", "\u0438\u0432\u0430\u043d", "\u0438\u0432a\u043d"),
    ]
    assert _differences() == []


def test_0009_indexes_the_users_there_and_those_to_come(fresh_app: Flask) -> None:
    from flask_migrate import downgrade, upgrade

    from extensions import db
    from models.user import USER_SEARCH_TABLES

    upgrade(revision="0008_event_counts")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, login, login_key, email, name, last_name, active,"
                " password_hash, created_at) VALUES (7, 'ada', 'ada', 'ada@example.org',"
                " 'Ada', 'Lovelace', :yes, 'x', '2026-12-01 10:00:00')"
            ),
            {"yes": True},
        )
    upgrade()
    assert _differences() == []
    tables = set(inspect(db.engine).get_table_names())
    if db.engine.dialect.name != "sqlite":
        # PostgreSQL searches with the pg_trgm indexes of 0004: nothing to add.
        assert tables.isdisjoint(USER_SEARCH_TABLES)
        return
    assert tables >= USER_SEARCH_TABLES

    def found(phrase: str) -> list[int]:
        with db.engine.connect() as connection:
            return list(
                connection.scalars(
                    text("SELECT rowid FROM users_search WHERE users_search MATCH :phrase"),
                    {"phrase": phrase},
                )
            )

    assert found('"lovelace"') == [7]  # the user already there
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, login, login_key, email, name, last_name, active,"
                " password_hash, created_at) VALUES (8, 'grace', 'grace', '', 'Grace',"
                " 'Hopper', :yes, 'x', '2026-12-01 10:00:00')"
            ),
            {"yes": True},
        )
        connection.execute(text("UPDATE users SET last_name = 'King' WHERE id = 7"))
    assert found('"hopper"') == [8]
    assert found('"king"') == [7] and found('"lovelace"') == []
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM users WHERE id = 8"))
    assert found('"hopper"') == []
    # The index checks out against the users it was built from.
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users_search (users_search) VALUES ('integrity-check')")
        )

    downgrade(revision="0008_event_counts")
    assert set(inspect(db.engine).get_table_names()).isdisjoint(USER_SEARCH_TABLES)
    with db.engine.connect() as connection:
        triggers = connection.scalar(
            text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
        )
    assert triggers == 0
