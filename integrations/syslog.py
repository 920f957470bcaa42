"""Syslog, as a SIEM receives it: RFC 5424 messages over UDP, TCP or TLS.

* `parse_address` reads `udp://host:514`, `tcp://host:601` or `tls://host:6514`;
* `format_message` builds one RFC 5424 message (HEADER, STRUCTURED-DATA, MSG);
* `Transport` sends messages: one datagram each over UDP (RFC 5426), octet-counted
  frames (`LEN SP MSG`, RFC 6587 3.4.1) over TCP, and the same frames over TLS (RFC 5425),
  the server's certificate and name checked against the CA file (else the system's).

Nothing here knows about the console's events: the caller passes plain values.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit

SCHEMES: Final = ("udp", "tcp", "tls")
DEFAULT_PORTS: Final = {"udp": 514, "tcp": 601, "tls": 6514}

# Facilities and severities of RFC 5424 6.2.1.
FACILITY_AUTHPRIV: Final = 10
SEVERITY_WARNING: Final = 4
SEVERITY_NOTICE: Final = 5
SEVERITY_INFORMATIONAL: Final = 6

NILVALUE: Final = "-"
BOM: Final = b"\xef\xbb\xbf"
# RFC 5426 asks receivers for at least 2048 octets per datagram; longer MSG text is cut.
MAX_MESSAGE_OCTETS: Final = 2048
CONNECT_TIMEOUT: Final = 5.0


class InvalidAddress(ValueError):
    """An address the sender cannot use; the text says why."""


@dataclass(frozen=True)
class Address:
    scheme: str
    host: str
    port: int


def parse_address(text: str) -> Address:
    """Read `udp://host:port`, `tcp://host:port` or `tls://host:port` (port optional)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise InvalidAddress("expected udp://host:514, tcp://host:601 or tls://host:6514") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise InvalidAddress("expected udp://host:514, tcp://host:601 or tls://host:6514")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidAddress("expected only a scheme, a host and a port")
    return Address(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme])


# --- the message ----------------------------------------------------------------------


def _header_field(value: str, limit: int) -> str:
    """A HEADER field: printable US-ASCII without spaces, at most `limit` characters."""
    cleaned = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return cleaned or NILVALUE


def _param_name(name: str) -> str:
    """An SD-NAME: printable US-ASCII except `=`, space, `]` and `"`, at most 32."""
    cleaned = "".join(ch for ch in name if 33 <= ord(ch) <= 126 and ch not in '="]')[:32]
    if not cleaned:
        raise ValueError(f"unusable structured-data name {name!r}")
    return cleaned


def escape_param_value(value: str) -> str:
    """Escape a PARAM-VALUE as RFC 5424 6.3.3 asks: `"`, `\\` and `]` get a backslash."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as RFC 5424 6.2.3 allows."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_message(
    *,
    severity: int,
    moment: datetime,
    hostname: str,
    app_name: str,
    procid: str,
    msgid: str,
    sd_id: str,
    params: list[tuple[str, str]],
    text: str = "",
    facility: int = FACILITY_AUTHPRIV,
) -> bytes:
    """One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`."""
    header = " ".join(
        [
            f"<{facility * 8 + severity}>1",
            timestamp(moment),
            _header_field(hostname, 255),
            _header_field(app_name, 48),
            _header_field(procid, 128),
            _header_field(msgid, 32),
        ]
    )
    element = " ".join(
        [_param_name(sd_id)]
        + [f'{_param_name(name)}="{escape_param_value(value)}"' for name, value in params]
    )
    message = f"{header} [{element}]".encode()
    if text:
        room = MAX_MESSAGE_OCTETS - len(message) - 1 - len(BOM)
        body = text.encode("utf-8")
        if room > 0:
            if len(body) > room:
                body = body[:room].decode("utf-8", "ignore").encode("utf-8")
            message += b" " + BOM + body
    return message


def frame(message: bytes) -> bytes:
    """Octet counting (RFC 6587 3.4.1, RFC 5425 4.3): the length, a space, the message."""
    return str(len(message)).encode("ascii") + b" " + message


# --- sending --------------------------------------------------------------------------


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Check the server's certificate and name: against `ca_file` alone when given."""
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Transport:
    """A connection to one syslog receiver, opened when first needed and again after a loss."""

    def __init__(
        self, address: Address, *, ca_file: str | None = None, timeout: float = CONNECT_TIMEOUT
    ) -> None:
        self.address = address
        self.timeout = timeout
        self._context = tls_context(ca_file) if address.scheme == "tls" else None
        self._socket: socket.socket | None = None

    def send(self, message: bytes) -> None:
        """Send one message; raise OSError when the receiver cannot be reached."""
        if self.address.scheme == "udp":
            self._udp().sendto(message, (self.address.host, self.address.port))
            return
        data = frame(message)
        try:
            self._stream().sendall(data)
        except OSError:
            # A receiver that restarted closed the old connection: one new one, then give up.
            self.close()
            self._stream().sendall(data)

    def _udp(self) -> socket.socket:
        if self._socket is None:
            family = socket.getaddrinfo(
                self.address.host, self.address.port, type=socket.SOCK_DGRAM
            )[0][0]
            self._socket = socket.socket(family, socket.SOCK_DGRAM)
        return self._socket

    def _stream(self) -> socket.socket:
        if self._socket is None:
            sock = socket.create_connection(
                (self.address.host, self.address.port), timeout=self.timeout
            )
            if self._context is not None:
                try:
                    sock = self._context.wrap_socket(sock, server_hostname=self.address.host)
                except (OSError, ssl.SSLError):
                    sock.close()
                    raise
            self._socket = sock
        return self._socket

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None
