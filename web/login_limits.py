"""The per-login password limit: which value it keys on, what counts, which browsers it spares.

Guessing one login from many addresses is slowed by a limit per login. So that strangers
cannot use it to keep the owner out, only failed passwords count, and a browser that has
signed in as that login before (a device cookie, or a remembered computer) is not held
back by it. The limit per client address applies to every browser.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from werkzeug.wrappers import Response

from models import utcnow
from security import accounts, device_cookies, remembered_computers
from web.signin_session import REMEMBER_COOKIE

DEVICE_COOKIE = "otp_device"


def submitted_login() -> str:
    """Return the login of this POST exactly as LoginForm reads it: the first `login` field of
    the form body (never a file part, a JSON body or the query string)."""
    return request.form.get("login", "")


def login_name_key() -> str:
    """Key the per-login limit on the login the view will check, whatever its case or width."""
    return "login:" + accounts.login_key(submitted_login())[:150]


def password_refused(response: Response) -> bool:
    """Tell whether the response refused a password: only those count against the login.

    A password accepted answers 303; a request refused before any password was checked
    (415, 429) tried nothing.
    """
    return response.status_code not in (303, 415, 429)


def _secret_keys() -> list[str]:
    config = current_app.config
    # The newest last: itsdangerous signs with it and verifies with all (key rotation).
    return [*(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]


def known_browser() -> bool:
    """Tell whether this browser has signed in before as the login it now tries."""
    return browser_known_for(submitted_login())


def browser_known_for(login_name: str) -> bool:
    """Tell whether this browser has signed in as `login_name` before: its device cookie
    names the login, or it is a remembered computer of that user."""
    login = accounts.login_key(login_name)
    now = utcnow()
    cookie = request.cookies.get(DEVICE_COOKIE)
    if device_cookies.knows_login(_secret_keys(), cookie, login, now=now):
        return True
    token = request.cookies.get(REMEMBER_COOKIE)
    if not token or not login:
        return False
    user = accounts.find_by_login(login)
    return user is not None and remembered_computers.is_remembered(
        user, token, now=now, mark_used=False
    )


def remember_browser(response: Response, login: str) -> Response:
    """Set the device cookie that makes this browser known for the user's login.

    Call it on the response of a completed sign-in (password alone, or after the second
    step), never after the password of a sign-in that still needs a code. The login is
    read before the sign-in's commit, which would expire the user (one more query).
    """
    value = device_cookies.issue_device_cookie(
        _secret_keys(),
        accounts.login_key(login),
        now=utcnow(),
        previous=request.cookies.get(DEVICE_COOKIE),
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(device_cookies.DEVICE_COOKIE_LIFETIME.total_seconds()),
        path=url_for("auth.login"),  # only the sign-in pages read it
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response
