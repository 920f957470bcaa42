"""Look-alike logins: refused beside the login they imitate, on every path that makes one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.support import DEFAULT_PASSWORD, post_new_user, sign_in, snapshot, user_count, user_named

FULL_WIDTH_ADMIN = "\uff41\uff44\uff4d\uff49\uff4e"  # ａｄｍｉｎ
CYRILLIC_A_ADMIN = "\u0430dmin"  # аdmin, its first letter Cyrillic
DOTTED_I_ADMIN = "ADM\u0130N"  # ADMİN, Turkish dotted capital I
IVAN_CYRILLIC = "\u0438\u0432\u0430\u043d"  # иван
# What each look-alike of admin is told: full width is admin itself once normalised.
LOOK_ALIKES_OF_ADMIN = [
    (FULL_WIDTH_ADMIN, "user.login_taken"),
    (CYRILLIC_A_ADMIN, "user.login_mixed_script"),
    (DOTTED_I_ADMIN, "user.login_confusable"),
]


@pytest.mark.parametrize(
    ("login", "key"),
    [
        *LOOK_ALIKES_OF_ADMIN,
        ("\u0391DM\u0399\u039d", "user.login_mixed_script"),  # Greek Α, Ι, Ν with Latin
    ],
)
def test_a_look_alike_of_admin_is_refused(admin_client: Any, login: str, key: str) -> None:
    from security.messages import message

    before = snapshot()
    response = post_new_user(admin_client, login)
    assert response.status_code == 400
    assert message(key) in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_login_wholly_in_another_script_that_looks_like_one_is_refused(
    admin_client: Any, make_user: Any
) -> None:
    from security.messages import message

    make_user("kate")
    before = snapshot()
    response = post_new_user(admin_client, "\u041a\u0410\u0422\u0415")  # КАТЕ, all Cyrillic
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message("user.login_confusable") in page
    # The message does not say which login it resembles (the time zones offered aside:
    # Asia/Yekaterinburg).
    assert "kate" not in re.sub(r"<datalist.*?</datalist>", "", page, flags=re.DOTALL)
    assert snapshot() == before


@pytest.mark.parametrize("login", [IVAN_CYRILLIC, "ivan.petrov"])
def test_honest_logins_beside_admin_are_accepted(app: Flask, admin_client: Any, login: str) -> None:
    response = post_new_user(admin_client, login)
    assert response.status_code == 303
    assert user_named(login).login == login
    assert sign_in(app.test_client(), login.upper()).status_code == 303


def test_both_ivans_may_exist(admin_client: Any) -> None:
    assert post_new_user(admin_client, "ivan").status_code == 303
    assert post_new_user(admin_client, IVAN_CYRILLIC).status_code == 303
    assert user_named("ivan").id != user_named(IVAN_CYRILLIC).id


def test_a_full_width_login_is_stored_in_its_plain_form(admin_client: Any) -> None:
    assert post_new_user(admin_client, "\uff4a\uff4f").status_code == 303  # ｊｏ
    assert user_named("jo").login == "jo"


@pytest.mark.parametrize(("login", "key"), LOOK_ALIKES_OF_ADMIN)
def test_renaming_a_user_to_a_look_alike_of_admin_is_refused(
    admin_client: Any, employee: Any, login: str, key: str
) -> None:
    from security.messages import message

    before = snapshot()
    response = admin_client.post(
        f"/admin/users/{employee.id}", data={"login": login, "groups": [2], "active": "y"}
    )
    assert response.status_code == 400
    assert message(key) in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_user_may_change_the_case_of_their_own_login(admin_client: Any, employee: Any) -> None:
    response = admin_client.post(
        f"/admin/users/{employee.id}", data={"login": "Employee", "groups": [2], "active": "y"}
    )
    assert response.status_code == 303
    assert user_named("employee").login == "Employee"


@pytest.mark.parametrize("typed", ["ADMIN", FULL_WIDTH_ADMIN, " admin "])
def test_admin_signs_in_whatever_the_case_or_width(app: Flask, admin: Any, typed: str) -> None:
    client = app.test_client()
    assert sign_in(client, typed).status_code == 303
    assert client.get("/my/").status_code == 200


@pytest.mark.parametrize("typed", [CYRILLIC_A_ADMIN, DOTTED_I_ADMIN])
def test_a_look_alike_does_not_sign_in_as_admin(app: Flask, admin: Any, typed: str) -> None:
    client = app.test_client()
    assert sign_in(client, typed).status_code == 200
    assert client.get("/my/").status_code == 302


@pytest.mark.parametrize(("login", "key"), LOOK_ALIKES_OF_ADMIN)
def test_the_command_line_refuses_a_look_alike_in_one_line(
    runner: Any, admin: Any, login: str, key: str
) -> None:
    from security.messages import message

    before = user_count()
    result = runner.invoke(args=["users", "create", login, "--password", DEFAULT_PASSWORD])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert message(key) in lines[0]
    # A refusal ends the command (SystemExit); a crash would leave its exception here.
    assert isinstance(result.exception, SystemExit)
    assert user_count() == before


def test_ensure_admin_explains_a_look_alike_of_admin(runner: Any, make_user: Any) -> None:
    from security.messages import message

    make_user(DOTTED_I_ADMIN)
    result = runner.invoke(args=["users", "ensure-admin"], env={"ADMIN_PASSWORD": ""})
    assert result.exit_code == 0
    assert message("user.login_confusable") in result.output
    assert "users create LOGIN --password PW --admin" in result.output
    assert user_count() == 1


def test_a_look_alike_from_before_the_rules_can_still_be_blocked(
    admin_client: Any, admin: Any, make_user: Any
) -> None:
    from extensions import db

    # As migration 0007 leaves it: the later of two look-alikes keeps no skeleton.
    old = make_user("placeholder")
    old.login, old.login_key, old.login_skeleton = CYRILLIC_A_ADMIN, CYRILLIC_A_ADMIN, None
    db.session.commit()
    response = admin_client.post(
        f"/admin/users/{old.id}", data={"login": CYRILLIC_A_ADMIN, "groups": [2]}
    )
    assert response.status_code == 303
    assert not user_named(CYRILLIC_A_ADMIN).active
