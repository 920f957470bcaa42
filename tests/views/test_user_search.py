"""The user list's search: what it finds, on SQLite (FTS5 trigram index) and PostgreSQL
(pg_trgm), that the SQLite index follows every change of a user, and the capped count."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert

from security.messages import message

PASSWORD = "correct horse battery"


def _listed_logins(response: Any) -> list[str]:
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', body)


def _search(client: Any, text: str) -> list[str]:
    return _listed_logins(client.get("/admin/users", query_string={"q": text}))


def _create(login: str, *, email: str = "", name: str = "", last_name: str = "") -> Any:
    from extensions import db
    from models import utcnow
    from security.accounts import Profile, create_user

    profile = Profile(email=email, name=name, last_name=last_name)
    user = create_user(login, PASSWORD, now=utcnow(), profile=profile)
    db.session.commit()
    return user


@pytest.fixture
def people(admin: Any) -> None:
    _create("alice", email="alice@corp.example", name="Alice", last_name="Novak")
    _create("bob", email="robert@home.example", name="Bobby", last_name="Smith")
    _create("carol_x", name="Carol", last_name="Novakova")
    _create("dave", email="dave@axb.example", name="Dave", last_name="50% Sale")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # Three characters or more: the trigram index on either database.
        ("alice", ["alice"]),  # login, name and e-mail alike
        ("bobby", ["bob"]),  # first name
        ("smith", ["bob"]),  # last name
        ("home.example", ["bob"]),  # e-mail
        ("NoVaK", ["alice", "carol_x"]),  # any case, a substring
        ("ovakov", ["carol_x"]),  # inside a word
        ("  SMI ", ["bob"]),  # spaces around are not searched for
        ("carol x", []),  # the login and the name are not one text
        # One or two characters: no trigram, the LIKE that reads every user.
        ("BO", ["bob"]),
        ("oV", ["alice", "carol_x"]),
        ("k", ["alice", "carol_x"]),
        # LIKE's wildcards and FTS5's quote are searched for as they are.
        ("_", ["carol_x"]),
        ("_x", ["carol_x"]),
        ("ol_x", ["carol_x"]),
        ("a_b", []),  # not "axb"
        ("%", ["dave"]),
        ("50%", ["dave"]),
        ("0% s", ["dave"]),
        ("%a%", []),
        ('"', []),
        ('al"ice', []),
        ("nobody", []),
    ],
)
def test_the_search_finds_by_login_name_last_name_and_email(
    people: None, admin_client: Any, text: str, found: list[str]
) -> None:
    assert _search(admin_client, text) == found


def test_the_index_follows_inserts_updates_and_deletes(admin: Any, admin_client: Any) -> None:
    from extensions import db
    from models import utcnow
    from security.accounts import Profile, update_user

    assert _search(admin_client, "hermione") == []
    user = _create("hgranger", email="hermione@school.example", name="Hermione")
    assert _search(admin_client, "hermione") == ["hgranger"]

    update_user(
        user,
        now=utcnow(),
        actor=admin,
        ip="test",
        login="hweasley",
        profile=Profile(email="hw@ministry.example", name="Hermione", last_name="Weasley"),
        active=True,
        group_ids=[group.id for group in user.groups],
    )
    db.session.commit()
    assert _search(admin_client, "weasley") == ["hweasley"]  # login and new last name
    assert _search(admin_client, "ministry") == ["hweasley"]
    assert _search(admin_client, "hermione") == ["hweasley"]  # the name kept
    assert _search(admin_client, "granger") == []  # the old login is gone
    assert _search(admin_client, "school") == []  # and the old e-mail

    # A change of other columns (a sign-in, blocking) leaves the user findable.
    user.last_sign_in_at = utcnow()
    user.active = False
    db.session.commit()
    assert _search(admin_client, "weasley") == ["hweasley"]

    db.session.delete(user)
    db.session.commit()
    assert _search(admin_client, "weasley") == []
    assert _search(admin_client, "hermione") == []


def _bulk_users(prefix: str, count: int, last_name: str) -> None:
    """Insert `count` users in one statement: no password hashing, no events."""
    from extensions import db
    from models import User, utcnow

    now = utcnow()
    db.session.execute(
        insert(User),
        [
            {
                "login": f"{prefix}{number:05d}",
                "login_key": f"{prefix}{number:05d}",
                "login_skeleton": f"{prefix}{number:05d}",
                "email": "",
                "name": "",
                "last_name": last_name,
                "active": True,
                "password_hash": "x",
                "created_at": now,
            }
            for number in range(count)
        ],
    )
    db.session.commit()


def test_a_search_counts_to_1000_and_then_says_more_than_1000(
    app: Flask, admin: Any, admin_client: Any
) -> None:
    _bulk_users("many", 1000, "Manifold")
    page = admin_client.get("/admin/users?q=manifold").get_data(as_text=True)
    assert message("nav.page_of", page=1, pages=20, total="1,000") in page

    _bulk_users("more", 100, "Manifold")  # 1,100 now
    for text in ("manifold", "ma"):  # the index, and LIKE
        response = admin_client.get("/admin/users", query_string={"q": text})
        page = response.get_data(as_text=True)
        assert len(_listed_logins(response)) == 50
        assert message("nav.page_of_many", page=1, total="1,000") in page
        assert "more than 1,000 in all" in page
        assert 'rel="next"' in page and 'rel="prev"' not in page

    # Pages go on past the cap, with a next page while there is one.
    page_21 = admin_client.get("/admin/users?q=manifold&page=21")
    assert _listed_logins(page_21)[0] == "more00000"
    assert message("nav.page_of_many", page=21, total="1,000") in page_21.get_data(as_text=True)
    assert 'rel="next"' in page_21.get_data(as_text=True)
    # The last page knows the total: it holds the last of the matches.
    last = admin_client.get("/admin/users?q=manifold&page=22").get_data(as_text=True)
    assert message("nav.page_of", page=22, pages=22, total="1,100") in last
    assert 'rel="next"' not in last and 'rel="prev"' in last
    # Past the end: nothing, and no claim of more.
    beyond = admin_client.get("/admin/users?q=manifold&page=40")
    assert _listed_logins(beyond) == []
