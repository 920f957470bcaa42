"""Answering a domain refusal with the status it carries."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from extensions import db
from security.messages import Refusal


def answer_refusal(
    refusal: Refusal,
    *,
    back: str,
    form: FlaskForm | None = None,
    page: Callable[[], ResponseReturnValue] | None = None,
) -> ResponseReturnValue:
    """Answer a refusal: 403 with its sentence, the form again with the sentence by its field,
    or the sentence flashed on the way `back`.

    A 403 keeps the refusal's event on record (the domain wrote it on purpose); anything
    else the refused request did is rolled back.
    """
    if refusal.status == 403:
        db.session.commit()
        abort(403, description=refusal.text)
    db.session.rollback()
    if form is not None and page is not None and refusal.field in form:
        form[refusal.field].errors = [refusal.text]
        return page()
    flash(refusal.text, "error")
    return redirect(back, code=303)
