"""Security events to syslog: real UDP, TCP and TLS receivers in the test process get one
RFC 5424 message per event, after the commit, with nothing secret; a full queue is counted."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from models import utcnow
from tests.support import DEFAULT_PASSWORD, totp_code
from tests.support.mail import make_certificates
from tests.support.metrics import parse_metrics, value
from tests.support.servers import free_port
from tests.support.syslog import SyslogReceiver, parse

SD_ID = "console@32473"


@pytest.fixture
def receiver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SyslogReceiver]:
    """A receiver of the scheme the test names (indirect parametrisation)."""
    certificates = make_certificates(tmp_path) if request.param == "tls" else None
    made = SyslogReceiver(
        request.param, tls_context=certificates.server_context() if certificates else None
    )
    made.ca_file = str(certificates.ca_file) if certificates else ""  # type: ignore[attr-defined]
    yield made
    made.close()


@pytest.fixture
def app_settings(app_settings: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """The console sends its events to the test's receiver, when it has one."""
    if "receiver" not in request.fixturenames:
        return app_settings
    receiver = request.getfixturevalue("receiver")
    return {
        **app_settings,
        "SYSLOG_ADDRESS": receiver.address,
        "SYSLOG_CA_FILE": receiver.ca_file,
    }


def sign_in_attempts(client: Any) -> None:
    client.post("/login", data={"login": "employee", "password": "not the password"})
    assert (
        client.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD}).headers[
            "Location"
        ]
        == "/login/otp"
    )
    assert client.post("/login/otp", data={"code": totp_code()}).headers["Location"] == "/my/"


@pytest.mark.parametrize("receiver", ["udp", "tcp", "tls"], indirect=True)
def test_each_event_of_a_sign_in_arrives_as_one_rfc_5424_message(
    receiver: SyslogReceiver,
    app: Flask,
    client: Any,
    employee: Any,
    two_step_on: Any,
    connect_device: Any,
) -> None:
    two_step_on()
    connect_device(employee)  # recorded before the test's sign-in: otp_connected and more
    already = receiver.settle()
    started = datetime.now(UTC)
    sign_in_attempts(client)
    messages = [parse(raw) for raw in receiver.wait_for(already + 4)[already:]]
    assert [m.msgid for m in messages] == [
        "sign_in_failed",
        "otp_code_requested",
        "otp_code_accepted",
        "sign_in",
    ]
    for message in messages:
        assert message.version == 1
        assert message.facility == 10  # authpriv: security and authorisation
        assert started - timedelta(seconds=1) <= message.timestamp <= datetime.now(UTC)
        assert message.hostname == socket.gethostname()[:255]
        assert message.app_name == "otp-console"
        assert message.procid == str(os.getpid())
        fields = message.structured[SD_ID]
        assert fields["type"] == message.msgid
        assert fields["subject"] == "employee"
        assert fields["address"] == "127.0.0.1"
    failed, *_, signed_in = messages
    assert failed.severity == 4  # warning
    assert failed.structured[SD_ID] == {
        "type": "sign_in_failed",
        "actor": "",
        "subject": "employee",
        "address": "127.0.0.1",
        "outcome": "failure",
    }
    assert failed.text == "reason=wrong password"
    assert signed_in.severity == 5  # notice
    assert signed_in.structured[SD_ID]["actor"] == "employee"
    assert signed_in.structured[SD_ID]["outcome"] == "success"
    assert signed_in.text == "method=otp"
    everything = b"".join(receiver.messages)
    for secret in (DEFAULT_PASSWORD, "not the password", totp_code()):
        assert secret.encode() not in everything
    if receiver.scheme != "udp":
        assert receiver.connections == 1  # one connection, kept open


@pytest.mark.parametrize("receiver", ["udp"], indirect=True)
def test_values_are_escaped_as_rfc_5424_asks(receiver: SyslogReceiver, client: Any) -> None:
    login = 'ev"il\\]admin'
    client.post("/login", data={"login": login, "password": "x"})
    [raw] = receiver.wait_for(1)
    assert b'subject="ev\\"il\\\\\\]admin"' in raw
    assert parse(raw).structured[SD_ID]["subject"] == login


@pytest.mark.parametrize("receiver", ["udp"], indirect=True)
def test_a_rolled_back_event_is_never_sent(receiver: SyslogReceiver, app: Flask) -> None:
    from extensions import db
    from security import events

    events.record(events.SIGN_OUT, now=utcnow(), ip="192.0.2.1", subject_login="rolled-back")
    db.session.rollback()
    events.record(events.SIGN_OUT, now=utcnow(), ip="192.0.2.1", subject_login="committed")
    db.session.commit()
    receiver.wait_for(1)
    time.sleep(0.3)  # anything else would have arrived by now
    assert [parse(raw).structured[SD_ID]["subject"] for raw in receiver.messages] == ["committed"]


@pytest.mark.parametrize("receiver", ["tcp"], indirect=True)
def test_a_receiver_that_restarts_gets_the_next_events(
    receiver: SyslogReceiver, app: Flask, client: Any
) -> None:
    client.post("/login", data={"login": "first", "password": "x"})
    receiver.wait_for(1)
    receiver.close()
    restarted = SyslogReceiver("tcp", port=receiver.port)
    try:
        deadline = time.monotonic() + 10
        while not restarted.messages and time.monotonic() < deadline:
            client.post("/login", data={"login": "again", "password": "x"})
            time.sleep(0.2)
        assert restarted.messages, "nothing arrived after the receiver came back"
        assert parse(restarted.messages[-1]).structured[SD_ID]["subject"] == "again"
    finally:
        restarted.close()


def test_a_full_queue_drops_the_event_and_counts_it(app: Flask, client: Any) -> None:
    from web import metrics, syslog_forwarder
    from web.syslog_forwarder import SyslogForwarder

    # A receiver that takes the connection but never answers the TLS handshake: the sender
    # is stuck on the first event, and the queue of two fills up.
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", free_port()))
    silent.listen(8)
    try:
        from integrations.syslog import parse_address

        port = silent.getsockname()[1]
        forwarder = SyslogForwarder(
            parse_address(f"tls://127.0.0.1:{port}"),
            dropped=metrics.count_syslog_dropped,
            queue_size=2,
        )
        from security import observers

        observers.subscribe("syslog", forwarder)
        before = parse_metrics(client.get("/metrics").get_data(as_text=True))
        started = time.monotonic()
        for number in range(6):
            client.post("/login", data={"login": f"user{number}", "password": "x"})
        assert time.monotonic() - started < 4  # the sign-ins never waited for the receiver
        after = parse_metrics(client.get("/metrics").get_data(as_text=True))
        dropped = "console_syslog_dropped_total"
        assert (
            value(after, dropped, reason="queue_full") - value(before, dropped, reason="queue_full")
            >= 3
        )
    finally:
        syslog_forwarder.configure("", ca_file=None, dropped=metrics.count_syslog_dropped)
        silent.close()


@pytest.mark.parametrize("receiver", ["tls"], indirect=True)
def test_a_command_sends_its_events_before_it_exits(
    receiver: SyslogReceiver, app: Flask, database_url: str, instance_dir: str
) -> None:
    # A receiver slow to answer: the command's process must wait for it before exiting.
    receiver.handshake_delay = 0.7
    import subprocess
    import sys

    from tests.support import BASE_SETTINGS
    from tests.support.servers import ROOT, instance_keys

    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env.update(
        {
            **instance_keys(instance_dir),
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "FLASK_SECRET_KEY": str(BASE_SETTINGS["SECRET_KEY"]),
            "FLASK_PASSWORD_ARGON2_TIME_COST": "1",
            "FLASK_PASSWORD_ARGON2_MEMORY_KIB": "8",
            "FLASK_PASSWORD_ARGON2_PARALLELISM": "1",
            "FLASK_SYSLOG_ADDRESS": receiver.address,
            "FLASK_SYSLOG_CA_FILE": receiver.ca_file,  # type: ignore[attr-defined]
        }
    )
    created = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "users", "create", "cli-made"]
        + ["--password", "a long enough password"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    [raw] = receiver.wait_for(1, seconds=1)  # it arrived while the command still ran
    message = parse(raw)
    assert message.msgid == "user_created"
    assert message.structured[SD_ID]["subject"] == "cli-made"
    assert message.structured[SD_ID]["address"] == "cli"
    assert b"a long enough password" not in raw
