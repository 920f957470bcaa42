"""The command line: `users create` and `users ensure-admin`."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from tests.support import DEFAULT_PASSWORD, user_count


def _find(login: str) -> Any:
    from extensions import db
    from security.accounts import find_by_login

    db.session.expire_all()
    return find_by_login(login)


def _password_works(app: Flask, login: str, password: str) -> bool:
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": password})
    return response.status_code == 303


def test_users_create(app: Flask, runner: Any) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Jo",
            "--password",
            DEFAULT_PASSWORD,
            "--email",
            "jo@example.com",
            "--name",
            "Jo",
            "--last-name",
            "March",
        ]
    )
    assert result.exit_code == 0, result.output
    jo = _find("jo")
    assert (jo.login, jo.email, jo.full_name) == ("Jo", "jo@example.com", "Jo March")
    assert [group.id for group in jo.groups] == [2]
    assert not jo.is_admin
    assert _password_works(app, "jo", DEFAULT_PASSWORD)


def test_users_create_admin(runner: Any) -> None:
    result = runner.invoke(
        args=["users", "create", "root2", "--password", DEFAULT_PASSWORD, "--admin"]
    )
    assert result.exit_code == 0, result.output
    assert [group.id for group in _find("root2").groups] == [1, 2]


def test_a_duplicate_login_exits_non_zero_with_one_line(runner: Any, employee: Any) -> None:
    from security.messages import message

    before = user_count()
    result = runner.invoke(args=["users", "create", "EMPLOYEE", "--password", DEFAULT_PASSWORD])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert message("user.login_taken") in lines[0]
    # A refusal ends the command (SystemExit); a crash would leave its exception here.
    assert isinstance(result.exception, SystemExit)
    assert user_count() == before


def test_a_bad_login_or_password_exits_non_zero(runner: Any) -> None:
    for args in (
        ["users", "create", "two words", "--password", DEFAULT_PASSWORD],
        ["users", "create", "shorty", "--password", "short"],
        ["users", "create", "nopassword"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert isinstance(result.exception, SystemExit), (args, result.exception)
    assert user_count() == 0


def test_ensure_admin_takes_the_password_from_the_environment(app: Flask, runner: Any) -> None:
    given = "from the environment"
    result = runner.invoke(args=["users", "ensure-admin"], env={"ADMIN_PASSWORD": given})
    assert result.exit_code == 0, result.output
    assert given not in result.output
    admin = _find("admin")
    assert admin.is_admin
    assert _password_works(app, "admin", given)
    # Idempotent: a second run changes nothing.
    again = runner.invoke(args=["users", "ensure-admin"], env={"ADMIN_PASSWORD": "another one!"})
    assert again.exit_code == 0
    assert user_count() == 1
    assert _password_works(app, "admin", given)


def test_ensure_admin_prints_a_random_password_once(app: Flask, runner: Any) -> None:
    result = runner.invoke(args=["users", "ensure-admin"], env={"ADMIN_PASSWORD": ""})
    assert result.exit_code == 0, result.output
    match = re.search(r"Password \(shown only this once\): (\S+)", result.output)
    assert match, result.output
    password = match.group(1)
    assert len(password) >= 12
    assert _password_works(app, "admin", password)
    again = runner.invoke(args=["users", "ensure-admin"], env={"ADMIN_PASSWORD": ""})
    assert again.exit_code == 0
    assert password not in again.output
    assert "Password" not in again.output
    assert user_count() == 1


def test_ensure_admin_leaves_an_existing_administrator_alone(runner: Any, make_user: Any) -> None:
    make_user("chief", admin=True)
    result = runner.invoke(args=["users", "ensure-admin"], env={"ADMIN_PASSWORD": ""})
    assert result.exit_code == 0
    assert _find("admin") is None
    assert "Password" not in result.output


def test_ensure_admin_explains_when_the_login_admin_is_taken_by_an_employee(
    runner: Any, make_user: Any
) -> None:
    make_user("admin")
    result = runner.invoke(args=["users", "ensure-admin"])
    assert result.exit_code == 0
    assert "users create LOGIN --password PW --admin" in result.output
