"""Configuration: bad settings stop start-up with one line; the secret key is made once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import create_app


def _settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "a-test-secret-key-of-some-length",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'config-test.db'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        **overrides,
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("LOGIN_RATE_LIMIT", "lots"),
        ("LOGIN_RATE_LIMIT", ""),
        ("SESSION_COOKIE_SECURE", "maybe"),
        ("SESSION_COOKIE_SECURE", "true"),
        ("RATELIMIT_ENABLED", 1),
        ("RATELIMIT_STORAGE_URI", "ftp://x"),
        ("RATELIMIT_STORAGE_URI", "nonsense"),
        ("SESSION_IDLE_MINUTES", 0),
        ("SESSION_ABSOLUTE_HOURS", "12"),
        ("USERS_PER_PAGE", True),
        ("SQLALCHEMY_DATABASE_URI", "not a url at all"),
        ("SECRET_KEY", "short"),
        ("SQLITE_SYNCHRONOUS", "OFF"),
        ("SQLITE_SYNCHRONOUS", "normal; DROP TABLE users"),
        ("DEFAULT_LANGUAGE", "de"),
        ("DEFAULT_LANGUAGE", ""),
        ("DEFAULT_TIMEZONE", "Mars/Olympus_Mons"),
        ("DEFAULT_TIMEZONE", "../../etc/passwd"),
        ("DEFAULT_TIMEZONE", "localtime"),
        ("EVENT_RETENTION_DAYS", 0),
        ("EVENT_RETENTION_DAYS", "a year"),
    ],
)
def test_an_invalid_setting_stops_start_up_with_one_line(
    tmp_path: Path, key: str, value: Any
) -> None:
    with pytest.raises(SystemExit) as stopped:
        create_app(_settings(tmp_path, **{key: value}))
    text = str(stopped.value.code)
    assert f"FLASK_{key}" in text
    assert "\n" not in text
    if key == "SECRET_KEY":
        assert str(value) not in text  # a secret is never echoed


def test_environment_variables_are_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "a-test-secret-key-of-some-length")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert "FLASK_SESSION_COOKIE_SECURE" in str(stopped.value.code)


def test_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "a-test-secret-key-of-some-length")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SECURE", "false")
    monkeypatch.setenv("FLASK_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("FLASK_LOGIN_RATE_LIMIT", "5 per minute")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["REMEMBER_COOKIE_SECURE"] is False
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["LOGIN_RATE_LIMIT"] == "5 per minute"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_the_defaults_are_safe(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["RATELIMIT_ENABLED"] is True
    assert app.config["LOGIN_RATE_LIMIT"] == "10 per minute"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 12
    assert app.debug is False


def test_the_database_defaults_to_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    del settings["SQLALCHEMY_DATABASE_URI"]
    app = create_app(settings)
    expected = f"sqlite:///{tmp_path / 'instance' / 'console.db'}"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_the_secret_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    del settings["SECRET_KEY"]
    first = create_app(dict(settings))
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert len(first.config["SECRET_KEY"]) >= 32
    second = create_app(dict(settings))
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]


def test_a_given_secret_key_is_not_written(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    assert app.config["SECRET_KEY"] == "a-test-secret-key-of-some-length"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_an_empty_secret_key_file_stops_start_up(tmp_path: Path) -> None:
    import config

    key_file = tmp_path / "secret_key"
    key_file.write_text("")
    with pytest.raises(SystemExit):
        config.read_or_create_secret(key_file)


@pytest.mark.parametrize(("value", "expected"), [(None, 2), ("normal", 1), ("EXTRA", 3)])
def test_sqlite_synchronous_is_full_unless_chosen(
    tmp_path: Path, value: str | None, expected: int
) -> None:
    from sqlalchemy import text

    from extensions import db

    overrides = {} if value is None else {"SQLITE_SYNCHRONOUS": value}
    app = create_app(_settings(tmp_path, **overrides))
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == expected
        db.engine.dispose()
