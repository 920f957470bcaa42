"""The argon2id cost is a setting; a password hashed at another cost is rehashed at sign-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from argon2 import extract_parameters
from flask import Flask
from sqlalchemy import select

from app import create_app
from tests.support import sign_in


def _stored_hash(login: str) -> str:
    from extensions import db
    from models import User

    db.session.expire_all()
    return str(db.session.scalar(select(User.password_hash).where(User.login == login)))


def test_the_argon2_cost_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from security import passwords

    monkeypatch.setenv("FLASK_SECRET_KEY", "a-test-secret-key-of-some-length")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'cost.db'}")
    monkeypatch.setenv("FLASK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FLASK_PASSWORD_ARGON2_TIME_COST", "2")
    monkeypatch.setenv("FLASK_PASSWORD_ARGON2_MEMORY_KIB", "16")
    monkeypatch.setenv("FLASK_PASSWORD_ARGON2_PARALLELISM", "1")
    app = create_app()
    assert app.config["PASSWORD_ARGON2_MEMORY_KIB"] == 16
    parameters = extract_parameters(passwords.hash_password("a long enough password"))
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (2, 16, 1)


def test_the_earlier_setting_names_still_work(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "a-test-secret-key-of-some-length",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "PASSWORD_HASH_TIME_COST": 2,
            "PASSWORD_HASH_MEMORY_COST": 16,
            "PASSWORD_HASH_PARALLELISM": 1,
        }
    )
    assert app.config["PASSWORD_ARGON2_TIME_COST"] == 2
    assert app.config["PASSWORD_ARGON2_MEMORY_KIB"] == 16


def test_a_zero_cost_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "a-test-secret-key-of-some-length",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'zero.db'}",
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "PASSWORD_ARGON2_MEMORY_KIB": 0,
            }
        )
    assert "FLASK_PASSWORD_ARGON2_MEMORY_KIB" in str(stopped.value.code)


def test_a_new_cost_rehashes_each_password_at_its_next_sign_in(app: Flask, make_user: Any) -> None:
    from security import passwords

    make_user("employee")
    before = extract_parameters(_stored_hash("employee"))
    assert before.time_cost == app.config["PASSWORD_ARGON2_TIME_COST"]
    passwords.configure(before.time_cost + 1, before.memory_cost, before.parallelism)
    try:
        assert sign_in(app.test_client(), "employee").status_code == 303
        after = extract_parameters(_stored_hash("employee"))
        assert after.time_cost == before.time_cost + 1
        # The new hash still signs in.
        assert sign_in(app.test_client(), "employee").status_code == 303
    finally:
        passwords.configure(before.time_cost, before.memory_cost, before.parallelism)
