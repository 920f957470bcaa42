"""The first journey: an administrator signs in and out."""

from __future__ import annotations

from typing import Any


def test_admin_signs_in_and_reaches_the_overview(admin: Any, auth: Any, client: Any) -> None:
    response = auth.login("ADMIN")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_logout_ends_the_session(admin_client: Any) -> None:
    assert admin_client.post("/logout").status_code == 303
    response = admin_client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
