"""The settings row on a database emptied by hand: made once, even by two first requests."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from extensions import db
from models import SETTINGS_ROW_ID, OtpSettings
from security.otp_settings import load_settings


def settings_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(OtpSettings)) or 0


def test_a_missing_settings_row_is_made_with_the_defaults(app: Flask) -> None:
    db.session.execute(delete(OtpSettings))
    db.session.commit()
    settings = load_settings()
    db.session.commit()
    assert settings.id == SETTINGS_ROW_ID
    assert settings_rows() == 1


def test_the_second_of_two_first_requests_reads_the_row_the_first_one_made(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race: this request read "no row" just before another request's insert committed.
    db.session.execute(delete(OtpSettings))
    db.session.commit()
    db.session.add(OtpSettings(id=SETTINGS_ROW_ID, issuer="Made by the other request"))
    db.session.commit()
    db.session.expunge_all()
    real_get = db.session.get
    reads: list[Any] = []

    def read_before_the_other_insert(model: Any, ident: Any, **options: Any) -> Any:
        reads.append(ident)
        return None if len(reads) == 1 else real_get(model, ident, **options)

    monkeypatch.setattr(db.session, "get", read_before_the_other_insert)
    settings = load_settings()
    db.session.commit()  # the request goes on: its transaction was not spoilt
    assert settings.issuer == "Made by the other request"
    assert settings_rows() == 1
