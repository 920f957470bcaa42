"""Encryption at rest for OTP secrets, with keys kept outside the database.

Fernet (AES-128-CBC with HMAC-SHA256) from ``cryptography``; several keys make
rotation possible: the first key encrypts, every key decrypts. The keys are
decoded once when the box is built, so encrypting or decrypting a secret costs
microseconds and never a key derivation.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = [
    "InvalidKeys",
    "SecretBox",
    "SecretBoxError",
    "load_or_create_keys",
    "parse_keys",
]

_KEY_SEPARATOR = re.compile(r"[,\s]+")
_GENERATE_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)
# Another process may have created the keys file and not yet written it.
_EMPTY_FILE_RETRIES = 20
_EMPTY_FILE_PAUSE_SECONDS = 0.05


class InvalidKeys(ValueError):
    """The encryption key setting or keys file cannot be used."""


class SecretBoxError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def _check_key(key: str, position: int, count: int) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        # Never echo the key: the message ends up in logs and on consoles.
        raise InvalidKeys(
            f"encryption key {position} of {count} is not a valid Fernet key "
            f"(32 url-safe base64-encoded bytes); {_GENERATE_HINT}"
        ) from None


def parse_keys(value: str) -> list[str]:
    """Split a comma-separated key setting and check that every key is a Fernet key."""
    keys = [part for part in _KEY_SEPARATOR.split(value) if part]
    if not keys:
        raise InvalidKeys(f"no encryption key given; {_GENERATE_HINT}")
    for position, key in enumerate(keys, start=1):
        _check_key(key, position, len(keys))
    return keys


class SecretBox:
    """Encrypt and decrypt OTP secrets with a rotatable list of Fernet keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise InvalidKeys(f"no encryption key given; {_GENERATE_HINT}")
        self._current = _check_key(keys[0], 1, len(keys))
        fernets = [self._current]
        fernets += [_check_key(key, i, len(keys)) for i, key in enumerate(keys[1:], start=2)]
        self._fernets = fernets
        self._multi = MultiFernet(fernets)

    def __repr__(self) -> str:
        return "<SecretBox>"

    def encrypt(self, secret: bytes) -> str:
        """Encrypt a secret under the newest key and return the token as text."""
        return self._multi.encrypt(secret).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        """Decrypt a token made by any configured key."""
        try:
            return self._multi.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SecretBoxError(
                "stored secret cannot be decrypted with the configured keys"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the newest key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise SecretBoxError(
                "stored secret cannot be decrypted with the configured keys"
            ) from None

    def seal(self, data: bytes, *, now: datetime) -> str:
        """Encrypt short-lived data (a secret being connected) stamped with `now`."""
        return self._multi.encrypt_at_time(data, int(now.timestamp())).decode("ascii")

    def open_sealed(self, token: str, *, max_age: int, now: datetime) -> bytes:
        """Decrypt data sealed at most `max_age` seconds before `now`."""
        try:
            return self._multi.decrypt_at_time(
                token.encode("ascii"), ttl=max_age, current_time=int(now.timestamp())
            )
        except (InvalidToken, UnicodeEncodeError):
            raise SecretBoxError("sealed data expired or was not made here") from None

    def key_position(self, token: str) -> int | None:
        """Return which key (1 = the newest) opens a token, or None when none does."""
        try:
            data = token.encode("ascii")
        except UnicodeEncodeError:
            return None
        for position, fernet in enumerate(self._fernets, start=1):
            try:
                fernet.decrypt(data)
            except InvalidToken:
                continue
            return position
        return None

    @property
    def key_count(self) -> int:
        """How many keys the box holds."""
        return len(self._fernets)

    def is_current(self, token: str) -> bool:
        """Tell whether a token is already encrypted under the newest key."""
        try:
            self._current.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return False
        return True


def load_or_create_keys(path: Path) -> list[str]:
    """Read the keys file, creating it with one new key (mode 0600) if missing.

    Safe when several processes start at once: only the process whose
    exclusive create succeeds writes a key; the others read that file, and
    wait briefly if they find it still empty.
    """
    for _ in range(_EMPTY_FILE_RETRIES):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            created = _create_keys_file(path)
            if created is not None:
                return [created]
            continue
        if text.strip():
            try:
                return parse_keys(text)
            except InvalidKeys as error:
                raise InvalidKeys(f"{path}: {error}") from None
        time.sleep(_EMPTY_FILE_PAUSE_SECONDS)
    raise InvalidKeys(f"{path} is empty; delete it to generate a new key")


def _create_keys_file(path: Path) -> str | None:
    """Write a new key to ``path`` unless another process created it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
        handle.flush()
        # The key encrypts every stored secret: it must survive a crash.
        os.fsync(handle.fileno())
    return key.decode("ascii")
