"""Where a `next` parameter may send a person after signing in."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """Return `target` when it is a path on this site, else `default`."""
    if not target or len(target) > 2000:
        return default
    # Browsers treat a backslash as a slash and drop tabs and newlines, so
    # "/\evil.example" and "/\t/evil.example" would leave the site.
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    return target
