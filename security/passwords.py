"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

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


def hash_password(password: str) -> str:
    """Return an argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and answer no."""
    try:
        if password_hash is None:
            _hasher.verify(_dummy_hash, password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether the hash was made with other parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False
