"""FLASK_LDAP_* settings: read from the environment, checked at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import create_app
from tests.unit.config_and_cli.test_config import _settings


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("LDAP_URL", "http://directory.example"),
        ("LDAP_URL", "ldap://"),
        ("LDAP_URL", "ldaps://host:notaport"),
        ("LDAP_START_TLS", "perhaps"),
        ("LDAP_CA_FILE", "/no/such/ca.pem"),
        ("LDAP_LOGIN_ATTRIBUTE", "cn"),
        ("LDAP_GROUP_MAP", "{not json"),
        ("LDAP_GROUP_MAP", '{"cn=vpn,dc=example,dc=com": "three"}'),
        ("LDAP_GROUP_MAP", "[1, 2]"),
    ],
)
def test_a_bad_directory_setting_stops_start_up_with_one_line(
    tmp_path: Path, key: str, value: Any
) -> None:
    with pytest.raises(SystemExit) as stopped:
        create_app(_settings(tmp_path, **{key: value}))
    text = str(stopped.value.code)
    assert f"FLASK_{key}" in text and "\n" not in text


def test_directory_settings_are_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from security import directory

    monkeypatch.setenv("FLASK_SECRET_KEY", "a-test-secret-key-of-some-length")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("FLASK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FLASK_LDAP_URL", "ldaps://one.example ldap://two.example:1389")
    monkeypatch.setenv("FLASK_LDAP_START_TLS", "false")
    monkeypatch.setenv("FLASK_LDAP_BIND_PASSWORD", "12345")
    monkeypatch.setenv("FLASK_LDAP_GROUP_MAP", '{"cn=vpn,ou=groups,dc=example,dc=com": 3}')
    create_app()
    fixed = directory.fixed_settings()
    assert fixed == {
        "urls": ("ldaps://one.example", "ldap://two.example:1389"),
        "start_tls": False,
        "group_map": {"cn=vpn,ou=groups,dc=example,dc=com": 3},
    }
    # Without them, nothing is fixed: the settings page decides.
    monkeypatch.delenv("FLASK_LDAP_URL")
    monkeypatch.delenv("FLASK_LDAP_START_TLS")
    monkeypatch.delenv("FLASK_LDAP_BIND_PASSWORD")
    monkeypatch.delenv("FLASK_LDAP_GROUP_MAP")
    create_app()
    assert directory.fixed_settings() == {}
