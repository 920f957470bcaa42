"""The benchmark's app: the console plus one floor route, never part of production.

`create_bench_app()` builds the console exactly as `create_app()` does and attaches
`POST /bench/baseline`, which does what every request of the console does at least:
the session cookie is read and checked by the sign-in gate (as for the second step),
the form and its CSRF token are checked, and the pending user is read in one query
(the live pending sign-in joined to its user, as the second step reads it). The second
step's cost is measured against this floor.

gunicorn serves it as `bench.baseline:create_bench_app()`; bench/run.py uses it in
process. Nothing in app.py knows about it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect
from werkzeug.wrappers import Response

bp = Blueprint("bench", __name__, url_prefix="/bench")


@bp.route("/baseline", methods=["POST"])
def baseline() -> Response:
    from web.signin_session import pending_user

    if pending_user() is None:
        return Response("no pending user", status=400)
    return redirect("/my/", code=303)


@bp.route("/baseline-write", methods=["POST"])
def baseline_write() -> Response:
    """The floor plus one durable write: a sign-in must commit, and a commit costs an fsync."""
    from sqlalchemy import update

    from extensions import db
    from models import User
    from web.signin_session import pending_user

    user = pending_user()
    if user is None:
        return Response("no pending user", status=400)
    db.session.execute(
        update(User).where(User.id == user.id).values(last_sign_in_at=User.last_sign_in_at)
    )
    db.session.commit()
    return redirect("/my/", code=303)


def create_bench_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the console with the baseline route; the gate lets it through like /login/otp."""
    from app import create_app
    from security.signin import SignInState
    from web import signin_session

    app = create_app(test_config)
    app.register_blueprint(bp)
    waiting = SignInState.AWAITING_CODE
    allowed = signin_session.PENDING_ENDPOINTS[waiting] | {"bench.baseline", "bench.baseline_write"}
    signin_session.PENDING_ENDPOINTS[waiting] = allowed
    return app
