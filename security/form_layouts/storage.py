"""Saved form layouts: one's own and the common default, stored, reset, switched off and on.

Which layout a person sees is settled here too: personal (if on), else default, else built-in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import or_, select

from extensions import db
from models import SavedFormLayout, User
from security import events
from security.form_layouts.arrangement import (
    LayoutError,
    layout_from_entries,
    layout_from_saved_entries,
)
from security.form_layouts.builtin import layout_for
from security.form_layouts.entries import FieldEntry, TabEntry
from security.form_layouts.layout import FormLayout, Source
from security.messages import message

FORMAT_VERSION: Final = 1

Scope = Literal["personal", "default"]
SCOPES: Final[tuple[Scope, ...]] = ("personal", "default")


def layout_document(layout: FormLayout) -> str:
    """Return the JSON text that stores a layout: every tab and field, and what it hides.

    Labels are kept only where they differ from the built-in ones, so that a label
    the console improves later reaches everyone who did not rename it.
    """
    builtin = layout_for(layout.form_id)
    tab_labels = {tab.id: tab.label for tab in builtin.all_tabs}
    field_labels = {item.id: item.label for tab in builtin.all_tabs for item in tab.items}
    tabs: list[dict[str, object]] = []
    for tab in layout.all_tabs:
        tab_doc: dict[str, object] = {"id": tab.id}
        if tab.label != tab_labels.get(tab.id):
            tab_doc["label"] = tab.label
        if tab.hidden:
            tab_doc["hidden"] = True
        if tab.holds_fields:
            rows: list[dict[str, object]] = []
            for item in tab.items:
                row: dict[str, object] = {"id": item.id}
                if item.section:
                    row["section"] = True
                    row["label"] = item.label
                elif item.label != field_labels.get(item.id):
                    row["label"] = item.label
                if item.hidden:
                    row["hidden"] = True
                rows.append(row)
            tab_doc["fields"] = rows
        tabs.append(tab_doc)
    return json.dumps({"version": FORMAT_VERSION, "tabs": tabs}, separators=(",", ":"))


def layout_from_document(form_id: str, text: str) -> FormLayout | None:
    """Read a stored layout leniently; None when it cannot be read at all."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("tabs"), list):
        return None
    entries: list[TabEntry] = []
    for tab in document["tabs"]:
        if not isinstance(tab, dict) or not isinstance(tab.get("id"), str):
            continue
        rows: list[FieldEntry] = []
        for row in tab.get("fields") or []:
            if isinstance(row, dict) and isinstance(row.get("id"), str):
                rows.append(
                    FieldEntry(
                        row["id"],
                        _text(row.get("label")),
                        row.get("hidden") is not True,
                    )
                )
        entries.append(
            TabEntry(tab["id"], _text(tab.get("label")), tab.get("hidden") is not True, fields=rows)
        )
    return layout_from_saved_entries(form_id, entries)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _rows(
    form_id: str, user_id: int | None
) -> tuple[SavedFormLayout | None, SavedFormLayout | None]:
    """Return the personal row of `user_id` and the default row of a form."""
    owner = SavedFormLayout.owner_id
    condition = owner.is_(None) if user_id is None else or_(owner.is_(None), owner == user_id)
    rows = db.session.scalars(
        select(SavedFormLayout).where(SavedFormLayout.form_id == form_id, condition)
    ).all()
    personal = next((r for r in rows if user_id is not None and r.owner_id == user_id), None)
    default = next((r for r in rows if r.owner_id is None), None)
    return personal, default


def resolved_layout(form_id: str, user_id: int | None) -> FormLayout:
    """Return the layout to draw for this person: personal (if on), else default, else built-in.

    Raise KeyError for a form that does not exist (see `is_known_form`).
    """
    builtin = layout_for(form_id)
    personal, default = _rows(form_id, user_id)
    has_personal = personal is not None
    personal_enabled = personal.enabled if personal is not None else True
    has_default = default is not None
    candidates: list[tuple[Source, SavedFormLayout | None]] = [
        ("personal", personal if personal is not None and personal.enabled else None),
        ("default", default),
    ]
    for source, row in candidates:
        if row is not None:
            layout = layout_from_document(form_id, row.layout)
            if layout is not None:
                return replace(
                    layout,
                    source=source,
                    has_personal=has_personal,
                    personal_enabled=personal_enabled,
                    has_default=has_default,
                )
    return replace(
        builtin,
        has_personal=has_personal,
        personal_enabled=personal_enabled,
        has_default=has_default,
    )


def editable_layout(form_id: str, user_id: int, scope: Scope) -> FormLayout:
    """Return the layout the dialog starts from for a scope.

    Personal: one's own settings even while switched off, else what one would see.
    Default: the common default, else the built-in layout.
    """
    builtin = layout_for(form_id)
    personal, default = _rows(form_id, user_id)
    rows = [personal, default] if scope == "personal" else [default]
    for row in rows:
        if row is not None:
            layout = layout_from_document(form_id, row.layout)
            if layout is not None:
                return layout
    return builtin


def save_entries(
    form_id: str,
    entries: Sequence[TabEntry],
    *,
    scope: Scope,
    actor: User,
    now: datetime,
    ip: str,
) -> FormLayout:
    """Store the layout a dialog sent; raise LayoutError listing every problem."""
    layout = layout_from_entries(form_id, entries)
    save_layout(layout, scope=scope, actor=actor, now=now, ip=ip)
    return layout


def save_layout(layout: FormLayout, *, scope: Scope, actor: User, now: datetime, ip: str) -> None:
    """Store a layout for the actor, or as everyone's default; the caller commits."""
    _check_scope(scope, actor)
    owner_id = actor.id if scope == "personal" else None
    personal, default = _rows(layout.form_id, actor.id)
    row = personal if scope == "personal" else default
    document = layout_document(layout)
    if row is None:
        row = SavedFormLayout(form_id=layout.form_id, owner_id=owner_id, layout=document)
        db.session.add(row)
    row.layout = document
    # Saving one's own settings means wanting to see them.
    row.enabled = True
    row.updated_at = now
    row.updated_by_id = actor.id
    events.record(
        events.FORM_LAYOUT_SAVED,
        now=now,
        ip=ip,
        actor=actor,
        details={
            "form": layout.form_id,
            "scope": scope,
            "hidden_tabs": ",".join(layout.hidden_tabs) or "-",
            "hidden_fields": ",".join(layout.hidden_fields) or "-",
        },
    )


def reset_layout(form_id: str, *, scope: Scope, actor: User, now: datetime, ip: str) -> bool:
    """Delete one's own settings or the common default; False when there were none."""
    _check_scope(scope, actor)
    personal, default = _rows(form_id, actor.id)
    row = personal if scope == "personal" else default
    if row is None:
        return False
    db.session.delete(row)
    events.record(
        events.FORM_LAYOUT_RESET,
        now=now,
        ip=ip,
        actor=actor,
        details={"form": form_id, "scope": scope},
    )
    return True


def _check_scope(scope: Scope, actor: User) -> None:
    """Refuse the common default to anyone but an administrator."""
    if scope == "default" and not actor.is_admin:
        raise LayoutError([message("layout.default_admins_only")])


def set_personal_enabled(
    form_id: str, *, enabled: bool, actor: User, now: datetime, ip: str
) -> bool:
    """Switch one's own settings of a form off or on again; False when there are none."""
    personal, _default = _rows(form_id, actor.id)
    if personal is None:
        return False
    if personal.enabled == enabled:
        return True
    personal.enabled = enabled
    personal.updated_at = now
    personal.updated_by_id = actor.id
    events.record(
        events.FORM_LAYOUT_ENABLED if enabled else events.FORM_LAYOUT_DISABLED,
        now=now,
        ip=ip,
        actor=actor,
        details={"form": form_id},
    )
    return True
