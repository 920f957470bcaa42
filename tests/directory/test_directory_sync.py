"""Synchronisation with a real slapd: people, blocking, group mapping, paging, the command."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from security.messages import message
from tests.directory.conftest import ALICE, BOB, BULK, CAROL, VPN
from tests.support import events_of, snapshot
from tests.support.ldap import Slapd, needs_slapd

pytestmark = needs_slapd


def _sync(dry_run: bool = False) -> Any:
    from extensions import db
    from models import utcnow
    from security import directory

    summary = directory.synchronise(now=utcnow(), actor=None, ip="test", dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return summary


def _user(login: str) -> Any:
    from extensions import db
    from security.accounts import find_by_login

    db.session.expire_all()
    return find_by_login(login)


def _vpn_group() -> Any:
    from extensions import db
    from models import Group

    group = Group(name="VPN")
    db.session.add(group)
    db.session.commit()
    return group


def test_sync_brings_people_in_and_is_idempotent(
    app: Flask, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    first = _sync()
    assert (first.created, first.updated, first.blocked, first.errors) == (3, 0, 0, [])
    alice = _user("alice")
    assert alice.source == "directory" and alice.email == "alice@example.com"
    assert alice.directory_id  # the entry's entryUUID
    again = _sync()
    assert (again.created, again.updated, again.blocked, again.unchanged) == (0, 0, 0, 3)
    synced = events_of("directory_synced")
    assert "created=3" in synced[0].details and "unchanged=3" in synced[1].details


def test_a_change_in_the_directory_updates_the_user(
    app: Flask, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    _sync()
    slapd.modify(f"dn: {ALICE.dn}\nchangetype: modify\nreplace: mail\nmail: a.archer@example.com\n")
    summary = _sync()
    assert (summary.updated, summary.unchanged) == (1, 2)
    assert _user("alice").email == "a.archer@example.com"


def test_a_user_removed_from_the_directory_is_blocked_at_the_next_sync(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    _sync()
    assert client.post("/login", data={"login": "bob", "password": BOB.password}).status_code == 303
    bob_id = _user("bob").id
    slapd.delete(BOB.dn)
    summary = _sync()
    assert summary.blocked == 1
    bob = _user("bob")
    assert bob is not None and bob.id == bob_id and not bob.active  # blocked, not deleted
    assert bob.directory_blocked
    # The session he had is over, his history is still there, and he cannot sign in.
    assert client.get("/my/").status_code == 302
    assert [event.subject_id for event in events_of("sign_in")] == [bob_id]
    assert [event.subject_id for event in events_of("user_blocked")] == [bob_id]
    other = app.test_client()
    response = other.post("/login", data={"login": "bob", "password": BOB.password})
    assert message("login.invalid") in response.get_data(as_text=True)
    # Blocked users stay blocked (and counted unchanged) at the next sync.
    assert _sync().blocked == 0


def test_group_mapping_makes_two_step_mandatory_for_a_directory_group(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any, two_step_on: Any
) -> None:
    vpn = _vpn_group()
    use_directory(slapd, LDAP_GROUP_MAP={VPN.dn: vpn.id})
    two_step_on(mandatory=True, mandatory_groups=str(vpn.id), mandatory_days=0)
    _sync()
    # Alice is in vpn, Bob through the nested group ops, Carol in neither.
    assert [group.name for group in _user("alice").groups] == ["Employees", "VPN"]
    assert [group.name for group in _user("bob").groups] == ["Employees", "VPN"]
    assert [group.name for group in _user("carol").groups] == ["Employees"]
    response = client.post("/login", data={"login": "alice", "password": ALICE.password})
    assert response.headers["Location"].endswith("/login/connect")
    other = app.test_client()
    response = other.post("/login", data={"login": "carol", "password": CAROL.password})
    assert response.status_code == 303 and not response.headers["Location"].endswith("/connect")
    # Taken out of the group in the directory, Alice leaves the console group too.
    slapd.modify(f"dn: {VPN.dn}\nchangetype: modify\ndelete: member\nmember: {ALICE.dn}\n")
    _sync()
    assert [group.name for group in _user("alice").groups] == ["Employees"]


def test_a_user_signing_in_before_the_first_sync_gets_the_mapped_groups(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    vpn = _vpn_group()
    use_directory(slapd, LDAP_GROUP_MAP={VPN.dn: vpn.id})
    assert client.post("/login", data={"login": "bob", "password": BOB.password}).status_code == 303
    assert [group.name for group in _user("bob").groups] == ["Employees", "VPN"]
    summary = _sync()
    assert (summary.created, summary.unchanged) == (2, 1)


def test_local_users_are_left_alone_and_a_clashing_login_is_an_error(
    app: Flask, slapd: Slapd, use_directory: Any, make_user: Any
) -> None:
    make_user("carol", admin=True)
    use_directory(slapd)
    summary = _sync()
    assert summary.created == 2 and len(summary.errors) == 1 and "carol" in summary.errors[0]
    carol = _user("carol")
    assert carol.source == "local" and carol.active and carol.is_admin


def test_dry_run_changes_nothing(app: Flask, slapd: Slapd, use_directory: Any) -> None:
    use_directory(slapd)
    before = snapshot()
    summary = _sync(dry_run=True)
    assert summary.created == 3
    assert snapshot() == before


def test_the_command_prints_the_summary(
    app: Flask, runner: FlaskCliRunner, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    result = runner.invoke(args=["directory", "sync", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "created 3, updated 0, blocked 0, unchanged 0, errors 0" in result.output
    assert _user("alice") is None
    result = runner.invoke(args=["directory", "sync"])
    assert result.exit_code == 0, result.output
    assert "created 3, updated 0, blocked 0, unchanged 0, errors 0" in result.output
    assert _user("alice") is not None
    slapd.stop()
    result = runner.invoke(args=["directory", "sync"])
    assert result.exit_code != 0 and "cannot be read" in result.output
    assert _user("alice").active  # nothing was blocked while the directory was away


def test_the_command_without_a_directory_says_so(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["directory", "sync"])
    assert result.exit_code != 0 and message("directory.not_configured") in result.output


def test_a_sync_of_5000_users_is_paged(app: Flask, big_slapd: Slapd, use_directory: Any) -> None:
    use_directory(big_slapd)
    # The server answers at most 500 entries to one plain search: paging is needed.
    from ldap3 import SUBTREE, Connection, Server

    plain = Connection(
        Server("127.0.0.1", port=big_slapd.port),
        "cn=console,dc=example,dc=com",
        "service-secret",
        auto_bind=True,
    )
    try:
        plain.search("ou=people,dc=example,dc=com", "(uid=*)", SUBTREE, attributes=["uid"])
    except Exception:  # noqa: BLE001, S110 - sizeLimitExceeded, with raise_exceptions off
        pass
    assert len(plain.entries) <= 500
    plain.unbind()
    summary = _sync()
    assert (summary.created, summary.errors) == (BULK, [])
    again = _sync()
    assert (again.created, again.updated, again.unchanged) == (0, 0, BULK)


def test_a_user_disabled_by_user_account_control_is_blocked(
    app: Flask, client: FlaskClient, slapd: Slapd, use_directory: Any
) -> None:
    from tests.directory.conftest import DAVE

    use_directory(slapd)
    _sync()
    assert _user("dave") is None  # disabled people are not brought in
    response = client.post("/login", data={"login": "dave", "password": DAVE.password})
    assert message("login.invalid") in response.get_data(as_text=True)
    assert _user("dave") is None
    slapd.modify(
        f"dn: {ALICE.dn}\nchangetype: modify\nadd: objectClass\nobjectClass: extensibleObject\n"
        "-\nadd: userAccountControl\nuserAccountControl: 514\n"
    )
    assert _sync().blocked == 1
    assert not _user("alice").active
    slapd.modify(
        f"dn: {ALICE.dn}\nchangetype: modify\n"
        "replace: userAccountControl\nuserAccountControl: 512\n"
    )
    summary = _sync()
    assert (summary.updated, summary.blocked) == (1, 0)
    assert _user("alice").active  # enabled again in the directory, unblocked here


def test_a_user_renamed_in_the_directory_is_renamed_at_the_next_sync(
    app: Flask, slapd: Slapd, use_directory: Any
) -> None:
    use_directory(slapd)
    _sync()
    alice_id = _user("alice").id
    slapd.modify(f"dn: {ALICE.dn}\nchangetype: modrdn\nnewrdn: uid=aarcher\ndeleteoldrdn: 1\n")
    summary = _sync()
    assert (summary.created, summary.updated, summary.blocked) == (0, 1, 0)
    renamed = _user("aarcher")
    assert renamed.id == alice_id and renamed.active and _user("alice") is None
    assert renamed.directory_dn.startswith("uid=aarcher,")
