"""Template filters and the catalog's helper for presentation only."""

from __future__ import annotations

import re

from flask import Flask
from markupsafe import Markup

from security.messages import MESSAGES, message

_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Firefox", re.compile(r"Firefox/(\d+)")),
    ("Chrome", re.compile(r"(?:Headless)?Chrom(?:e|ium)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+).*Safari/")),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def browser_name(user_agent: str) -> str:
    """Say "Chrome 156 on Linux" for a User-Agent header, or return it as it is."""
    if not user_agent:
        return message("nav.unknown_browser")
    browser = next(
        (
            f"{name} {match.group(1)}"
            for name, pattern in _BROWSERS
            if (match := pattern.search(user_agent))
        ),
        None,
    )
    system = next((label for token, label in _SYSTEMS if token in user_agent), None)
    if browser is None:
        return user_agent[:80]
    return message("nav.browser_on_system", browser=browser, system=system) if system else browser


def catalog_text(key: str, **values: object) -> Markup:
    """Return the catalog's text for `key` in a template: `t('otp.connected')`.

    Every text a template shows goes through here, so the language issue swaps gettext in
    at this one place. The catalog's own words are trusted; the values are escaped unless
    they are markup already (a link or a <time> drawn by the template), so a sentence can
    hold a link without its words being split over the template.
    """
    text = Markup(MESSAGES[key])  # noqa: S704 - the catalog is ours, not user input
    return text.format(**values) if values else text


def register(app: Flask) -> None:
    """Attach the filters and the catalog's `t(key, **values)` to the app's templates."""
    app.jinja_env.filters["browser"] = browser_name
    app.jinja_env.globals["t"] = catalog_text
