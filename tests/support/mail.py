"""A real SMTP server in the test process (aiosmtpd) for the mail tests.

`SmtpServer` listens on a free port of 127.0.0.1 and records what it accepts; its
`RecordingHandler` can be told what to answer next (`451 …` once, then the usual `250`),
and the server can be stopped and started again on the same port, as a mail server that
goes away and comes back. `make_certificates` writes a private certificate authority and
a server certificate for 127.0.0.1 into a directory, for STARTTLS.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.servers import free_port

ACCEPTED = "250 2.0.0 Ok: queued"


@dataclass(frozen=True)
class Received:
    """One message the server took: its envelope, and the message as a reader sees it."""

    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage
    over_tls: bool
    login: str | None

    @property
    def text(self) -> str:
        return self._part("plain")

    @property
    def html(self) -> str:
        return self._part("html")

    def _part(self, subtype: str) -> str:
        """A part's text with local line ends (MIME keeps text in CRLF form)."""
        part = self.message.get_body((subtype,))
        assert part is not None, f"no text/{subtype} part"
        return str(part.get_content()).replace("\r\n", "\n")


class RecordingHandler:
    """Records accepted messages; answers RCPT or DATA as scripted, else accepts.

    `answer_rcpt("550 …")` and `answer_data("451 …", …)` queue answers given one per
    message, in order; `always_data("451 …")` answers every DATA so until cleared.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.data_attempts = 0
        self._rcpt_answers: deque[str] = deque()
        self._data_answers: deque[str] = deque()
        self._always_data: str | None = None

    def answer_rcpt(self, *answers: str) -> None:
        with self._lock:
            self._rcpt_answers.extend(answers)

    def answer_data(self, *answers: str) -> None:
        with self._lock:
            self._data_answers.extend(answers)

    def always_data(self, answer: str | None) -> None:
        with self._lock:
            self._always_data = answer

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            scripted = self._rcpt_answers.popleft() if self._rcpt_answers else None
        if scripted:
            return scripted
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.data_attempts += 1
            scripted = self._data_answers.popleft() if self._data_answers else self._always_data
            if scripted:
                return scripted
            message = BytesParser(policy=policy.default).parsebytes(envelope.content)
            self.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    recipients=tuple(envelope.rcpt_tos),
                    message=message,
                    over_tls=session.ssl is not None,
                    login=session.auth_data.login.decode() if session.authenticated else None,
                )
            )
        return ACCEPTED


class SmtpServer:
    """aiosmtpd on 127.0.0.1 in a thread of the test process, on a port kept across restarts."""

    def __init__(
        self,
        handler: RecordingHandler | None = None,
        *,
        tls_context: ssl.SSLContext | None = None,
        logins: dict[str, str] | None = None,
    ) -> None:
        self.handler = handler or RecordingHandler()
        self.port = free_port()
        self.host = "127.0.0.1"
        self._tls_context = tls_context
        self._logins = logins
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> SmtpServer:
        options: dict[str, Any] = {"server_hostname": "smtp.test"}
        if self._tls_context is not None:
            options["tls_context"] = self._tls_context
        if self._logins is not None:
            options["authenticator"] = _authenticator(self._logins)
        self._controller = Controller(self.handler, hostname=self.host, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @contextmanager
    def down(self) -> Iterator[None]:
        """Stopped inside the block, listening again (same port) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def settings(self, **more: Any) -> dict[str, Any]:
        """The console's MAIL_* settings for this server."""
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, **more}


def _authenticator(logins: dict[str, str]) -> Callable[..., AuthResult]:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            given = logins.get(auth_data.login.decode())
            if given is not None and given == auth_data.password.decode():
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    return authenticate


# --- certificates for STARTTLS ---------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificates(directory: Path) -> Certificates:
    """A private certificate authority and, signed by it, a certificate for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    not_before, not_after = now - timedelta(days=1), now + timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mail test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file = directory / "mail-ca.pem"
    cert_file = directory / "mail-server.pem"
    key_file = directory / "mail-server.key"
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    cert_file.write_bytes(cert.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificates(ca_file, cert_file, key_file)
