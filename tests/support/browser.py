"""What the Playwright journeys share: Debian's Chromium, its console errors, signing in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium dials out on its own, and the
# closed network of CI refuses those connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Chromium reports every non-2xx document as "Failed to load resource"; a 400 for a
# form with bad input or a 403 page is the console's answer, not a broken page.
_DOCUMENT_STATUS = re.compile(r"^Failed to load resource: the server responded with a status")


@dataclass
class ConsoleErrors:
    """Errors the pages of a test printed to the console, or threw."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Accept console errors matching `pattern` in this test (say why where you call it)."""
        self.allowed.append(re.compile(pattern))

    def watch(self, page: Any) -> None:
        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            text = message.text
            if _DOCUMENT_STATUS.match(text) and _is_document(page, message):
                return
            self.messages.append(f"{page.url}: {text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.messages.append(f"{page.url}: {error}"))

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]

    def clear(self) -> None:
        self.messages.clear()


def _is_document(page: Any, message: Any) -> bool:
    # The message's location is the URL that failed; a document URL has no static/ path.
    location = (message.location or {}).get("url", "")
    return "/static/" not in location and not location.endswith((".css", ".js", ".svg"))


def sign_in(page: Page, login: str, password: str) -> None:
    """Fill in the sign-in form and send it, as a person would."""
    page.goto("/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
