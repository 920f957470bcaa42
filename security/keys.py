"""Keys kept outside the database: OTP secret encryption and the recovery-code HMAC key.

Loaded once at start-up (no key derivation per request), then used by the domain.
"""

from __future__ import annotations

from security.secret_box import SecretBox

_box: SecretBox | None = None
_encryption_keys: list[str] = []
_recovery_key: bytes | None = None


def configure(encryption_keys: list[str], recovery_key: bytes) -> None:
    """Install the keys for this process."""
    global _box, _encryption_keys, _recovery_key
    _box = SecretBox(encryption_keys)
    _encryption_keys = list(encryption_keys)
    _recovery_key = recovery_key


def secret_box() -> SecretBox:
    """Return the box that encrypts OTP secrets."""
    if _box is None:
        raise RuntimeError("keys are not configured")
    return _box


def recovery_key() -> bytes:
    """Return the HMAC key for recovery codes."""
    if _recovery_key is None:
        raise RuntimeError("keys are not configured")
    return _recovery_key


def encryption_keys() -> list[str]:
    """Return the OTP encryption keys as configured (for a backup), newest first."""
    if _box is None:
        raise RuntimeError("keys are not configured")
    return list(_encryption_keys)
