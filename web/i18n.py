"""Whose language and whose clock: Flask-Babel, the catalogs under translations/, and times.

The language of a page is the person's own choice, then the one a signed-out visitor
picked on the sign-in page (a cookie), then the browser's Accept-Language, then the
console's default. The time zone is the person's own, then the console's default.

The catalogs are gettext files built from security/messages.py: `messages.pot` is the
English, `<language>/LC_MESSAGES/messages.po` a translation. The compiled `.mo` files
are not kept in git; `compile_catalogs` builds any that is missing or older than its
`.po`, at `make install` and again when the console starts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import flask_babel
from babel import dates as babel_dates
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import Babel, LazyString
from flask_login import current_user
from markupsafe import Markup

from security.messages import MESSAGES, Plural, message, use_translations
from security.preferences import LANGUAGES, is_time_zone, time_zones
from security.redirects import safe_next

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
# A signed-out visitor's choice on the sign-in page; it outlives the session, which is
# renewed at each step of a sign-in.
LANGUAGE_COOKIE = "console_language"
LANGUAGE_COOKIE_DAYS = 365

babel = Babel()


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with the console's selectors, and the catalog to its language."""
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LANGUAGE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["DEFAULT_TIMEZONE"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    compile_catalogs()
    babel.init_app(app, locale_selector=select_language, timezone_selector=select_timezone)
    use_translations(flask_babel.get_translations)
    app.jinja_env.globals.update(
        page_language=page_language,
        local_time=local_time,
        utc_time=utc_time,
        format_number=flask_babel.format_number,
        time_zones=time_zones,
        switch_return_path=switch_return_path,
    )


def lazy_message(key: str, **values: object) -> LazyString:
    """A catalog text read when it is shown, in the reader's language: for form labels."""
    return LazyString(message, key, **values)


def shown_choices(choices: dict[str, Any]) -> Callable[[], dict[str, str]]:
    """A select's choices whose labels are read when the form is drawn, in its language.

    WTForms takes a {value: label} dict only with labels that are already text.
    """
    return lambda: {value: str(label) for value, label in choices.items()}


# ---------------------------------------------------------------------------- choosing


def _own_choice(name: str) -> str:
    if current_user and current_user.is_authenticated:
        return str(getattr(current_user, name) or "")
    return ""


def select_language() -> str:
    """The language of this request's pages (Flask-Babel's locale selector)."""
    default = str(current_app.config["DEFAULT_LANGUAGE"])
    if not has_request_context():
        return default
    chosen = _own_choice("language") or request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or default


def select_timezone() -> str:
    """The zone of this request's times (Flask-Babel's timezone selector)."""
    chosen = _own_choice("timezone") if has_request_context() else ""
    return chosen if is_time_zone(chosen) else str(current_app.config["DEFAULT_TIMEZONE"])


def page_language() -> str:
    """The value of <html lang>: the language the page is drawn in."""
    return str(flask_babel.get_locale() or current_app.config["DEFAULT_LANGUAGE"])


def switch_return_path() -> str:
    """Where the language switch brings a visitor back: this page, with its `next` if safe."""
    target = safe_next(request.args.get("next"), "")
    return request.path + (f"?{urlencode({'next': target})}" if target else "")


def remember_visitor_language(response: Response, language: str) -> None:
    """Keep a signed-out visitor's choice of language; empty forgets it."""
    if language not in LANGUAGES:
        response.delete_cookie(LANGUAGE_COOKIE)
        return
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_DAYS * 86_400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


# ---------------------------------------------------------------------------- times


def _zone(zone: str | None = None) -> tzinfo:
    """The named zone when it is one, else the reader's."""
    if zone and is_time_zone(zone):
        return ZoneInfo(zone)
    return flask_babel.get_timezone() or UTC


TimeStyle = Literal["datetime", "time", "date"]


def local_time_text(
    value: datetime, *, zone: str | None = None, style: TimeStyle = "datetime"
) -> str:
    """A stored UTC time as the reader reads it: their zone, named, in their language.

    `style` is "datetime" (29 Nov 2026, 20:37:00 (Europe/Moscow)), "time" (20:37
    (Europe/Moscow)) or "date" (29 Nov 2026: a day, no zone). `zone` names another zone
    than the reader's: the person a sign-in page is about, before they are signed in.
    """
    place = _zone(zone)
    locale = flask_babel.get_locale()
    if style == "date":
        return babel_dates.format_date(value.astimezone(place).date(), "medium", locale=locale)
    formatted = (
        babel_dates.format_time(value, "short", tzinfo=place, locale=locale)
        if style == "time"
        else babel_dates.format_datetime(value, "medium", tzinfo=place, locale=locale)
    )
    return f"{formatted} ({getattr(place, 'key', None) or str(place)})"


def _time_element(value: datetime, shown: str) -> Markup:
    # <time datetime> keeps the exact UTC instant for scripts, tests and copy-paste.
    return Markup('<time datetime="{}">{}</time>').format(
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), shown
    )


def local_time(value: datetime | None, *, style: TimeStyle = "datetime") -> Markup:
    """`local_time_text` in a <time> element, or a dash when there is no time."""
    if value is None:
        return Markup("—")
    return _time_element(value, local_time_text(value, style=style))


def utc_time(value: datetime) -> Markup:
    """A time in UTC whatever the reader's zone: the connect page's server clock."""
    return _time_element(value, local_time_text(value, zone="UTC"))


# ---------------------------------------------------------------------------- catalogs


def template_catalog() -> Catalog:
    """The English catalog: one entry per key of security/messages.py, the key as context."""
    catalog = Catalog(project="otp-console", version="1", locale=None, fuzzy=False, charset="utf-8")
    for key, entry in MESSAGES.items():
        msgid: str | tuple[str, str] = (
            (entry.one, entry.other) if isinstance(entry, Plural) else entry
        )
        catalog.add(msgid, context=key)
    return catalog


def catalog_paths() -> list[tuple[Path, Path]]:
    """(.po, .mo) of each translation under translations/."""
    return [
        (po, po.with_suffix(".mo"))
        for po in sorted(TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    ]


def compile_catalogs(force: bool = False) -> list[Path]:
    """Build each `.mo` that is missing or older than its `.po`; return those built.

    Written to a temporary file and renamed, so that workers starting together never
    read half a file.
    """
    built = []
    for po_path, mo_path in catalog_paths():
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        descriptor, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(descriptor, "wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        os.replace(temporary, mo_path)
        built.append(mo_path)
    return built


def read_catalog(path: Path) -> Any:
    """Read a .po or .pot file into Babel's Catalog."""
    with path.open("rb") as handle:
        return read_po(handle)


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write a .po or .pot file in the catalog's order (the order of messages.py)."""
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=False, ignore_obsolete=True)


def unfinished_entries(catalog: Catalog) -> list[tuple[str, str]]:
    """(key, "untranslated" or "fuzzy") for each entry a translator has still to finish."""
    problems = []
    for entry in catalog:
        if not entry.id:
            continue  # the header
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(forms):
            problems.append((str(entry.context), "untranslated"))
        elif entry.fuzzy:
            problems.append((str(entry.context), "fuzzy"))
    return problems
