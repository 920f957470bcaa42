"""The SQLite database and its -wal/-shm files are readable by their owner only (0600)."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

SETTINGS = {"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """Files would be created 0644, as under most service managers' default umask."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _modes(instance: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in instance.iterdir()}


def _migrate_and_write(instance: Path) -> dict[str, int]:
    """Start the console on `instance`, migrate, write; return the file modes seen meanwhile."""
    from flask_migrate import upgrade

    from app import create_app
    from extensions import db

    app = create_app({**SETTINGS, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        upgrade()
        # While a connection is open, SQLite keeps the write-ahead log and its index.
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE otp_settings SET enabled = enabled"))
            modes = _modes(instance)
        db.engine.dispose()
    return modes


def test_a_new_database_and_its_wal_files_are_created_0600(
    tmp_path: Path, usual_umask: None
) -> None:
    modes = _migrate_and_write(tmp_path)
    assert {"console.db", "console.db-wal", "console.db-shm"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}


def test_an_existing_database_left_readable_is_narrowed_at_start(
    tmp_path: Path, usual_umask: None
) -> None:
    database = tmp_path / "console.db"
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    assert stat.S_IMODE(database.stat().st_mode) == 0o644
    (tmp_path / "console.db-wal").chmod(0o644)
    connection.close()
    modes = _migrate_and_write(tmp_path)
    assert {name: mode for name, mode in modes.items() if name.startswith("console.db")} == {
        "console.db": 0o600,
        "console.db-wal": 0o600,
        "console.db-shm": 0o600,
    }
