"""What the database answered to a statement."""

from __future__ import annotations

from typing import Any


def rowcount(result: Any) -> int:
    """Return how many rows an UPDATE or DELETE touched: who won a conditional write."""
    return int(getattr(result, "rowcount", 0) or 0)
