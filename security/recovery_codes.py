"""Recovery codes: generation, the form users type them in, and keyed digests.

A code is 10 characters of lowercase letters and digits (about 52 bits), shown
as ``xxxxx-xxxxx``. Only an HMAC-SHA256 digest under a key kept outside the
database is stored, so a copy of the database does not reveal usable codes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

__all__ = [
    "ALPHABET",
    "MIN_KEY_BYTES",
    "CODE_COUNT",
    "CODE_LENGTH",
    "code_digest",
    "compact_code",
    "digest_matches",
    "format_code",
    "generate_codes",
    "keyed_digest",
    "normalize_code",
    "text_file",
]

CODE_COUNT = 10
CODE_LENGTH = 10
ALPHABET = string.ascii_lowercase + string.digits
# A digest key shorter than this would be the weakest part of the scheme.
MIN_KEY_BYTES = 16

_CODE_RE = re.compile(rf"[a-z0-9]{{{CODE_LENGTH}}}")
# Users copy codes from printouts and documents where dashes may have become
# typographic ones.
_IGNORED = str.maketrans("", "", "-\u2010\u2011\u2012\u2013\u2014\u2212")


def generate_codes(count: int = CODE_COUNT) -> list[str]:
    """Make ``count`` distinct random codes, unformatted."""
    codes: list[str] = []
    while len(codes) < count:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        # A repeat is astronomically unlikely, but one set must never hold it twice.
        if code not in codes:
            codes.append(code)
    return codes


def format_code(code: str) -> str:
    """Show a code as ``xxxxx-xxxxx``."""
    normalized = normalize_code(code)
    if normalized is None:
        raise ValueError("not a recovery code")
    half = CODE_LENGTH // 2
    return f"{normalized[:half]}-{normalized[half:]}"


def compact_code(text: str) -> str:
    """Return typed text without spaces and dashes, in lowercase (not yet checked)."""
    return "".join(text.split()).translate(_IGNORED).lower()


def normalize_code(text: str) -> str | None:
    """Return a typed recovery code as 10 lowercase characters, or None."""
    compact = compact_code(text)
    if _CODE_RE.fullmatch(compact):
        return compact
    return None


def keyed_digest(text: str, key: bytes) -> str:
    """Return the hex HMAC-SHA256 of already normalised text under ``key``."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the recovery code key must have at least {MIN_KEY_BYTES} bytes")
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def code_digest(code: str, key: bytes) -> str:
    """Return the hex HMAC-SHA256 of a recovery code under ``key``."""
    normalized = normalize_code(code)
    if normalized is None:
        raise ValueError("not a recovery code")
    return keyed_digest(normalized, key)


def digest_matches(text: str, digest: str, key: bytes) -> bool:
    """Tell whether typed text is the code behind a stored digest."""
    if normalize_code(text) is None:
        return False
    return hmac.compare_digest(code_digest(text, key), digest)


def text_file(codes: list[str]) -> str:
    """Render codes as the numbered lines of ``recovery_codes.txt``."""
    return "".join(f"{number}. {format_code(code)}\n" for number, code in enumerate(codes, 1))
