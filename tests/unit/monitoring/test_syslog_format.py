"""The RFC 5424 message and its framing, as integrations.syslog builds them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations import syslog
from tests.support.syslog import parse

MOMENT = datetime(2026, 11, 29, 20, 37, 3, 123456, tzinfo=UTC)


def build(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "severity": syslog.SEVERITY_NOTICE,
        "moment": MOMENT,
        "hostname": "console-1.example.com",
        "app_name": "otp-console",
        "procid": "4242",
        "msgid": "sign_in",
        "sd_id": "console@32473",
        "params": [("type", "sign_in"), ("actor", "ivanov")],
        "text": "method=otp",
        **changes,
    }
    return syslog.format_message(**fields)  # type: ignore[arg-type]


def test_the_message_is_rfc_5424() -> None:
    message = build()
    assert message == (
        b"<85>1 2026-11-29T20:37:03.123456Z console-1.example.com otp-console 4242 sign_in "
        b'[console@32473 type="sign_in" actor="ivanov"] \xef\xbb\xbfmethod=otp'
    )
    parsed = parse(message)
    assert (parsed.facility, parsed.severity) == (10, 5)
    assert parsed.timestamp == MOMENT


def test_header_fields_hold_only_printable_ascii() -> None:
    parsed = parse(build(hostname="host name\n", msgid="", procid="пид"))
    assert parsed.hostname == "hostname"
    assert parsed.msgid == "-"  # the NILVALUE
    assert parsed.procid == "-"


def test_values_are_escaped_and_may_be_any_utf8() -> None:
    value = 'Иванов "the ]boss\\"'
    message = build(params=[("subject", value)])
    assert 'subject="Иванов \\"the \\]boss\\\\\\""'.encode() in message
    assert parse(message).structured["console@32473"]["subject"] == value


def test_a_long_text_is_cut_to_the_size_every_receiver_takes() -> None:
    message = build(text="я" * 5000)
    assert len(message) <= syslog.MAX_MESSAGE_OCTETS
    assert set(parse(message).text) == {"я"}  # cut between characters, never inside one


def test_octet_counting_frames() -> None:
    assert syslog.frame(b"<85>1 - - - - - -") == b"17 <85>1 - - - - - -"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("udp://syslog.example.com", ("udp", "syslog.example.com", 514)),
        ("tcp://10.0.0.5:1601", ("tcp", "10.0.0.5", 1601)),
        ("tls://[2001:db8::1]", ("tls", "2001:db8::1", 6514)),
    ],
)
def test_addresses(text: str, expected: tuple[str, str, int]) -> None:
    address = syslog.parse_address(text)
    assert (address.scheme, address.host, address.port) == expected
