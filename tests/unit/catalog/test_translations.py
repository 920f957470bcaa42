"""The gettext catalogs: made from the message catalog, complete, and read in each language.

CI fails here on a sentence added to security/messages.py and not yet translated, on a
changed English whose translation is now fuzzy, and on a translation that lost one of
its {names} or a plural form. `flask --app app translations update` brings the files in
line; a translator then fills in what it marks.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from flask import Flask

from security.messages import MESSAGES, Plural, message
from security.preferences import LANGUAGES
from web.i18n import (
    TRANSLATIONS,
    catalog_paths,
    compile_catalogs,
    read_catalog,
    template_catalog,
    unfinished_entries,
)

TRANSLATED = LANGUAGES[1:]  # English is the source


def _po(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def _names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _entries(path: Path) -> dict[str, object]:
    return {str(entry.context): entry.id for entry in read_catalog(path) if entry.id}


def test_the_template_holds_exactly_the_message_catalog() -> None:
    made = {str(entry.context): entry.id for entry in template_catalog() if entry.id}
    assert _entries(TRANSLATIONS / "messages.pot") == made
    assert set(made) == set(MESSAGES)


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_translation_is_complete_and_current(language: str) -> None:
    catalog = read_catalog(_po(language))
    assert unfinished_entries(catalog) == []
    # Every key, with today's English: a changed sentence must be translated again.
    made = {str(entry.context): entry.id for entry in template_catalog() if entry.id}
    assert _entries(_po(language)) == made


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_translation_keeps_the_names_and_has_every_plural_form(language: str) -> None:
    catalog = read_catalog(_po(language))
    problems = []
    for entry in catalog:
        if not entry.id:
            continue
        english = MESSAGES[str(entry.context)]
        wanted = _names(english.other if isinstance(english, Plural) else english)
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if isinstance(english, Plural) and len(forms) != catalog.num_plurals:
            problems.append(f"{entry.context}: {len(forms)} of {catalog.num_plurals} forms")
        for form in forms:
            if _names(form) != wanted:
                problems.append(f"{entry.context}: {sorted(_names(form))} != {sorted(wanted)}")
    assert problems == []


def test_a_stale_compiled_catalog_is_built_again(tmp_path: Path) -> None:
    for po_path, mo_path in catalog_paths():
        assert mo_path.exists(), "the console compiles its catalogs when it starts"
        assert mo_path.stat().st_mtime >= po_path.stat().st_mtime
    assert compile_catalogs() == []  # nothing stale: nothing built


@pytest.fixture
def russian(app: Flask) -> object:
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        yield


@pytest.mark.usefixtures("russian")
@pytest.mark.parametrize(
    ("count", "days"),
    [(1, "1 день"), (2, "2 дня"), (5, "5 дней"), (11, "11 дней"), (21, "21 день")],
)
def test_russian_days_take_the_form_their_number_asks(count: int, days: str) -> None:
    assert message("time.days", count=count) == days


@pytest.mark.usefixtures("russian")
@pytest.mark.parametrize(
    ("left", "codes"),
    [(1, "1 резервный код"), (3, "3 резервных кода"), (10, "10 резервных кодов")],
)
def test_russian_codes_take_the_form_their_number_asks(left: int, codes: str) -> None:
    assert codes in message("otp.recovery_used", left=left)


@pytest.mark.usefixtures("russian")
def test_a_number_drawn_as_markup_still_picks_the_form() -> None:
    # The overview draws its counts in <strong>; the plural form follows the digits.
    assert message("time.days", count="<strong>2</strong>") == "<strong>2</strong> дня"


def test_english_has_one_and_many(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert message("time.days", count=1) == "1 day"
        assert message("time.days", count=2) == "2 days"
