"""Mail servers: the one place that speaks SMTP.

It builds an e-mail from words already written (`RenderedMail`), opens a connection as
configured (plain, STARTTLS or SSL, certificates and host name checked, against
FLASK_MAIL_CA_FILE alone when it is set; a login when a user name is set), sends, and says
what the server answered. Whether a failure is worth another try is decided here, from the
answer: a 5xx to the message is permanent; a 4xx, a refused, timed-out or dropped
connection, and any failure before the message (greeting, EHLO, STARTTLS, login: about the
server or its settings, not the message) are temporary. It knows no outbox and no notice:
security.mail_outbox decides what to send and when.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Final

SECURITY_NONE: Final = "none"
SECURITY_STARTTLS: Final = "starttls"
SECURITY_SSL: Final = "ssl"
# The longest server answer kept.
ERROR_LENGTH: Final = 1000

# CRLF line ends and 7-bit bodies (quoted-printable or base64, whichever is shorter), so
# any server takes them, 8BITMIME or not.
_POLICY: Final = email_policy.SMTP.clone(cte_type="7bit")
# For a non-ASCII address: UTF-8 headers, sent only to a server offering SMTPUTF8.
_POLICY_UTF8: Final = email_policy.SMTPUTF8


@dataclass(frozen=True)
class RenderedMail:
    """An e-mail put into words for its recipient: subject, plain text, HTML alternative."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class MailServer:
    """Where and how mail goes out (FLASK_MAIL_*)."""

    host: str
    port: int
    security: str  # none, starttls or ssl
    username: str
    password: str = field(repr=False)  # never shown, logged or stored
    sender: str  # the From header; its address is the envelope sender
    timeout: float
    ca_file: str  # empty: the system's certificate authorities

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1] or self.sender

    @property
    def sender_domain(self) -> str:
        return self.sender_address.rpartition("@")[2] or "localhost"


class MailError(Exception):
    """A message the server did not take; the text is the server's answer (or what failed)."""


def mail_server_from(config: Mapping[str, Any]) -> MailServer | None:
    """The configured mail server, or None when FLASK_MAIL_SERVER is empty."""
    host = str(config.get("MAIL_SERVER") or "").strip()
    if not host:
        return None
    return MailServer(
        host=host,
        port=int(config["MAIL_PORT"]),
        security=str(config["MAIL_SECURITY"]),
        username=str(config["MAIL_USERNAME"] or ""),
        password=str(config["MAIL_PASSWORD"] or ""),
        sender=str(config["MAIL_FROM"]),
        timeout=float(config["MAIL_TIMEOUT"]),
        ca_file=str(config["MAIL_CA_FILE"] or ""),
    )


# ---------------------------------------------------------------------------- the message


def build_message(
    server: MailServer, recipient: str, rendered: RenderedMail, *, now: datetime, message_id: str
) -> EmailMessage:
    """The e-mail as it goes out: plain text with an HTML alternative, and its headers."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = server.sender
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(now.timestamp(), usegmt=True)
    message["Message-ID"] = message_id
    # RFC 3834: sent by a machine; vacation responders and auto-repliers keep quiet.
    message["Auto-Submitted"] = "auto-generated"
    # The same wish in Exchange's words (out-of-office and delivery receipts).
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def new_message_id(server: MailServer) -> str:
    return make_msgid(domain=server.sender_domain)


# ---------------------------------------------------------------------------- talking SMTP


class DeliveryFailure(Exception):
    """Why a message did not go: permanent (5xx to the message) or worth another try."""

    def __init__(self, text: str, permanent: bool) -> None:
        super().__init__(text)
        self.text = text
        self.permanent = permanent


def _answer(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}".strip()


def _failure(error: BaseException, *, stage: str, server: MailServer) -> DeliveryFailure:
    """Classify what smtplib, ssl or the socket raised; never mentions the password."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = list(error.recipients.values())
        permanent = bool(answers) and all(code >= 500 for code, _ in answers)
        text = "; ".join(_answer(code, reply) for code, reply in answers)
        return DeliveryFailure(text[:ERROR_LENGTH], permanent)
    if isinstance(error, smtplib.SMTPResponseException):
        text = _answer(error.smtp_code, error.smtp_error)
        # Before the message (greeting, EHLO, STARTTLS, AUTH) a 5xx is about the server or
        # its settings: every message would get it, so it is worth waiting for a fix.
        permanent = stage == "send" and 500 <= error.smtp_code < 600
        prefix = "" if stage == "send" else f"{stage}: "
        return DeliveryFailure(f"{prefix}{text}"[:ERROR_LENGTH], permanent)
    where = f"{server.host}:{server.port}"
    if isinstance(error, TimeoutError):
        text = f"{stage}: no answer from {where} within {server.timeout:g} s"
    elif isinstance(error, smtplib.SMTPServerDisconnected):
        text = f"{stage}: {where} closed the connection ({error})"
    elif isinstance(error, ssl.SSLError):
        text = f"{stage}: TLS with {where} failed: {error}"
    elif isinstance(error, OSError):
        text = f"{stage}: {where}: {error.strerror or error}"
    else:
        text = f"{stage}: {type(error).__name__}: {error}"
    return DeliveryFailure(text[:ERROR_LENGTH], False)


def _tls_context(server: MailServer) -> ssl.SSLContext:
    """Certificates and the host name are checked, against MAIL_CA_FILE when it is set."""
    return ssl.create_default_context(cafile=server.ca_file or None)


def _connect(server: MailServer) -> smtplib.SMTP:
    """Open a connection, secure it as configured and log in; raise DeliveryFailure if it fails."""
    stage = "connect"
    smtp: smtplib.SMTP | None = None
    try:
        if server.security == SECURITY_SSL:
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=_tls_context(server)
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        stage = "EHLO"
        smtp.ehlo_or_helo_if_needed()
        if server.security == SECURITY_STARTTLS:
            stage = "STARTTLS"
            smtp.starttls(context=_tls_context(server))
            smtp.ehlo_or_helo_if_needed()  # again, over TLS: what the server offers now
        if server.username:
            stage = "login"
            smtp.login(server.username, server.password)
    except (smtplib.SMTPException, OSError) as error:
        _close(smtp)
        raise _failure(error, stage=stage, server=server) from None
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _transmit(smtp: smtplib.SMTP, server: MailServer, recipient: str, message: EmailMessage) -> str:
    """MAIL, RCPT and DATA for one message; return the server's final answer.

    Done step by step rather than with sendmail() to keep the answer to DATA, which the
    settings page shows after a test message.
    """
    sender = server.sender_address
    international = not (sender.isascii() and recipient.isascii())
    if international and not smtp.has_extn("smtputf8"):
        raise DeliveryFailure(
            f"{server.host} does not take non-ASCII addresses (no SMTPUTF8)", True
        )
    data = message.as_bytes(policy=_POLICY_UTF8 if international else _POLICY)
    try:
        code, reply = smtp.mail(sender, ["SMTPUTF8", "BODY=8BITMIME"] if international else [])
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = smtp.data(data)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
    except smtplib.SMTPResponseException:
        _reset(smtp)
        raise
    return _answer(code, reply)


def _reset(smtp: smtplib.SMTP) -> None:
    """Start the next message on a clean transaction (RSET), as sendmail() does."""
    try:
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class Connection:
    """One SMTP connection for a round, opened when first needed and again after a drop.

    When the server cannot be reached, the rest of the round gets the same answer without
    a new try each: a server that is down costs one timeout per round, not one per message.
    """

    def __init__(self, server: MailServer) -> None:
        self.server = server
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: DeliveryFailure | None = None

    def send(self, recipient: str, message: EmailMessage) -> str:
        if self._unreachable is not None:
            raise self._unreachable
        if self._smtp is None or self._smtp.sock is None:
            try:
                self._smtp = _connect(self.server)
            except DeliveryFailure as failure:
                self._unreachable = failure
                raise
        try:
            return _transmit(self._smtp, self.server, recipient, message)
        except smtplib.SMTPResponseException as error:
            raise _failure(error, stage="send", server=self.server) from None
        except (smtplib.SMTPException, OSError) as error:
            # The connection is in an unknown state: the next message opens a new one.
            _close(self._smtp)
            self._smtp = None
            raise _failure(error, stage="send", server=self.server) from None

    def close(self) -> None:
        _close(self._smtp)
        self._smtp = None


def send_test_message(
    server: MailServer, recipient: str, rendered: RenderedMail, now: datetime
) -> str:
    """Send one message now (not through the outbox); return the server's answer.

    Raises MailError with the server's answer, or what went wrong, when it is not taken.
    """
    message = build_message(server, recipient, rendered, now=now, message_id=new_message_id(server))
    connection = Connection(server)
    try:
        return connection.send(recipient, message)
    except DeliveryFailure as failure:
        raise MailError(failure.text) from None
    finally:
        connection.close()
