"""Sending the outbox: each e-mail once, retried while the failure is temporary.

(Skeleton: the sender is being written; `RenderedMail` is what a renderer hands it.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedMail:
    """An e-mail put into words for its recipient: subject, plain text, HTML alternative."""

    subject: str
    text: str
    html: str
