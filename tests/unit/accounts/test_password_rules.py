"""The password module: NFKC, the common and breached list, what a password is made of."""

from __future__ import annotations

import gzip
import unicodedata

import pytest
from argon2 import PasswordHasher

from security import passwords
from security.passwords import (
    COMMON_PASSWORDS_FILE,
    common_passwords,
    hash_password,
    is_common,
    made_of,
    needs_rehash,
    normalize_password,
    password_key,
    verify_password,
)

COMPOSED = unicodedata.normalize("NFC", "Ångström pâté")
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)
CONTEXT = [
    ("login", "alice"),
    ("email", "alice.smith@example.com"),
    ("email", "alice.smith"),
    ("console_name", "Company portal"),
    ("console_name", "Two-step console"),
]


@pytest.fixture(autouse=True)
def cheap_hashes() -> None:
    passwords.configure(time_cost=1, memory_cost=8, parallelism=1)


def test_nfkc_joins_composed_decomposed_and_compatibility_forms() -> None:
    assert normalize_password(DECOMPOSED) == COMPOSED
    assert normalize_password("ｆｕｌｌ") == "full"
    assert normalize_password("ﬁne") == "fine"  # the ligature
    assert password_key("PASSWORD") == password_key("password") == "password"
    assert password_key("STRASSE") == password_key("straße")


def test_a_hash_is_of_the_normalised_form() -> None:
    stored = hash_password(DECOMPOSED)
    assert PasswordHasher().verify(stored, COMPOSED)
    assert verify_password(stored, COMPOSED)
    assert verify_password(stored, DECOMPOSED)
    assert not verify_password(stored, "Angstrom pate")


def test_an_old_hash_of_the_typed_form_still_opens_and_asks_to_be_made_again() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(DECOMPOSED)
    assert verify_password(old, DECOMPOSED)
    assert needs_rehash(old, DECOMPOSED)
    new = hash_password(DECOMPOSED)
    assert not needs_rehash(new, DECOMPOSED)
    assert not needs_rehash(new, COMPOSED)
    # Without the password only the parameters are looked at, as before.
    assert not needs_rehash(old)


def test_no_hash_answers_no_in_either_form() -> None:
    assert not verify_password(None, COMPOSED)
    assert not verify_password(None, DECOMPOSED)


def test_other_parameters_still_ask_for_a_new_hash() -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=8, parallelism=1).hash(COMPOSED)
    assert needs_rehash(stronger, COMPOSED)
    assert not needs_rehash("not a hash", COMPOSED)


def test_the_shipped_list_is_whole_sorted_and_folded() -> None:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as file:
        lines = file.read().splitlines()
    # The 100,000 most common passwords, once case is folded.
    assert len(lines) > 96_000
    assert lines == sorted(set(lines))
    assert all(line == password_key(line) for line in lines)
    assert list(common_passwords()) == lines
    assert all(line in common_passwords() for line in lines[::97])
    assert "" not in common_passwords()
    assert "zzzzzzzzzzzzzzzzzzzzzzzz" not in common_passwords()
    assert "0" not in common_passwords() or lines[0] == "0"
    assert COMMON_PASSWORDS_FILE.stat().st_size < 400_000


@pytest.mark.parametrize(
    "password",
    ["password", "123456789", "qwertyuiop", "QWERTYUIOP", "Password1", "1q2w3e4r5t", "iloveyou"],
)
def test_common_passwords_are_found_whatever_their_case(password: str) -> None:
    assert is_common(password)


def test_full_width_forms_of_a_common_password_are_found() -> None:
    assert is_common("ｑｗｅｒｔｙｕｉｏｐ")


@pytest.mark.parametrize(
    "password", ["correct horse battery", "staple paperclip lantern", "Ångström pâté 1885"]
)
def test_uncommon_passwords_are_not(password: str) -> None:
    assert not is_common(password)


@pytest.mark.parametrize(
    ("password", "kind"),
    [
        ("alice", "login"),
        ("ALICE2024!!", "login"),
        ("alice alice alice", "login"),
        ("aliceqwerty12", "login"),  # the login and a common password
        ("alice.smith@example.com", "email"),
        ("Alice Smith 1999", "email"),
        ("company portal 12", "console_name"),
        ("TwoStepConsole", "console_name"),
    ],
)
def test_passwords_made_of_the_context_are_named(password: str, kind: str) -> None:
    assert made_of(password, CONTEXT) == kind


@pytest.mark.parametrize(
    "password",
    [
        "alice likes long walks",  # the login among enough else
        "correct horse battery",
        "my portal to the stars",  # a word of the console's name, not the name
    ],
)
def test_passwords_with_enough_else_are_not(password: str) -> None:
    assert made_of(password, CONTEXT) is None


def test_short_context_words_are_not_looked_for() -> None:
    assert made_of("al al al al al al", [("login", "al")]) is None


def test_context_words_are_compared_after_nfkc_and_case_folding() -> None:
    assert made_of("ＡＬＩＣＥ 2024", CONTEXT) == "login"
    assert made_of(DECOMPOSED + "1", [("login", COMPOSED)]) == "login"
