"""Prometheus' scrape target: `GET /metrics` (who may read it: web.metrics.refusal_status)."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from models import utcnow
from security.messages import message
from web import metrics
from web.errors import render_error

bp = Blueprint("metrics", __name__)


@bp.route("/metrics")
def scrape() -> Response | tuple[str, int, dict[str, str]]:
    refused = metrics.refusal_status()
    if refused == 401:
        page, status = render_error(401, message("metrics.token_needed"))
        return page, status, metrics.TOKEN_CHALLENGE
    if refused is not None:
        page, status = render_error(refused, message("metrics.local_only"))
        return page, status, {}
    body, content_type = metrics.exposition(utcnow())
    return Response(body, content_type=content_type)
