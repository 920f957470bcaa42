"""A real OpenLDAP directory for each test (and one with 5,000 people per module)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.support.ldap import (
    PEOPLE,
    DirectoryGroup,
    Person,
    Slapd,
    many_people,
)

ALICE = Person("alice", "alice-directory-pass", "Alice", "Archer", "alice@example.com")
BOB = Person("bob", "bob-directory-pass", "Bob", "Baker", "bob@example.com")
CAROL = Person("carol", "carol-directory-pass", "Carol", "Cooper", "carol@example.com")
# Disabled the Active Directory way: userAccountControl 514 (NORMAL_ACCOUNT | ACCOUNTDISABLE).
DAVE = Person("dave", "dave-directory-pass", "Dave", "Dunn", "dave@example.com", 514)
OPS = DirectoryGroup("ops", (BOB.dn,))
# VPN holds Alice directly and Bob through the nested group ops.
VPN = DirectoryGroup("vpn", (ALICE.dn, OPS.dn))
BULK = 5000


@pytest.fixture
def slapd(tmp_path: Path) -> Iterator[Slapd]:
    """A directory with Alice, Bob, Carol and disabled Dave, and the groups vpn and ops."""
    server = Slapd.create(tmp_path / "slapd", [ALICE, BOB, CAROL, DAVE], [OPS, VPN]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def big_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A directory of 5,000 people: more than ten times the server's size limit."""
    root = tmp_path_factory.mktemp("big") / "slapd"
    server = Slapd.create(root, many_people(BULK)).start()
    yield server
    server.stop()


@pytest.fixture
def use_directory(app: Flask) -> Callable[..., None]:
    """Point the console at a directory, as FLASK_LDAP_* settings would."""
    from security import directory

    def use(server: Slapd, **overrides: Any) -> None:
        app.config.update(server.console_settings(**overrides))
        directory.configure(app.config)

    return use


def dn_of(login: str) -> str:
    return f"uid={login},{PEOPLE}"
