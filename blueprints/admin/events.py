"""The security event log and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from flask import Response, render_template, request, stream_with_context

from blueprints.admin import bp
from forms.admin import EventFilterForm
from models import Event
from security import list_queries
from security.events import EVENT_TYPES
from security.messages import message
from security.untrusted_text import spreadsheet_safe
from web.filters import event_label

CSV_COLUMNS = ("time_utc", "type", "outcome", "actor", "subject", "ip", "details", "count")


def _filters(form: EventFilterForm) -> dict[str, object]:
    since = form.since.data
    until = form.until.data
    return {
        "event_type": form.type.data or "",
        "user_login": form.user.data or "",
        "since": datetime.combine(since, time.min, UTC) if since else None,
        # "To" a date includes that whole day.
        "until": (
            datetime.combine(until, time.min, UTC) + timedelta(days=1)
            if until and until < date.max
            else None
        ),
    }


def _filter_form() -> tuple[EventFilterForm, bool]:
    form = EventFilterForm(request.args)
    form.type.choices = [("", message("admin.all_types"))] + [
        (kind, event_label(kind)) for kind in EVENT_TYPES
    ]
    return form, form.validate()


@bp.route("/events")
def events() -> tuple[str, int]:
    form, valid = _filter_form()
    page = list_queries.search_events(
        **(_filters(form) if valid else {}),  # type: ignore[arg-type]
        page=(form.page.data or 1) if valid else 1,
        per_page=50,
    )
    return render_template("admin/events.html", form=form, page=page), 200 if valid else 400


def _csv_row(event: Event) -> list[str]:
    return [
        spreadsheet_safe(value)
        for value in (
            event.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            event.type,
            event.outcome,
            event.actor_login,
            event.subject_login,
            event.ip,
            event.details,
            str(event.count),
        )
    ]


def _csv_chunks(filters: dict[str, object]) -> Iterator[str]:
    """Yield the CSV of the matching events page by page, so a long log is never held whole."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    page_number = 1
    while True:
        page = list_queries.search_events(
            **filters,
            page=page_number,
            per_page=500,  # type: ignore[arg-type]
        )
        for event in page.items:
            writer.writerow(_csv_row(event))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if not page.has_next:
            break
        page_number += 1


@bp.route("/events.csv")
def events_csv() -> Response:
    form, valid = _filter_form()
    return Response(
        stream_with_context(_csv_chunks(_filters(form) if valid else {})),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=events.csv"},
    )
