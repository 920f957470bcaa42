"""The web side of the sign-in state machine.

The only module that writes the sign-in keys of the cookie session and calls
Flask-Login's login_user / logout_user. The rules themselves are in security.signin.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from flask import current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from extensions import db, login_manager
from models import User, utcnow
from security import sessions, signin
from security.sessions import SessionLimits
from security.signin import SignInState

SESSION_TOKEN_KEY = "sid"  # noqa: S105 - the cookie key, not a secret

# Pages anyone may open, signed in or not.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "health.healthz"})
# Pages open while the password is accepted and the second step is not done.
PENDING_ENDPOINTS = frozenset({"auth.login", "auth.logout"})


def client_ip() -> str:
    """Return the client's address as the (proxy-corrected) request sees it."""
    return request.remote_addr or ""


def session_limits() -> SessionLimits:
    """Return the idle and absolute session lifetimes from the settings."""
    config = current_app.config
    return SessionLimits(
        idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
    )


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Give Flask-Login the user only while the server-side session record is live."""
    record = sessions.resolve_session(
        session.get(SESSION_TOKEN_KEY), now=utcnow(), limits=session_limits()
    )
    if db.session.dirty:
        db.session.commit()  # last-seen time, or the record just expired
    if record is None or str(record.user_id) != user_id:
        session.clear()
        g.session_ended = True
        return None
    g.session_record = record
    return record.user


def current_session_id() -> str | None:
    """Return the server-side record id of this browser's session, if signed in."""
    token = session.get(SESSION_TOKEN_KEY)
    return sessions.session_id_for(token) if token else None


def current_state() -> SignInState:
    """Tell where this browser session stands in the sign-in flow."""
    if current_user.is_authenticated:
        return SignInState.SIGNED_IN
    return SignInState.ANONYMOUS


def finish_sign_in(user: User, *, remember: bool, method: str = "password") -> None:
    """Sign the user in with a renewed session; commits."""
    signin.check_transition(current_state(), SignInState.SIGNED_IN)
    token = signin.complete_sign_in(
        user,
        now=utcnow(),
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
        method=method,
    )
    db.session.commit()
    # A fresh cookie session: nothing from before the sign-in survives (no fixation).
    session.clear()
    session[SESSION_TOKEN_KEY] = token
    session.permanent = remember
    login_user(user, remember=False)


def sign_out() -> None:
    """End this session on the server and in the browser; commits."""
    if current_user.is_authenticated:
        signin.sign_out(current_user, current_session_id(), now=utcnow(), ip=client_ip())
        db.session.commit()
    logout_user()
    session.clear()


def login_redirect() -> Response:
    """Send an anonymous visitor to the sign-in page, remembering where they were going."""
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login") + "?" + urlencode({"next": target}))


def enforce_sign_in_state() -> Response | None:
    """Keep every page but the sign-in steps behind a complete sign-in."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    state = current_state()
    if state is SignInState.SIGNED_IN:
        return None
    if endpoint in PENDING_ENDPOINTS and state is not SignInState.ANONYMOUS:
        return None
    if endpoint == "auth.logout":
        return redirect(url_for("auth.login"))
    return login_redirect()
