"""Backups that restore: back up while the console serves, lose the whole instance folder,
restore, and every user signs in again with the same phone and the same recovery codes.

The round trip runs on a SQLite console of its own (in a temporary instance folder, its
keys generated there as in production), whatever database the rest of the run uses.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.support import BASE_SETTINGS, DEFAULT_PASSWORD, totp_code

USERS = {
    "anna": b"anna-secret-20-bytes",
    "boris": b"boris-secret-20bytes",
    "vera": b"vera-secret-20-bytes",
}
PASSPHRASE = "a passphrase kept apart from the archives"


def _settings(instance: Path) -> dict[str, Any]:
    settings = {
        key: value
        for key, value in BASE_SETTINGS.items()
        if key not in ("SECRET_KEY", "RATELIMIT_STORAGE_URI")
    }
    # The keys and the secret key come from the instance folder, as in production.
    return {
        **settings,
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/console.db",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": False,
    }


def _console(instance: Path) -> Flask:
    from app import create_app

    return create_app(_settings(instance))


def _prepare(app: Flask) -> dict[str, list[str]]:
    """Migrate, create users with phones (TOTP) and one without; return recovery codes."""
    from flask_migrate import upgrade

    from extensions import db
    from models import ADMINISTRATORS_GROUP_ID, utcnow
    from security import device_connection
    from security.accounts import create_user
    from security.otp_settings import load_settings

    codes: dict[str, list[str]] = {}
    with app.app_context():
        upgrade()
        settings = load_settings()
        settings.enabled = True
        db.session.commit()
        create_user("busy", DEFAULT_PASSWORD, now=utcnow(), group_ids=[ADMINISTRATORS_GROUP_ID])
        db.session.commit()
        for login, secret in USERS.items():
            user = create_user(login, DEFAULT_PASSWORD, now=utcnow())
            db.session.commit()
            earlier = utcnow() - timedelta(seconds=60)
            connection = device_connection.new_connection(user, "totp", secret=secret)
            connected = device_connection.confirm_connection(
                connection,
                user,
                totp_code(secret, earlier),
                now=earlier,
                settings=load_settings(),
                actor=user,
                ip="test",
            )
            db.session.commit()
            codes[login] = connected.recovery_codes
        db.session.remove()
    return codes


@contextmanager
def serving(app: Flask) -> Iterator[list[int]]:
    """Requests that write (sign-ins, refusals, events) in a thread, until the block ends."""
    statuses: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        client = app.test_client()
        while not stop.is_set():
            statuses.append(
                client.post("/login", data={"login": "busy", "password": "no"}).status_code
            )
            statuses.append(
                client.post(
                    "/login", data={"login": "busy", "password": DEFAULT_PASSWORD}
                ).status_code
            )
            statuses.append(client.post("/logout").status_code)

    worker = threading.Thread(target=serve)
    worker.start()
    try:
        yield statuses
    finally:
        stop.set()
        worker.join(timeout=60)


def _write(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    return path


def _signs_in_with_code(app: Flask, login: str, code: str) -> bool:
    client = app.test_client()
    first = client.post("/login", data={"login": login, "password": DEFAULT_PASSWORD})
    assert first.status_code == 303 and first.headers["Location"] == "/login/otp", (
        login,
        first.status_code,
        first.headers.get("Location"),
        first.get_data(as_text=True)[-300:],
    )
    second = client.post("/login/otp", data={"code": code})
    return second.status_code == 303 and client.get("/my/").status_code == 200


def test_backup_while_serving_then_restore_into_a_lost_instance(tmp_path: Path) -> None:
    from extensions import db

    instance = tmp_path / "instance"
    archive = tmp_path / "console.backup"
    passphrase = _write(tmp_path / "passphrase", PASSPHRASE)
    first = _console(instance)
    recovery = _prepare(first)
    keys_before = (instance / "otp_keys").read_text()

    with serving(first) as statuses:
        while len(statuses) < 30:
            threading.Event().wait(0.01)
        served_before = len(statuses)
        made = first.test_cli_runner().invoke(
            args=["backup", "create", str(archive), "--passphrase-file", str(passphrase)]
        )
        served_during = len(statuses) - served_before
    assert made.exit_code == 0, made.output
    assert f"wrote {archive}" in made.output
    assert served_during > 0
    assert set(statuses) <= {200, 302, 303}, set(statuses)
    assert archive.stat().st_mode & 0o077 == 0
    # Nothing readable in the file: no key, no login.
    raw = archive.read_bytes()
    assert keys_before.strip().encode() not in raw and b"anna" not in raw

    runner = first.test_cli_runner()
    wrong = _write(tmp_path / "wrong", "not the passphrase")
    refused = runner.invoke(
        args=["backup", "restore", str(archive), "--passphrase-file", str(wrong)]
    )
    assert refused.exit_code == 1
    assert "wrong passphrase, or the archive was changed since it was made" in refused.output
    over_users = runner.invoke(
        args=["backup", "restore", str(archive), "--passphrase-file", str(passphrase)]
    )
    assert over_users.exit_code == 1
    assert "holds 4 users: nothing restored; add --force to replace it" in over_users.output
    with first.app_context():
        db.engine.dispose()

    # The server is lost: database, keys and secret key.
    shutil.rmtree(instance)
    fresh = _console(instance)  # generates new keys, which open nothing of the old data
    restored = fresh.test_cli_runner().invoke(
        args=["backup", "restore", str(archive), "--passphrase-file", str(passphrase)]
    )
    assert restored.exit_code == 0, restored.output
    assert "4 users, 3 devices" in restored.output
    assert "the restored keys open 3 of 3 stored secrets" in restored.output
    assert (instance / "otp_keys").read_text() == keys_before
    with fresh.app_context():
        db.engine.dispose()

    console = _console(instance)
    checked = console.test_cli_runner().invoke(args=["otp", "check-keys"])
    assert "key 1 (newest, encrypts): opens 3 secrets" in checked.output
    for login, secret in USERS.items():
        assert _signs_in_with_code(console, login, totp_code(secret)), login
        assert _signs_in_with_code(console, login, recovery[login][0]), login
    with console.app_context():
        db.engine.dispose()


def test_a_damaged_archive_is_refused(tmp_path: Path) -> None:
    from extensions import db

    instance = tmp_path / "instance"
    archive = tmp_path / "console.backup"
    passphrase = _write(tmp_path / "passphrase", PASSPHRASE)
    console = _console(instance)
    _prepare(console)
    runner = console.test_cli_runner()
    assert (
        runner.invoke(
            args=["backup", "create", str(archive), "--passphrase-file", str(passphrase)]
        ).exit_code
        == 0
    )
    data = bytearray(archive.read_bytes())
    data[-40] ^= 1
    archive.write_bytes(bytes(data))
    result = runner.invoke(
        args=["backup", "restore", str(archive), "--passphrase-file", str(passphrase), "--force"]
    )
    assert result.exit_code == 1
    assert "wrong passphrase, or the archive was changed since it was made" in result.output
    not_ours = _write(tmp_path / "other", "hello")
    result = runner.invoke(
        args=["backup", "restore", str(not_ours), "--passphrase-file", str(passphrase)]
    )
    assert "not a backup archive of this console" in result.output
    with console.app_context():
        db.engine.dispose()


def test_on_the_suite_database_the_archive_holds_what_the_database_needs(
    app: Flask, runner: Any, tmp_path: Path, employee: Any, connect_device: Any
) -> None:
    """On PostgreSQL the archive holds the keys and says to use pg_dump; a keys-only
    restore checks the keys against the database and puts them back."""
    from extensions import db

    connect_device(employee, "hotp")
    archive = tmp_path / "console.backup"
    passphrase = _write(tmp_path / "passphrase", PASSPHRASE)
    made = runner.invoke(
        args=["backup", "create", str(archive), "--passphrase-file", str(passphrase)]
    )
    assert made.exit_code == 0, made.output
    if db.engine.dialect.name != "postgresql":
        assert "and its keys, encrypted" in made.output
        return
    assert "back up the database itself with pg_dump" in made.output
    restored = runner.invoke(
        args=["backup", "restore", str(archive), "--passphrase-file", str(passphrase)]
    )
    assert restored.exit_code == 0, restored.output
    assert "the restored keys open 1 of 1 stored secrets" in restored.output


@pytest.mark.parametrize("content", ["", "\n"])
def test_an_empty_passphrase_is_refused(runner: Any, tmp_path: Path, content: str) -> None:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(content)
    result = runner.invoke(
        args=["backup", "create", str(tmp_path / "x"), "--passphrase-file", str(passphrase)]
    )
    assert result.exit_code == 1
    assert "is empty" in result.output
    assert not (tmp_path / "x").exists()
