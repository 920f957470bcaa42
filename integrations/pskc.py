"""Token seed files from hardware token vendors: the one place that reads them.

PSKC (RFC 6030) is read with python-pskc, its XML parsed by defusedxml with no document
type, no entities and no external references allowed (a billion-laughs or external-entity
file is refused before any expansion); plain, encrypted with a pre-shared AES key, or with
a key derived from a password (PBKDF2). CSV has the columns
``serial,secret,type,digits,period,counter`` (an optional header line; the secret in hex or
Base32; empty digits, period and counter take 6, 30 and 0).

Out comes plain data: a list of `TokenRecord`, or `TokenFileRefused` with every problem
found, each naming its line or key. Problems are codes with values; the domain puts
them into words. Nothing here knows the database.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final
from xml.etree.ElementTree import ParseError as XmlParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from pskc import PSKC
from pskc.exceptions import PSKCError
from pskc.parser import PSKCParser

# The largest seed file read (a vendor's file of some ten thousand tokens is far smaller).
MAX_FILE_BYTES: Final = 5 * 1024 * 1024
# Seeds: RFC 6030's own examples carry 4-byte seeds; real tokens 20 bytes or more.
MIN_SEED_BYTES: Final = 4
MAX_SEED_BYTES: Final = 64
MAX_SERIAL_LENGTH: Final = 64
DIGITS: Final = (6, 8)
MIN_PERIOD: Final = 10
MAX_PERIOD: Final = 300
MAX_COUNTER: Final = 2**31 - 1
CSV_COLUMNS: Final = ("serial", "secret", "type", "digits", "period", "counter")

_HEX_RE: Final = re.compile(r"[0-9a-fA-F]+")
_BASE32_RE: Final = re.compile(r"[A-Z2-7]+=*")
_SERIAL_RE: Final = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
_KINDS: Final = {"hotp": "hotp", "totp": "totp"}
_HASHES: Final = ("SHA512", "SHA256", "SHA1")


@dataclass(frozen=True)
class TokenRecord:
    """One token read from a file: its seed and how it makes codes."""

    serial: str
    secret: bytes = field(repr=False)
    kind: str  # totp | hotp
    digits: int
    period: int
    counter: int
    algorithm: str  # SHA1 | SHA256 | SHA512
    line: int | None = None  # CSV: where it was read
    entry: str | None = None  # PSKC: the key's Id (or serial)


@dataclass(frozen=True)
class Problem:
    """What is wrong, as a code (`secret_missing`, …) and values, and where."""

    code: str
    line: int | None = None
    entry: str | None = None
    values: Mapping[str, object] = field(default_factory=dict)


class TokenFileRefused(Exception):
    """The file cannot be imported; `problems` says every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(", ".join(problem.code for problem in problems))
        self.problems = problems


def read_token_file(data: bytes, *, password: str = "", key_hex: str = "") -> list[TokenRecord]:
    """Read a PSKC or CSV file whole; raise TokenFileRefused with every problem found."""
    if not data.strip():
        raise TokenFileRefused([Problem("empty")])
    if len(data) > MAX_FILE_BYTES:
        raise TokenFileRefused([Problem("too_large", values={"megabytes": MAX_FILE_BYTES >> 20})])
    if password and key_hex:
        raise TokenFileRefused([Problem("password_and_key")])
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"<"):
        return _read_pskc(data, password=password, key_hex=key_hex)
    return _read_csv(data)


# --- PSKC ------------------------------------------------------------------------------------


def _read_pskc(data: bytes, *, password: str, key_hex: str) -> list[TokenRecord]:
    try:
        # forbid_dtd: no DOCTYPE at all, so neither entity expansion nor external
        # references can happen; entities and external references are refused as well.
        root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise TokenFileRefused([Problem("xml_unsafe")]) from None
    except (XmlParseError, ValueError):
        raise TokenFileRefused([Problem("xml_invalid")]) from None
    container = PSKC()
    try:
        PSKCParser.parse_document(container, root)
    except (PSKCError, ValueError, TypeError, binascii.Error):
        raise TokenFileRefused([Problem("pskc_invalid")]) from None
    _unlock(container, password=password, key_hex=key_hex)
    if not container.keys:
        raise TokenFileRefused([Problem("no_tokens")])
    records: list[TokenRecord] = []
    problems: list[Problem] = []
    for key in container.keys:
        try:
            records.append(_record_of_key(key))
        except _KeyProblem as problem:
            problems.append(problem.problem)
    if problems and not records and all(p.code == "decryption_failed" for p in problems):
        # Not one key opens: the key or password is wrong, not each entry.
        raise TokenFileRefused([Problem("password_wrong" if password else "key_wrong")])
    if problems:
        raise TokenFileRefused(problems)
    return records


def _unlock(container: PSKC, *, password: str, key_hex: str) -> None:
    """Give the container its decryption key, from the key given or the password."""
    encryption = container.encryption
    if not encryption.is_encrypted:
        return
    if not password and not key_hex:
        needed = "password_needed" if encryption.derivation.algorithm else "key_needed"
        raise TokenFileRefused([Problem(needed)])
    if key_hex:
        compact = "".join(key_hex.split())
        if not _HEX_RE.fullmatch(compact) or len(compact) not in (32, 48, 64):
            raise TokenFileRefused([Problem("key_format")])
        encryption.key = bytes.fromhex(compact)
        return
    if not encryption.derivation.algorithm:
        raise TokenFileRefused([Problem("key_needed")])
    try:
        encryption.derive_key(password)
    except (PSKCError, ValueError, TypeError):
        raise TokenFileRefused([Problem("password_unusable")]) from None


class _KeyProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def _record_of_key(key: object) -> TokenRecord:
    """One PSKC key as a record, or the first thing wrong with it."""
    key_id = str(getattr(key, "id", "") or "")
    serial = str(getattr(key, "serial", "") or "").strip() or key_id.strip()
    entry = serial or key_id or "?"

    def problem(code: str, **values: object) -> _KeyProblem:
        return _KeyProblem(Problem(code, entry=entry, values=values))

    try:
        secret = getattr(key, "secret", None)
        counter = getattr(key, "counter", None)
        period = getattr(key, "time_interval", None)
    except PSKCError:
        # A wrong pre-shared key or password: the padding or the MAC does not check out.
        raise problem("decryption_failed") from None
    except (ValueError, TypeError):
        raise problem("decryption_failed") from None
    algorithm_uri = str(getattr(key, "algorithm", "") or "")
    kind = _KINDS.get(re.split(r"[:#]", algorithm_uri)[-1].lower()) if algorithm_uri else None
    if kind is None:
        raise problem("type_unsupported", type=algorithm_uri or "—")
    suite = str(getattr(key, "algorithm_suite", "") or "").upper().replace("-", "")
    algorithm = next((name for name in _HASHES if name in suite), "SHA1")
    digits = getattr(key, "response_length", None) or 6
    return _checked(
        serial=serial,
        secret=secret if isinstance(secret, bytes) else None,
        kind=kind,
        digits=digits,
        period=period or 30,
        counter=counter or 0,
        algorithm=algorithm,
        fail=problem,
        line=None,
        entry=entry,
    )


# --- CSV -------------------------------------------------------------------------------------


def _read_csv(data: bytes) -> list[TokenRecord]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TokenFileRefused([Problem("encoding")]) from None
    records: list[TokenRecord] = []
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if line == 1 and cells[0].lower() == "serial":
                continue  # the header
            try:
                records.append(_record_of_row(cells, line))
            except _KeyProblem as problem:
                problems.append(problem.problem)
    except csv.Error:
        problems.append(Problem("csv_invalid", line=reader.line_num))
    if problems:
        raise TokenFileRefused(problems)
    if not records:
        raise TokenFileRefused([Problem("no_tokens")])
    return records


def _record_of_row(cells: list[str], line: int) -> TokenRecord:
    def problem(code: str, **values: object) -> _KeyProblem:
        return _KeyProblem(Problem(code, line=line, values=values))

    if len(cells) < 3 or len(cells) > len(CSV_COLUMNS):
        raise problem("csv_columns", columns=",".join(CSV_COLUMNS))
    serial, secret_text, kind_text, *rest = cells + [""] * (len(CSV_COLUMNS) - len(cells))
    kind = _KINDS.get(kind_text.lower())
    if kind is None:
        raise problem("type_unsupported", type=kind_text or "—")
    numbers: list[int | None] = []
    for name, text in zip(("digits", "period", "counter"), rest, strict=True):
        if not text:
            numbers.append(None)
        elif text.isdigit() and len(text) <= 12:
            numbers.append(int(text))
        else:
            raise problem(f"{name}_invalid")
    digits, period, counter = numbers
    return _checked(
        serial=serial,
        secret=_decode_secret(secret_text, problem),
        kind=kind,
        digits=digits if digits is not None else 6,
        period=period if period is not None else 30,
        counter=counter if counter is not None else 0,
        algorithm="SHA1",
        fail=problem,
        line=line,
        entry=None,
    )


def _decode_secret(text: str, fail: Callable[..., _KeyProblem]) -> bytes | None:
    """A seed typed as hex or Base32, read as the manual hardware form reads it."""
    compact = "".join(text.split())
    if not compact:
        return None
    hex_text = compact.replace(":", "")
    looks_hex = _HEX_RE.fullmatch(hex_text) is not None
    base32_text = compact.upper()
    looks_base32 = ":" not in compact and _BASE32_RE.fullmatch(base32_text) is not None
    try:
        if looks_hex and (":" in compact or (len(hex_text) % 2 == 0 and len(hex_text) >= 20)):
            return bytes.fromhex(hex_text)
        if looks_base32:
            unpadded = base32_text.rstrip("=")
            return base64.b32decode(unpadded + "=" * (-len(unpadded) % 8))
        if looks_hex:
            return bytes.fromhex(hex_text)
    except (ValueError, binascii.Error):
        pass
    raise fail("secret_format")


# --- the checks both formats share -------------------------------------------------------------


def _checked(
    *,
    serial: str,
    secret: bytes | None,
    kind: str,
    digits: object,
    period: object,
    counter: object,
    algorithm: str,
    fail: Callable[..., _KeyProblem],
    line: int | None,
    entry: str | None,
) -> TokenRecord:
    if not serial:
        raise fail("serial_missing")
    if len(serial) > MAX_SERIAL_LENGTH or not _SERIAL_RE.fullmatch(serial):
        raise fail("serial_invalid", max=MAX_SERIAL_LENGTH)
    if not secret:
        raise fail("secret_missing")
    if not MIN_SEED_BYTES <= len(secret) <= MAX_SEED_BYTES:
        raise fail("secret_length", min=MIN_SEED_BYTES * 8, max=MAX_SEED_BYTES * 8)
    if not isinstance(digits, int) or digits not in DIGITS:
        raise fail("digits_invalid")
    if not isinstance(period, int) or not MIN_PERIOD <= period <= MAX_PERIOD:
        raise fail("period_invalid")
    if not isinstance(counter, int) or not 0 <= counter <= MAX_COUNTER:
        raise fail("counter_invalid")
    return TokenRecord(
        serial=serial,
        secret=secret,
        kind=kind,
        digits=digits,
        period=period if kind == "totp" else 30,
        counter=counter if kind == "hotp" else 0,
        algorithm=algorithm,
        line=line,
        entry=entry,
    )
