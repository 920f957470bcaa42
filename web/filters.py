"""Template filters and the catalog's helper for presentation only."""

from __future__ import annotations

import re

from flask import Flask
from flask_login import current_user
from markupsafe import Markup

from models import ADMINISTRATORS_GROUP_ID, EMPLOYEES_GROUP_ID, Group
from security import notices
from security.messages import message, translated
from web.event_text import BUILTIN_GROUP_LABELS, event_details, event_label, outcome_label

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

    Every text a template shows goes through here, in the reader's language. The catalog's
    own words are trusted; the values are escaped unless they are markup already (a link
    or a <time> drawn by the template), so a sentence can hold a link without its words
    being split over the template.
    """
    text = Markup(translated(key, values))  # noqa: S704 - the catalog is ours, not user input
    return text.format(**values) if values else text


def group_name(group: Group) -> str:
    """A group's name as the reader reads it: the built-in groups in their language."""
    key = BUILTIN_GROUP_LABELS.get(group.name)
    if key and group.id in (ADMINISTRATORS_GROUP_ID, EMPLOYEES_GROUP_ID):
        return message(key)
    return group.name


def unread_notices() -> int:
    """How many notices the signed-in person has not read (the header's count)."""
    if not current_user.is_authenticated:
        return 0
    return notices.unread_count(current_user.id)


def register(app: Flask) -> None:
    """Attach the filters and the catalog's `t(key, **values)` to the app's templates."""
    app.jinja_env.filters["browser"] = browser_name
    app.jinja_env.filters["group_name"] = group_name
    app.jinja_env.globals["unread_notices"] = unread_notices
    app.jinja_env.filters["event_details"] = event_details
    app.jinja_env.globals["event_label"] = event_label
    app.jinja_env.globals["outcome_label"] = outcome_label
    app.jinja_env.globals["t"] = catalog_text
