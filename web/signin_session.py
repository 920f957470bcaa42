"""The web side of the sign-in state machine.

The only module that writes the sign-in keys of the cookie session and calls
Flask-Login's login_user / logout_user. The rules themselves are in security.signin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from extensions import db, login_manager
from models import User, utcnow
from security import sessions, signin
from security.messages import message
from security.sessions import SessionLimits
from security.signin import SignInState
from web.api_problems import is_api_request

SESSION_TOKEN_KEY = "sid"  # noqa: S105 - the cookie key, not a secret
# The half-finished sign-in: only the pending user, the step, a deadline, and where to go.
PENDING_KEY = "pending"
REMEMBER_COOKIE = "otp_remembered"

# Pages anyone may open, signed in or not.
# The language switch only sets a cookie, so it answers at every step of a sign-in.
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.choose_language",
        "static",
        "health.healthz",
        "health.readyz",
        "metrics.scrape",
    }
)
# Pages open while the password is accepted and the second step is not done.
PENDING_ENDPOINTS = {
    SignInState.AWAITING_CODE: frozenset({"auth.login_otp", "auth.login_cancel", "auth.logout"}),
    SignInState.AWAITING_CONNECTION: frozenset(
        {"auth.login_connect", "auth.login_cancel", "auth.logout"}
    ),
}
STEP_ENDPOINTS = {
    SignInState.AWAITING_CODE: "auth.login_otp",
    SignInState.AWAITING_CONNECTION: "auth.login_connect",
}


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


@login_manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login is untyped
def load_user(user_id: str) -> User | None:
    """Give Flask-Login the user only while the server-side session record is live."""
    resolved = sessions.resolve_session(
        session.get(SESSION_TOKEN_KEY), now=utcnow(), limits=session_limits()
    )
    record = resolved.record
    if resolved.changed:
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


@dataclass(frozen=True)
class PendingStep:
    """What the cookie holds between the password and the second step.

    Only a token (worth something while its server-side pending sign-in lives), the step,
    a deadline, and what the password step decided: remember the session, and where to go
    once signed in.
    """

    token: str
    state: SignInState
    until: float
    remember: bool
    next_url: str


def pending_session_data(
    token: str, state: SignInState, *, remember: bool, next_url: str, now: datetime
) -> dict[str, object]:
    """Return the cookie session's pending-sign-in entry (the benchmark builds it too)."""
    return {
        "token": token,
        "state": state.value,
        "until": (now + signin.PENDING_LIFETIME).timestamp(),
        "remember": remember,
        "next": next_url,
    }


def pending_step() -> PendingStep | None:
    """Read the pending-sign-in entry of the cookie session, or None when there is none."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return PendingStep(
            token=str(data["token"]),
            state=SignInState(data["state"]),
            until=float(data["until"]),
            remember=bool(data.get("remember")),
            next_url=str(data.get("next") or ""),
        )
    except (KeyError, TypeError, ValueError):
        return None


def current_state() -> SignInState:
    """Tell where this browser session stands in the sign-in flow."""
    if current_user.is_authenticated:
        return SignInState.SIGNED_IN
    if session.get(PENDING_KEY) is None:
        return SignInState.ANONYMOUS
    pending = pending_step()
    if pending is None:
        session.pop(PENDING_KEY, None)
        return SignInState.ANONYMOUS
    if pending.until < utcnow().timestamp():
        session.pop(PENDING_KEY, None)
        g.pending_expired = True
        return SignInState.ANONYMOUS
    return pending.state


def pending_user() -> User | None:
    """Return the user whose password was accepted, while the second step is pending.

    The cookie alone is not enough: its pending sign-in must still be live on the
    server, so a copy of the cookie is worthless once the sign-in completed or ended.
    """
    if current_state() not in STEP_ENDPOINTS:
        return None
    user = sessions.pending_sign_in_user(_pending_token(), now=utcnow())
    return user if user is not None and user.active else None


def _pending_token() -> str | None:
    pending = pending_step()
    return pending.token if pending else None


def begin_second_step(user: User, state: SignInState, *, remember: bool, next_url: str) -> str:
    """Hold only the pending sign-in and a deadline; return the endpoint of the step to show.

    `next_url` is where to go once signed in, decided now (the code step need not read
    the user's groups for it). Commits: the pending sign-in's server-side record must
    exist before its cookie does.
    """
    signin.check_transition(current_state(), state)
    now = utcnow()
    token = sessions.open_pending_sign_in(user, now=now, lifetime=signin.PENDING_LIFETIME)
    db.session.commit()
    # A renewed cookie session: nothing from before the password survives.
    session.clear()
    session[PENDING_KEY] = pending_session_data(
        token, state, remember=remember, next_url=next_url, now=now
    )
    return STEP_ENDPOINTS[state]


def abandon_second_step() -> None:
    """Forget a half-finished sign-in, on the server and in the browser; commits."""
    sessions.discard_pending_sign_in(_pending_token())
    db.session.commit()
    session.clear()


def finish_sign_in(
    user: User, *, remember: bool, method: str = "password", new_browser: bool = False
) -> bool:
    """Sign the user in with a renewed session; commits.

    `new_browser` says this browser never signed in as this user (the user is told).

    After a second step, the pending sign-in is used up by the same transaction: of two
    requests carrying the same pending cookie, only one signs in. The other gets False,
    with everything it did rolled back (a code it spent stays unspent).
    """
    state = current_state()
    signin.check_transition(state, SignInState.SIGNED_IN)
    now = utcnow()
    if state is not SignInState.ANONYMOUS and not sessions.consume_pending_sign_in(
        _pending_token(), now=now
    ):
        db.session.rollback()
        session.clear()
        return False
    token = signin.complete_sign_in(
        user,
        now=now,
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
        method=method,
        new_browser=new_browser,
    )
    # A fresh cookie session: nothing from before the sign-in survives (no fixation).
    session.clear()
    session[SESSION_TOKEN_KEY] = token
    session.permanent = remember
    login_user(user, remember=False)
    # Last, so that login_user reads the user before the commit expires it. Should the
    # commit fail, the cookie's token has no record and the next request is anonymous.
    db.session.commit()
    return True


def set_remembered_computer_cookie(response: Response, token: str, expires: datetime) -> None:
    """Give the browser the cookie that makes this computer remembered for its user."""
    response.set_cookie(
        REMEMBER_COOKIE,
        token,
        expires=expires,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def sign_out() -> None:
    """End this session on the server and in the browser; commits."""
    if current_user.is_authenticated:
        signin.sign_out(current_user, current_session_id(), now=utcnow(), ip=client_ip())
        db.session.commit()
    elif _pending_token() is not None:
        abandon_second_step()
    logout_user()
    session.clear()


def login_redirect() -> Response:
    """Send an anonymous visitor to the sign-in page, remembering where they were going."""
    if g.pop("session_ended", False):
        # Tell the person why: idle, expired, ended elsewhere, or blocked.
        flash(message("login.session_ended"), "info")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login") + "?" + urlencode({"next": target}))


def enforce_sign_in_state() -> Response | None:
    """Keep every page but the sign-in steps behind a complete sign-in."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    if is_api_request():
        return None  # the API has no sessions: each call carries its client's key
    state = current_state()
    if state is SignInState.SIGNED_IN:
        return None
    if state in PENDING_ENDPOINTS:
        if endpoint in PENDING_ENDPOINTS[state]:
            return None
        return redirect(url_for(STEP_ENDPOINTS[state]))
    if endpoint == "auth.logout":
        return redirect(url_for("auth.login"))
    if endpoint in ("auth.login_otp", "auth.login_connect", "auth.login_cancel"):
        return redirect(url_for("auth.login"))
    return login_redirect()


def require_recent_sign_in(back: str) -> Response | None:
    """Ask for the password again when the last full sign-in is too old for a sensitive action.

    Returns the redirect to the password page (coming back to `back`), or None to go on.
    """
    record = g.get("session_record")
    recent = signin.signed_in_recently(
        record.authenticated_at if record else None,
        now=utcnow(),
        minutes=current_app.config["REAUTH_MINUTES"],
    )
    if recent:
        return None
    db.session.rollback()
    flash(message("otp.reauth_needed"), "info")
    return redirect(url_for("mypage.reauth", next=back), code=303)
