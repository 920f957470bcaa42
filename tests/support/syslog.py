"""Real syslog receivers in the test process (UDP, TCP, TLS) and an RFC 5424 parser.

`SyslogReceiver("udp" | "tcp" | "tls")` listens on a free port of 127.0.0.1 in a thread
and keeps every message it gets: one per datagram over UDP, octet-counted frames
(`LEN SP MSG`, RFC 6587 / RFC 5425) over TCP and TLS. `parse` reads a message as a SIEM
would, independently of the console's own formatter, and fails on anything malformed.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from tests.support.servers import free_port

WAIT_SECONDS = 10


class SyslogReceiver:
    def __init__(
        self,
        scheme: str,
        *,
        tls_context: ssl.SSLContext | None = None,
        port: int | None = None,
        handshake_delay: float = 0.0,
    ) -> None:
        self.scheme = scheme
        self.handshake_delay = handshake_delay  # a slow receiver: seconds before TLS answers
        self.port = port or free_port()
        self.messages: list[bytes] = []
        self.connections = 0
        self._tls_context = tls_context
        self._lock = threading.Lock()
        self._closing = False
        self._open: list[socket.socket] = []
        if scheme == "udp":
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.bind(("127.0.0.1", self.port))
            target = self._receive_datagrams
        else:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(("127.0.0.1", self.port))
            self._socket.listen(8)
            target = self._accept
        self._socket.settimeout(0.2)
        threading.Thread(target=target, daemon=True).start()

    @property
    def address(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stop listening and drop every connection, as a receiver that goes down."""
        self._closing = True
        for sock in [self._socket, *self._open]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def wait_for(self, count: int, seconds: float = WAIT_SECONDS) -> list[bytes]:
        """Wait until `count` messages arrived; return them all."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self._lock:
            raise AssertionError(f"{len(self.messages)} messages of {count}: {self.messages!r}")

    def settle(self, quiet: float = 0.3) -> int:
        """Wait until nothing has arrived for `quiet` seconds; return how many arrived."""
        count = -1
        while True:
            with self._lock:
                now_count = len(self.messages)
            if now_count == count:
                return count
            count = now_count
            time.sleep(quiet)

    def _keep(self, message: bytes) -> None:
        with self._lock:
            self.messages.append(message)

    def _receive_datagrams(self) -> None:
        while not self._closing:
            try:
                data, _ = self._socket.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self._keep(data)

    def _accept(self) -> None:
        while not self._closing:
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._open.append(connection)
            threading.Thread(target=self._read_frames, args=(connection,), daemon=True).start()

    def _read_frames(self, connection: socket.socket) -> None:
        connection.settimeout(None)
        try:
            if self._tls_context is not None:
                time.sleep(self.handshake_delay)
                connection = self._tls_context.wrap_socket(connection, server_side=True)
            buffer = b""
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                while b" " in buffer:
                    length_text, _, rest = buffer.partition(b" ")
                    assert length_text.isdigit(), f"not octet-counted: {buffer[:60]!r}"
                    length = int(length_text)
                    if len(rest) < length:
                        break
                    self._keep(rest[:length])
                    buffer = rest[length:]
        except (OSError, ssl.SSLError):
            return
        finally:
            connection.close()


# --- RFC 5424 -------------------------------------------------------------------------

HEADER = re.compile(
    rb"^<(?P<pri>\d{1,3})>(?P<version>[1-9]\d{0,2}) "
    rb"(?P<timestamp>\S+) (?P<hostname>[\x21-\x7e]{1,255}) (?P<app>[\x21-\x7e]{1,48}) "
    rb"(?P<procid>[\x21-\x7e]{1,128}) (?P<msgid>[\x21-\x7e]{1,32}) "
)
SD_NAME = re.compile(rb'[^\x00-\x20\x7f-\xff="\]]{1,32}')
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$")
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Parsed:
    facility: int
    severity: int
    version: int
    timestamp: datetime
    hostname: str
    app_name: str
    procid: str
    msgid: str
    structured: dict[str, dict[str, str]]
    text: str


def _sd_elements(data: bytes) -> tuple[dict[str, dict[str, str]], bytes]:
    """Read `[ID name="value" …]…` (or `-`); return the elements and what follows."""
    if data.startswith(b"-"):
        return {}, data[1:]
    elements: dict[str, dict[str, str]] = {}
    position = 0
    while position < len(data) and data[position : position + 1] == b"[":
        match = SD_NAME.match(data, position + 1)
        assert match, f"no SD-ID at {data[position:]!r}"
        sd_id = match.group().decode("ascii")
        assert "=" not in sd_id and '"' not in sd_id
        params: dict[str, str] = {}
        position = match.end()
        while data[position : position + 1] == b" ":
            name_end = data.index(b"=", position + 1)
            name = data[position + 1 : name_end].decode("ascii")
            assert SD_NAME.fullmatch(name.encode("ascii")), name
            assert data[name_end + 1 : name_end + 2] == b'"', "a PARAM-VALUE must be quoted"
            value = bytearray()
            cursor = name_end + 2
            while True:
                byte = data[cursor : cursor + 1]
                assert byte, "an unterminated PARAM-VALUE"
                if byte == b"\\" and data[cursor + 1 : cursor + 2] in (b'"', b"\\", b"]"):
                    value += data[cursor + 1 : cursor + 2]
                    cursor += 2
                    continue
                assert byte != b"]", "an unescaped ] inside a PARAM-VALUE"
                if byte == b'"':
                    break
                value += byte
                cursor += 1
            params[name] = value.decode("utf-8")
            position = cursor + 1
        assert data[position : position + 1] == b"]", f"SD-ELEMENT not closed: {data!r}"
        elements[sd_id] = params
        position += 1
    return elements, data[position:]


def parse(message: bytes) -> Parsed:
    """Read one RFC 5424 message; fail on anything the RFC does not allow."""
    header = HEADER.match(message)
    assert header, f"not an RFC 5424 header: {message[:120]!r}"
    stamp = header["timestamp"].decode("ascii")
    assert TIMESTAMP.match(stamp), stamp
    structured, rest = _sd_elements(message[header.end() :])
    text = b""
    if rest:
        assert rest.startswith(b" "), f"no space before MSG: {rest!r}"
        text = rest[1:]
        if text.startswith(BOM):
            text = text[len(BOM) :]
    pri = int(header["pri"])
    assert pri <= 191
    return Parsed(
        facility=pri // 8,
        severity=pri % 8,
        version=int(header["version"]),
        timestamp=datetime.fromisoformat(stamp.replace("Z", "+00:00")),
        hostname=header["hostname"].decode("ascii"),
        app_name=header["app"].decode("ascii"),
        procid=header["procid"].decode("ascii"),
        msgid=header["msgid"].decode("ascii"),
        structured=structured,
        text=text.decode("utf-8"),
    )
