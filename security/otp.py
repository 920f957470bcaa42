"""One-time password engine: HOTP (RFC 4226) and TOTP (RFC 6238) as pure functions.

Nothing here touches a request, a session or the database. Time is always a
parameter (``now``, a timezone-aware datetime), so callers and tests decide
what "now" is. Codes are computed by pyotp; the look-ahead window, replay
refusal, drift learning and synchronisation are this module's job because
pyotp only checks a single counter or step.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args
from urllib.parse import quote

import pyotp

from security.messages import message

__all__ = [
    "MAX_SECRET_BYTES",
    "MIN_SECRET_BYTES",
    "SECRET_BYTES",
    "Algorithm",
    "InvalidSecret",
    "OtpKind",
    "OtpParams",
    "SecretFormat",
    "TotpMatch",
    "clock_offset_seconds",
    "code_at_counter",
    "default_algorithm_for_secret",
    "describe_clock_offset",
    "new_secret",
    "normalize_code",
    "parse_hardware_secret",
    "provisioning_uri",
    "qr_svg",
    "secret_for_display",
    "synchronize_hotp",
    "synchronize_totp",
    "totp_step",
    "verify_hotp",
    "verify_totp",
]

OtpKind = Literal["totp", "hotp"]
Algorithm = Literal["SHA1", "SHA256", "SHA512"]
SecretFormat = Literal["hex", "base32"]

SECRET_BYTES = 20
# Hardware tokens: the floor is the brief's 80 bits (some older tokens ship
# them); RFC 4226 recommends 160. 64 bytes is the SHA-512 block size.
MIN_SECRET_BYTES = 10
MAX_SECRET_BYTES = 64
# Above this length the reference product switches to SHA-256.
_SHA256_THRESHOLD_BYTES = 25

_DIGESTS: dict[str, Callable[..., Any]] = {
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_BASE32_RE = re.compile(r"[A-Z2-7]+=*")


class InvalidSecret(ValueError):
    """A secret key typed in by an administrator could not be understood; str() says why."""


@dataclass(frozen=True)
class OtpParams:
    """How codes are made for one device."""

    kind: OtpKind
    digits: int = 6
    period: int = 30
    t0: int = 0
    algorithm: Algorithm = "SHA1"

    def __post_init__(self) -> None:
        # Literal types are not checked at run time, and these values often
        # come from forms or database rows.
        if self.kind not in get_args(OtpKind):
            raise ValueError(f"unknown OTP kind {self.kind!r}")
        if self.algorithm not in _DIGESTS:
            raise ValueError(f"unknown OTP algorithm {self.algorithm!r}")
        if not 6 <= self.digits <= 8:
            raise ValueError("digits must be between 6 and 8")
        if self.period < 1:
            raise ValueError("period must be at least one second")
        if self.t0 < 0:
            raise ValueError("t0 must not be before the Unix epoch")


@dataclass(frozen=True)
class TotpMatch:
    """A TOTP step that was accepted, and the device's drift in steps."""

    step: int
    drift: int


class _Hotp(pyotp.HOTP):
    """pyotp's HOTP fed with raw secret bytes that are decoded only once."""

    # Our own length rules apply (see parse_hardware_secret); pyotp's default
    # floor of 112 bits would refuse hardware tokens the console accepts.
    min_secret_length_bits = MIN_SECRET_BYTES * 8

    def __init__(self, secret: bytes, params: OtpParams) -> None:
        # Set before pyotp's constructor, which calls byte_secret().
        self._raw_secret = secret
        super().__init__(_b32(secret), digits=params.digits, digest=_DIGESTS[params.algorithm])

    def byte_secret(self) -> bytes:
        """Return the raw secret without decoding Base32 on every code."""
        # pyotp decodes Base32 for each code; synchronisation makes 15,000.
        return self._raw_secret


def _b32(secret: bytes) -> str:
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def _require_aware(now: datetime) -> None:
    # A naive datetime would be read as local time and shift every step.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _clean_code(code: str, digits: int) -> str | None:
    """Return the code without whitespace if it has exactly ``digits`` ASCII digits."""
    compact = "".join(code.split())
    # isascii() first: str.isdigit() accepts other scripts' digits, and
    # hmac.compare_digest() raises on non-ASCII text.
    if len(compact) == digits and compact.isascii() and compact.isdigit():
        return compact
    return None


def _check_window(value: int, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} must not be negative")


def new_secret() -> bytes:
    """Make a fresh random OTP secret of ``SECRET_BYTES`` bytes."""
    return secrets.token_bytes(SECRET_BYTES)


def secret_for_display(secret: bytes) -> str:
    """Render a secret as unpadded Base32 in groups of four for manual entry."""
    text = _b32(secret)
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_hardware_secret(text: str) -> tuple[bytes, SecretFormat]:
    """Decode a hardware token's secret typed as hex or Base32.

    Hex may contain spaces and colons; Base32 may be in any case, contain
    spaces and end with padding. Text made only of hex digits, of even
    length and at least 20 characters long is read as hex even when it is
    also valid Base32 (for example ``DEADBEEF…``), because tokens ship their
    seeds in hex. Shorter text that is valid Base32 is read as Base32.
    Raise ``InvalidSecret`` with a message fit to show next to the field.
    """
    compact = "".join(text.split())
    if not compact:
        raise InvalidSecret(message("otp.secret_empty"))
    hex_text = compact.replace(":", "")
    looks_hex = _HEX_RE.fullmatch(hex_text) is not None
    base32_text = compact.upper()
    looks_base32 = ":" not in compact and _BASE32_RE.fullmatch(base32_text) is not None

    kind: SecretFormat
    if looks_hex and (":" in compact or (len(hex_text) % 2 == 0 and len(hex_text) >= 20)):
        secret, kind = _decode_hex(hex_text), "hex"
    elif looks_base32:
        secret, kind = _decode_base32(base32_text), "base32"
    elif looks_hex:
        secret, kind = _decode_hex(hex_text), "hex"
    else:
        raise InvalidSecret(message("otp.secret_format"))

    if len(secret) < MIN_SECRET_BYTES:
        raise InvalidSecret(
            message("otp.secret_short", bits=MIN_SECRET_BYTES * 8, digits=MIN_SECRET_BYTES * 2)
        )
    if len(secret) > MAX_SECRET_BYTES:
        raise InvalidSecret(
            message("otp.secret_long", bits=MAX_SECRET_BYTES * 8, digits=MAX_SECRET_BYTES * 2)
        )
    return secret, kind


def _decode_hex(hex_text: str) -> bytes:
    if len(hex_text) % 2:
        raise InvalidSecret(message("otp.secret_odd_hex"))
    return bytes.fromhex(hex_text)


def _decode_base32(base32_text: str) -> bytes:
    body = base32_text.rstrip("=")
    padded = body + "=" * (-len(body) % 8)
    try:
        return base64.b32decode(padded)
    except binascii.Error:
        raise InvalidSecret(message("otp.secret_base32_length")) from None


def default_algorithm_for_secret(secret: bytes) -> Literal["SHA1", "SHA256"]:
    """Choose the hash the reference product uses for a secret of this length."""
    return "SHA256" if len(secret) > _SHA256_THRESHOLD_BYTES else "SHA1"


def provisioning_uri(
    secret: bytes, params: OtpParams, issuer: str, login: str, counter: int = 0
) -> str:
    """Build the ``otpauth://`` key URI that authenticator apps scan.

    The secret comes first, unpadded Base32, because some apps read only
    that. Apps cannot start TOTP at a T0 other than 0, so such params are
    refused rather than producing a code the app would never show.
    """
    if params.t0 != 0:
        raise ValueError("authenticator apps only support TOTP with t0 = 0")
    label = quote(login, safe="")
    if issuer:
        label = f"{quote(issuer, safe='')}:{label}"
    query = [("secret", _b32(secret))]
    if issuer:
        query.append(("issuer", issuer))
    query += [("algorithm", params.algorithm), ("digits", str(params.digits))]
    if params.kind == "totp":
        query.append(("period", str(params.period)))
    else:
        _check_window(counter, "counter")
        query.append(("counter", str(counter)))
    encoded = "&".join(f"{name}={quote(value, safe='')}" for name, value in query)
    return f"otpauth://{params.kind}/{label}?{encoded}"


def qr_svg(data: str, label: str | None = None) -> str:
    """Draw ``data`` as a QR code in inline, scalable SVG markup.

    No ``style`` attribute (the Content-Security-Policy forbids inline
    styles), no XML declaration, no fixed size and no ``id`` (two codes on one
    page must not clash); colours are ``fill`` attributes.
    """
    # Imported here: only the pages that connect a device draw a code, and qrcode with
    # its SVG writer (ElementTree) need not sit in every worker.
    import qrcode
    import qrcode.constants
    import qrcode.image.svg

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    # The filled variant draws a white background so the code still scans
    # on a page with a dark theme.
    label = label if label is not None else message("otp.qr_label")
    image = qr.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    svg = image.get_image()
    for name in ("width", "height"):
        svg.attrib.pop(name, None)
    svg.set("role", "img")
    svg.set("aria-label", label)
    svg.set("shape-rendering", "crispEdges")
    for element in svg.iter():
        element.attrib.pop("id", None)
        element.attrib.pop("style", None)
    # qrcode's own serialiser, so this works whichever ElementTree it picked.
    markup: str = image.to_string(encoding="unicode")
    return markup


def normalize_code(text: str, digits_allowed: tuple[int, ...] = (6, 8)) -> str | None:
    """Return a typed one-time code as bare digits, or None if it cannot be one."""
    compact = "".join(text.split())
    if compact.isascii() and compact.isdigit() and len(compact) in digits_allowed:
        return compact
    return None


def code_at_counter(secret: bytes, params: OtpParams, counter: int) -> str:
    """Compute the code for one HOTP counter or TOTP step."""
    return _Hotp(secret, params).at(counter)


def totp_step(params: OtpParams, now: datetime) -> int:
    """Return the TOTP time step that contains ``now``."""
    _require_aware(now)
    elapsed = now - _EPOCH
    # Whole seconds from integer fields: a float timestamp could round a
    # boundary instant into the neighbouring step.
    unix = elapsed.days * 86_400 + elapsed.seconds
    return (unix - params.t0) // params.period


def _first_match(generator: _Hotp, code: str, candidates: Iterable[int]) -> int | None:
    for candidate in candidates:
        if hmac.compare_digest(generator.at(candidate), code):
            return candidate
    return None


def verify_totp(
    secret: bytes,
    params: OtpParams,
    code: str,
    now: datetime,
    *,
    last_step: int | None,
    drift: int,
    window: int,
) -> TotpMatch | None:
    """Check a TOTP code around the device's learned drift, refusing replays.

    Steps ``current + drift - window`` … ``current + drift + window`` are
    tried, nearest to ``current + drift`` first; a step at or before
    ``last_step`` is never accepted. The returned drift is measured afresh
    (matched step minus current step) so the caller can store it.
    """
    _check_window(window, "window")
    if params.kind != "totp":
        raise ValueError("verify_totp needs TOTP params")
    clean = _clean_code(code, params.digits)
    if clean is None:
        return None
    current = totp_step(params, now)
    expected = current + drift
    floor = 0 if last_step is None else last_step + 1
    steps = [step for step in range(expected - window, expected + window + 1) if step >= floor]
    # Nearest first; on a tie the earlier step, so fewer future codes are spent.
    steps.sort(key=lambda step: (abs(step - expected), step))
    matched = _first_match(_Hotp(secret, params), clean, steps)
    if matched is None:
        return None
    return TotpMatch(step=matched, drift=matched - current)


def verify_hotp(
    secret: bytes, params: OtpParams, code: str, *, counter: int, window: int
) -> int | None:
    """Check an HOTP code against counters ``counter`` … ``counter + window`` inclusive.

    ``counter`` is the next unused counter; ``window`` is how many counters
    after it are also tried (the look-ahead). Return the matched counter; the
    caller stores matched + 1. Counters below ``counter`` are never tried.
    """
    _check_window(window, "window")
    _check_window(counter, "counter")
    if params.kind != "hotp":
        raise ValueError("verify_hotp needs HOTP params")
    clean = _clean_code(code, params.digits)
    if clean is None:
        return None
    return _first_match(_Hotp(secret, params), clean, range(counter, counter + window + 1))


def synchronize_hotp(
    secret: bytes,
    params: OtpParams,
    code1: str,
    code2: str,
    *,
    counter: int,
    max_lookahead: int = 15_000,
) -> int | None:
    """Find two consecutive HOTP codes at or after ``counter``.

    Search counters c in ``counter`` … ``counter + max_lookahead - 1`` for
    code1 at c and code2 at c + 1. Return c + 1, the last counter spent; the
    caller stores c + 2 so neither code works again.
    """
    _check_window(counter, "counter")
    _check_window(max_lookahead, "max_lookahead")
    clean1 = _clean_code(code1, params.digits)
    clean2 = _clean_code(code2, params.digits)
    if clean1 is None or clean2 is None:
        return None
    generator = _Hotp(secret, params)
    # Each code is computed once and carried over, so the search costs one
    # HMAC per counter.
    current = generator.at(counter)
    for candidate in range(counter, counter + max_lookahead):
        following = generator.at(candidate + 1)
        if hmac.compare_digest(current, clean1) and hmac.compare_digest(following, clean2):
            return candidate + 1
        current = following
    return None


def synchronize_totp(
    secret: bytes,
    params: OtpParams,
    code1: str,
    code2: str,
    now: datetime,
    *,
    max_offset: int = 180,
    last_step: int | None = None,
) -> TotpMatch | None:
    """Find two consecutive TOTP codes within ``max_offset`` steps of now.

    Both steps s and s + 1 lie in ``current - max_offset`` …
    ``current + max_offset`` and after ``last_step``. Return
    ``TotpMatch(step=s + 1, drift=s + 1 - current)`` so both codes are spent.
    """
    _check_window(max_offset, "max_offset")
    if params.kind != "totp":
        raise ValueError("synchronize_totp needs TOTP params")
    clean1 = _clean_code(code1, params.digits)
    clean2 = _clean_code(code2, params.digits)
    if clean1 is None or clean2 is None:
        return None
    current = totp_step(params, now)
    first = max(current - max_offset, 0 if last_step is None else last_step + 1)
    last = current + max_offset
    if first >= last:
        return None
    generator = _Hotp(secret, params)
    codes = {step: generator.at(step) for step in range(first, last + 1)}
    starts = sorted(range(first, last), key=lambda s: (abs(s + 1 - current), s))
    for start in starts:
        if hmac.compare_digest(codes[start], clean1) and hmac.compare_digest(
            codes[start + 1], clean2
        ):
            return TotpMatch(step=start + 1, drift=start + 1 - current)
    return None


def clock_offset_seconds(match: TotpMatch, params: OtpParams) -> int:
    """Return how far the device's clock is from ours; negative means behind."""
    return match.drift * params.period


def describe_clock_offset(drift_steps: int, period: int) -> str | None:
    """Describe a device clock drift in words, or None when it is within a step."""
    if abs(drift_steps) <= 1:
        return None
    seconds = abs(drift_steps) * period
    key = "otp.clock_behind" if drift_steps < 0 else "otp.clock_ahead"
    return message(key, duration=_duration(seconds))


# The catalog key of a duration in each unit; the number picks the plural form.
_DURATION_KEYS = {
    "second": "time.seconds",
    "minute": "time.minutes",
    "hour": "time.hours",
    "day": "time.days",
}


def _duration(seconds: int) -> str:
    if seconds < 120:
        amount, unit = seconds, "second"
    elif seconds < 120 * 60:
        amount, unit = round(seconds / 60), "minute"
    elif seconds < 48 * 3600:
        amount, unit = round(seconds / 3600), "hour"
    else:
        amount, unit = round(seconds / 86_400), "day"
    return message(_DURATION_KEYS[unit], count=amount)
