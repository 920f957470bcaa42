"""Passwords as NIST SP 800-63B (5.1.1.2) asks: argon2id over the NFKC form, and the checks
a new password must pass (length, not common or breached, not made of the context).
"""

from __future__ import annotations

import gzip
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

# The 100,000 most common passwords, NFKC and case-folded, sorted, one a line (see the
# README beside it for where the list comes from and how it is made).
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"

# A context word shorter than this (a login "al") would refuse too many honest passwords.
_MIN_CONTEXT_WORD = 3
# What must be left of a password once its context words are taken out.
_MIN_REMAINDER = 4

_hasher = PasswordHasher()
# Verified against when the login is unknown, so that an unknown login costs the
# same time as a wrong password and timing does not tell which one it was.
_dummy_hash = _hasher.hash("not a real password")


def configure(time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Set the argon2id parameters (tests lower them)."""
    global _hasher, _dummy_hash
    if (
        _hasher.time_cost,
        _hasher.memory_cost,
        _hasher.parallelism,
    ) == (time_cost, memory_cost, parallelism):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _dummy_hash = _hasher.hash("not a real password")


def normalize_password(password: str) -> str:
    """Return the form a password is hashed and compared in: NFKC.

    A composed é and an e with a combining accent are the same password, whatever the
    keyboard or system sends; so are full-width and ordinary letters.
    """
    return unicodedata.normalize("NFKC", password)


def password_key(password: str) -> str:
    """Return the form a password is compared to lists in: NFKC, case-folded."""
    # NFKC again after casefold(), as Unicode's NFKC_Casefold: folding can decompose.
    return unicodedata.normalize("NFKC", normalize_password(password).casefold())


def hash_password(password: str) -> str:
    """Return an argon2id hash of the password's normalised form."""
    return _hasher.hash(normalize_password(password))


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and answer no.

    The normalised form is tried first; a hash made before passwords were normalised
    holds the password as it was typed, so that form is tried too when it differs.
    """
    normalized = normalize_password(password)
    forms = (normalized,) if normalized == password else (normalized, password)
    if password_hash is None:
        for form in forms:
            _matches(_dummy_hash, form)
        return False
    return any(_matches(password_hash, form) for form in forms)


def needs_rehash(password_hash: str, password: str | None = None) -> bool:
    """Tell whether the hash should be made again from the (just verified) password.

    Yes when it was made with other parameters than the current ones, or, given the
    password, when it holds the typed form rather than the normalised one. That costs
    one more hash check, and only for a password that normalisation changes.
    """
    try:
        if _hasher.check_needs_rehash(password_hash):
            return True
    except InvalidHashError:
        return False
    if password is None:
        return False
    normalized = normalize_password(password)
    return normalized != password and not _matches(password_hash, normalized)


class SortedLines:
    """A sorted list of lines kept as one block of UTF-8 and looked up by bisection.

    About 1 MB for the 100,000 passwords where a set of strings holds 9 MB in every
    worker. UTF-8 sorts bytes in the order of the code points, so the block can be
    searched in the order the file was sorted in.
    """

    def __init__(self, block: bytes) -> None:
        self._block = block
        # Where each line starts, and one past the end of the last.
        starts = array("I", [0])
        position = block.find(b"\n")
        while position != -1:
            starts.append(position + 1)
            position = block.find(b"\n", position + 1)
        if starts[-1] != len(block):
            starts.append(len(block) + 1)
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts) - 1

    def _line(self, index: int) -> bytes:
        return self._block[self._starts[index] : self._starts[index + 1] - 1]

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        wanted = text.encode("utf-8")
        low, high = 0, len(self)
        while low < high:
            middle = (low + high) // 2
            if self._line(middle) < wanted:
                low = middle + 1
            else:
                high = middle
        return low < len(self) and self._line(low) == wanted

    def __iter__(self) -> Iterator[str]:
        return (self._line(index).decode("utf-8") for index in range(len(self)))


@cache
def common_passwords() -> SortedLines:
    """Return the list of common and breached passwords, read once per process."""
    return SortedLines(gzip.decompress(COMMON_PASSWORDS_FILE.read_bytes()))


def is_common(password: str) -> bool:
    """Tell whether the password, whatever its case, is on the common and breached list."""
    return password_key(password) in common_passwords()


def _squashed(text: str) -> str:
    """Return the letters and digits of a text, NFKC and case-folded: `A.Smith` → `asmith`."""
    return "".join(char for char in password_key(text) if char.isalnum())


def made_of(password: str, context: Iterable[tuple[str, str]]) -> str | None:
    """Return the kind of context word the password is made of, or None.

    `context` holds (kind, word) pairs, most telling first, such as ("login", "alice").
    A password is made of its context words when, once they are taken out (ignoring
    case, spaces and punctuation), what is left is short, only digits or common itself:
    `Alice2024!`, `alice@example.com`, `Company portal 1`.
    """
    squashed = _squashed(password)
    words: dict[str, str] = {}
    for kind, word in context:
        squashed_word = _squashed(word)
        if len(squashed_word) >= _MIN_CONTEXT_WORD:
            words.setdefault(squashed_word, kind)
    found: list[str] = []
    # The longest first: taking out `alice` first would leave an e-mail's domain behind.
    for word in sorted(words, key=len, reverse=True):
        if word in squashed:
            squashed = squashed.replace(word, "")
            found.append(words[word])
    if not found:
        return None
    weak = len(squashed) < _MIN_REMAINDER or squashed.isdigit() or squashed in common_passwords()
    if not weak:
        return None
    # Report the most telling kind found: the first in the order of `context`.
    order = list(dict.fromkeys(words.values()))
    return min(found, key=order.index)
