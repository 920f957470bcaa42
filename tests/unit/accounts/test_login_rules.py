"""Logins: one normal form for look-up, one script per login, and what a login looks like."""

from __future__ import annotations

import pytest

from security.accounts import is_mixed_script, login_key, login_skeleton

CYRILLIC_A = "\u0430"  # а
DOTTED_CAPITAL_I = "\u0130"  # İ


@pytest.mark.parametrize(
    "typed",
    ["admin", "ADMIN", "Admin", " admin ", "\uff41\uff44\uff4d\uff49\uff4e", "\uff21\uff24MIN"],
)
def test_case_and_width_do_not_make_another_login(typed: str) -> None:
    assert login_key(typed) == "admin"


def test_a_look_alike_letter_makes_another_login() -> None:
    assert login_key(CYRILLIC_A + "dmin") != login_key("admin")
    assert login_key("ADM" + DOTTED_CAPITAL_I + "N") != login_key("admin")


@pytest.mark.parametrize(
    "look_alike",
    [
        CYRILLIC_A + "dmin",  # Cyrillic а
        "ADM" + DOTTED_CAPITAL_I + "N",  # Turkish dotted capital I
        "adm\u0131n",  # Latin dotless ı
        "\u0430\u0501m\u0456n",  # Cyrillic а, ԁ, і
        "\u0391DM\u0399\u039d",  # Greek capitals Α, Ι, Ν
        "\uff41\uff44\uff4d\uff49\uff4e",  # full width
        "Admin",
    ],
)
def test_look_alikes_share_the_skeleton_of_admin(look_alike: str) -> None:
    assert login_skeleton(look_alike) == login_skeleton("admin") == "admin"


def test_a_login_wholly_in_cyrillic_capitals_looks_like_its_latin_twin() -> None:
    assert login_skeleton("\u041a\u0410\u0422\u0415") == login_skeleton("kate")  # КАТЕ


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("\u0438\u0432\u0430\u043d", "ivan"),  # иван
        ("jose", "jos\u00e9"),
        ("user01", "userol"),
        ("ivan", "lvan"),
    ],
)
def test_logins_that_look_different_have_different_skeletons(one: str, other: str) -> None:
    assert login_skeleton(one) != login_skeleton(other)


@pytest.mark.parametrize(
    "login",
    [
        CYRILLIC_A + "dmin",
        "admin\u03bf",  # Greek omicron at the end
        "\u0438\u0432\u0430\u043d.ivanov",  # иван.ivanov
        "\u0391lpha",  # Greek capital alpha, then Latin
    ],
)
def test_mixed_scripts_are_found(login: str) -> None:
    assert is_mixed_script(login)


@pytest.mark.parametrize(
    "login",
    [
        "admin",
        "ivan.petrov",
        "\u0438\u0432\u0430\u043d",  # иван
        "\u0438\u0432\u0430\u043d_2024",
        "\u03b5\u03bb\u03bb\u03b7\u03bd\u03b1\u03c2",  # ελληνας
        "\uff49\uff56\uff41\uff4e",  # full-width ivan
        "ren\u00e9@example.com",
        "\u5c71\u7530taro",  # 山田taro: Latin with Han, as written in Japan
        "\u3084\u307e\u3060\u30bf\u30ed\u30fc",  # やまだタロー: hiragana, katakana
    ],
)
def test_single_script_logins_are_not_mixed(login: str) -> None:
    assert not is_mixed_script(login)
