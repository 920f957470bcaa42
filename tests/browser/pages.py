"""Steps that every browser journey takes the same way."""

from __future__ import annotations

from playwright.sync_api import Page


def sign_in(page: Page, login: str, password: str) -> None:
    """Fill in the sign-in form and send it, as a person would."""
    page.goto("/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
