"""The API's errors as RFC 9457 problem documents (application/problem+json).

Every error of a request under /api/v1 answers here, whatever raised it (the API's own
checks, the rate limiter, an unexpected fault): JSON, never the console's HTML pages, and
never a session cookie.
"""

from __future__ import annotations

import json
import time
from typing import Final

from flask import Response, request
from werkzeug.http import HTTP_STATUS_CODES

API_PREFIX: Final = "/api/v1"
PROBLEM_TYPE: Final = "application/problem+json"

# The machine word for each status, under about:blank as RFC 9457 allows with a title.
DETAILS: Final = {
    400: "The request body is not JSON.",
    401: "A valid API key is needed: Authorization: Bearer <key>.",
    403: "This key may not do that, or not from this address.",
    404: "No such resource.",
    405: "Method not allowed here.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    422: "The request body does not match the schema.",
    429: "Too many requests; try again later.",
    500: "An unexpected error; it has been logged.",
    503: "The database is unavailable; try again later.",
}


def is_api_request() -> bool:
    """Tell whether the current request is one of the API's."""
    path = request.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def retry_after_seconds() -> int:
    """Seconds until the breached rate limit lets a request through again (at least 1)."""
    from extensions import limiter

    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def problem(status: int, detail: str | None = None, *, errors: object | None = None) -> Response:
    """Answer a problem document with `status`."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or DETAILS.get(status, ""),
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if status == 429:
        response.headers["Retry-After"] = str(retry_after_seconds())
    return response
