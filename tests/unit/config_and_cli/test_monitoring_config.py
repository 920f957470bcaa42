"""The metrics token and the syslog receiver: a bad value stops start-up with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import create_app


def _settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "a-test-secret-key-of-some-length",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'monitoring-test.db'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SYSLOG_ADDRESS": "syslog.example.com:514"}, "FLASK_SYSLOG_ADDRESS"),
        ({"SYSLOG_ADDRESS": "http://syslog.example.com"}, "FLASK_SYSLOG_ADDRESS"),
        ({"SYSLOG_ADDRESS": "udp://"}, "FLASK_SYSLOG_ADDRESS"),
        ({"SYSLOG_ADDRESS": "tcp://syslog.example.com:99999"}, "FLASK_SYSLOG_ADDRESS"),
        ({"SYSLOG_ADDRESS": "tcp://syslog.example.com:601/path"}, "FLASK_SYSLOG_ADDRESS"),
        (
            {"SYSLOG_ADDRESS": "tls://syslog.example.com", "SYSLOG_CA_FILE": "/no/such/ca.pem"},
            "FLASK_SYSLOG_CA_FILE",
        ),
        (
            {"SYSLOG_ADDRESS": "udp://syslog.example.com", "SYSLOG_CA_FILE": __file__},
            "FLASK_SYSLOG_CA_FILE",
        ),
        ({"METRICS_TOKEN": "two words"}, "FLASK_METRICS_TOKEN"),
    ],
)
def test_a_bad_monitoring_setting_stops_start_up_with_one_line(
    tmp_path: Path, overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        create_app(_settings(tmp_path, **overrides))
    text = str(stopped.value.code)
    assert text.startswith(f"console: invalid setting {named}: ")
    assert "\n" not in text
    assert "two words" not in text  # a token is never echoed


@pytest.mark.parametrize(
    "address", ["udp://127.0.0.1:514", "tcp://syslog.example.com:601", "tls://[::1]:6514"]
)
def test_good_addresses_start(tmp_path: Path, address: str) -> None:
    from web import metrics, syslog_forwarder

    try:
        app = create_app(_settings(tmp_path, SYSLOG_ADDRESS=address, METRICS_TOKEN=123456))
        assert app.config["METRICS_TOKEN"] == "123456"  # a number in the environment is text
    finally:
        syslog_forwarder.configure("", ca_file=None, dropped=metrics.count_syslog_dropped)
