"""Recovery codes: shape, typing tolerance, keyed digests and the text file."""

from __future__ import annotations

import re

import pytest

from security import recovery_codes
from security.recovery_codes import (
    code_digest,
    digest_matches,
    format_code,
    generate_codes,
    normalize_code,
    text_file,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def test_ten_unique_codes_of_ten_characters() -> None:
    codes = generate_codes()
    assert len(codes) == recovery_codes.CODE_COUNT == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[a-z0-9]{10}", code)


def test_codes_differ_between_sets() -> None:
    assert set(generate_codes()).isdisjoint(generate_codes())


def test_generate_other_counts() -> None:
    assert len(generate_codes(3)) == 3


def test_format_code() -> None:
    assert format_code("abcde12345") == "abcde-12345"
    assert format_code("ABCDE-12345") == "abcde-12345"
    with pytest.raises(ValueError):
        format_code("short")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ABCDE-12345", "abcde12345"),
        (" abcde 12345 ", "abcde12345"),
        ("abcde12345", "abcde12345"),
        ("AbCdE\u201312345", "abcde12345"),
        ("abcde-1234", None),
        ("abcde-123456", None),
        ("abcde_12345", None),
        ("abcdé-12345", None),
        ("", None),
    ],
)
def test_normalize_code(text: str, expected: str | None) -> None:
    assert normalize_code(text) == expected


def test_digest_is_keyed_and_ignores_typing() -> None:
    digest = code_digest("abcde12345", KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert code_digest(" ABCDE-12345 ", KEY) == digest
    assert code_digest("abcde12345", OTHER_KEY) != digest
    assert code_digest("abcde12346", KEY) != digest


def test_digest_refuses_non_codes_and_weak_keys() -> None:
    with pytest.raises(ValueError):
        code_digest("abcde-1234", KEY)
    with pytest.raises(ValueError):
        code_digest("abcde12345", b"short")


def test_digest_matches() -> None:
    digest = code_digest("abcde12345", KEY)
    assert digest_matches("ABCDE 12345", digest, KEY)
    assert not digest_matches("abcde12346", digest, KEY)
    assert not digest_matches("abcde12345", digest, OTHER_KEY)
    assert not digest_matches("nonsense", digest, KEY)


def test_text_file() -> None:
    assert text_file(["abcde12345", "fghij67890"]) == "1. abcde-12345\n2. fghij-67890\n"
    lines = text_file(generate_codes()).splitlines()
    assert len(lines) == 10
    assert lines[9].startswith("10. ")
    assert all(re.fullmatch(r"\d+\. [a-z0-9]{5}-[a-z0-9]{5}", line) for line in lines)
