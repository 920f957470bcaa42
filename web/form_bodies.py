"""Form endpoints take form bodies only.

Flask-WTF reads a JSON body as form data when there is no form body, so a JSON request
would reach the views with fields the rate limiter (keyed on request.form) never saw.
Every endpoint of the console is a form: any other body is refused before the view.
An endpoint that takes another kind of body (an API) would be exempted here by name.
"""

from __future__ import annotations

from typing import Final

from flask import abort, request

from web.api_problems import is_api_request

FORM_MIMETYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def require_form_body() -> None:
    """Refuse (415) a request whose body is not a form; an empty body is a bare button.

    The API (/api/v1) takes JSON, read by its own schemas and rate limits.
    """
    if request.method not in BODY_METHODS or request.mimetype in FORM_MIMETYPES:
        return
    if is_api_request():
        return
    if request.mimetype or _has_body():
        abort(415)


# Endpoints that take a file, and the largest body each accepts (others: MAX_CONTENT_LENGTH).
UPLOAD_LIMITS: Final = {"admin.tokens_import": 6 * 1024 * 1024}


def allow_uploads() -> None:
    """Raise the body limit for an endpoint that takes a file, before anything reads the body
    (the CSRF check reads the form): registered ahead of it."""
    limit = UPLOAD_LIMITS.get(request.endpoint or "")
    if limit is not None:
        request.max_content_length = limit
