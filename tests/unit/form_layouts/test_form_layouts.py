"""Form layouts: resolution, validation on save and on load, and what a layout hides."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from extensions import db
from models import Event, SavedFormLayout
from security import events
from security.form_layouts.arrangement import LABEL_MAX, LayoutError, layout_from_entries
from security.form_layouts.builtin import layout_for
from security.form_layouts.entries import (
    FieldEntry,
    TabEntry,
    add_section,
    arrange,
    entries_from_layout,
    move_field,
    move_tab,
)
from security.form_layouts.layout import FormLayout
from security.form_layouts.storage import (
    editable_layout,
    layout_document,
    layout_from_document,
    reset_layout,
    resolved_layout,
    save_layout,
    set_personal_enabled,
)
from security.messages import message

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def entries(form_id: str = "user_edit") -> list[TabEntry]:
    """The dialog's rows for the built-in layout."""
    return entries_from_layout(layout_for(form_id))


def tab_entry(rows: list[TabEntry], tab_id: str) -> TabEntry:
    return next(tab for tab in rows if tab.id == tab_id)


def field_entry(rows: list[TabEntry], field_id: str) -> FieldEntry:
    return next(row for tab in rows for row in tab.fields if row.id == field_id)


def tab_ids(layout: FormLayout) -> list[str]:
    return [tab.id for tab in layout.tabs]


def problems_of(rows: list[TabEntry]) -> list[str]:
    with pytest.raises(LayoutError) as raised:
        layout_from_entries("user_edit", rows)
    return raised.value.problems


# --------------------------------------------------------------------------- built-in


def test_builtin_user_form_has_the_five_tabs_in_order() -> None:
    layout = layout_for("user_edit")
    assert tab_ids(layout) == ["main", "groups", "personal", "otp", "events"]
    assert [tab.label for tab in layout.tabs] == [
        "User",
        "Groups",
        "Personal data",
        "Two-step authentication",
        "Security events",
    ]
    assert layout.tab("main") is not None and layout.tab("main").required  # type: ignore[union-attr]
    assert layout.tab("main").fields == (  # type: ignore[union-attr]
        "login",
        "email",
        "active",
        "password",
        "password_confirm",
    )
    assert layout.tab("otp").fields == ()  # type: ignore[union-attr]
    assert layout.hidden_tabs == () and layout.hidden_fields == ()


def test_builtin_otp_settings_layout() -> None:
    layout = layout_for("otp_settings")
    assert tab_ids(layout) == ["state", "parameters"]
    assert "issuer" in layout.tab("parameters").fields  # type: ignore[union-attr]
    assert len(layout.tab("parameters").fields) == 13  # type: ignore[union-attr]


def test_unchanged_dialog_gives_back_the_builtin_layout() -> None:
    assert layout_from_entries("user_edit", entries()) == layout_for("user_edit")


# --------------------------------------------------------------------------- changes


def test_hide_rename_and_reorder_tabs() -> None:
    rows = entries()
    tab_entry(rows, "groups").visible = False
    tab_entry(rows, "personal").label = "  About  "
    tab_entry(rows, "events").position = 0
    layout = layout_from_entries("user_edit", rows)
    assert tab_ids(layout) == ["events", "main", "personal", "otp"]
    assert layout.tab("personal").label == "About"  # type: ignore[union-attr]
    assert layout.hidden_tabs == ("groups",)
    # Fields of a hidden tab are not shown either.
    assert layout.hidden_fields == ("groups",)


def test_hide_rename_reorder_and_move_fields_and_add_a_section() -> None:
    rows = entries()
    assert add_section(rows, 0, "Access")
    field_entry(rows, "email").visible = False
    field_entry(rows, "login").label = "User name"
    field_entry(rows, "active").position = 0
    field_entry(rows, "name").tab = "main"
    layout = layout_from_entries("user_edit", rows)
    main = layout.tab("main")
    assert main is not None
    assert [item.id for item in main.shown_items] == [
        "active",
        "login",
        "password",
        "password_confirm",
        "section-1",
        "name",
    ]
    assert main.fields == ("active", "login", "password", "password_confirm", "name")
    assert layout.field_label("login") == "User name"
    assert layout.tab("personal").fields == ("last_name", "language", "timezone")  # type: ignore[union-attr]
    assert layout.hidden_fields == ("email",)


def test_move_buttons_and_arrange() -> None:
    rows = entries()
    move_tab(rows, 4, -1)
    assert [tab.id for tab in rows] == ["main", "groups", "personal", "events", "otp"]
    move_tab(rows, 0, -1)  # the first cannot go up
    assert rows[0].id == "main"
    move_field(rows, 0, 0, 1)
    assert [row.id for row in rows[0].fields][:2] == ["email", "login"]
    assert [row.position for row in rows[0].fields] == [1, 2, 3, 4, 5]
    field_entry(rows, "last_name").tab = "groups"
    arranged = arrange("user_edit", rows)
    assert [row.id for row in tab_entry(arranged, "groups").fields] == ["groups", "last_name"]
    assert not add_section(arranged, [t.id for t in arranged].index("otp"))


def test_required_tab_and_field_cannot_be_hidden() -> None:
    rows = entries()
    tab_entry(rows, "main").visible = False
    field_entry(rows, "login").visible = False
    problems = problems_of(rows)
    assert message("layout.required_tab", label="User") in problems
    assert message("layout.required_field", label="Login") in problems


def test_required_field_cannot_go_to_a_hidden_tab() -> None:
    rows = entries()
    field_entry(rows, "login").tab = "groups"
    tab_entry(rows, "groups").visible = False
    assert problems_of(rows) == [
        message("layout.required_field_on_hidden_tab", label="Login", tab="Groups")
    ]


@pytest.mark.parametrize(
    ("change", "key", "values"),
    [
        (
            lambda rows: rows.append(TabEntry("nope", "X", position=9)),
            "layout.unknown_tab",
            {"id": "nope"},
        ),
        (
            lambda rows: rows[0].fields.append(FieldEntry("nope", "X", position=9)),
            "layout.unknown_field",
            {"id": "nope"},
        ),
        (
            lambda rows: rows[1].fields.append(FieldEntry("login", "X", position=9)),
            "layout.duplicate_id",
            {"id": "login"},
        ),
        (
            lambda rows: setattr(rows[1], "position", 1),
            "layout.duplicate_position",
            {"position": 1},
        ),
        (
            lambda rows: setattr(rows[0].fields[1], "position", 1),
            "layout.duplicate_position",
            {"position": 1},
        ),
        (lambda rows: setattr(rows[1], "position", None), "layout.bad_position", {}),
        (lambda rows: setattr(rows[1], "label", "   "), "layout.label_empty", {"name": "Groups"}),
        (
            lambda rows: setattr(rows[0].fields[1], "label", "x" * (LABEL_MAX + 1)),
            "layout.label_too_long",
            {"name": "E-mail", "max": LABEL_MAX},
        ),
        (
            lambda rows: setattr(rows[2], "label", "bad\nlabel"),
            "layout.label_control_characters",
            {"name": "Personal data"},
        ),
        (
            lambda rows: setattr(rows[0].fields[1], "tab", "otp"),
            "layout.tab_takes_no_fields",
            {"label": "Two-step authentication"},
        ),
    ],
)
def test_bad_input_is_refused_with_a_message(change: Any, key: str, values: dict[str, Any]) -> None:
    rows = entries()
    change(rows)
    assert message(key, **values) in problems_of(rows)


def test_a_label_of_exactly_the_limit_is_accepted() -> None:
    rows = entries()
    rows[1].label = "g" * LABEL_MAX
    assert layout_from_entries("user_edit", rows).tab("groups").label == "g" * LABEL_MAX  # type: ignore[union-attr]


# --------------------------------------------------------------------------- storage


def test_document_records_what_it_hides_and_round_trips() -> None:
    rows = entries()
    tab_entry(rows, "otp").visible = False
    field_entry(rows, "email").visible = False
    field_entry(rows, "name").label = "Given name"
    layout = layout_from_entries("user_edit", rows)
    document = json.loads(layout_document(layout))
    otp = next(tab for tab in document["tabs"] if tab["id"] == "otp")
    assert otp == {"id": "otp", "hidden": True}
    main = next(tab for tab in document["tabs"] if tab["id"] == "main")
    assert {"id": "email", "hidden": True} in main["fields"]
    # Labels are stored only when renamed.
    assert {"id": "login"} in main["fields"]
    assert layout_from_document("user_edit", layout_document(layout)) == layout


def test_a_layout_saved_before_a_tab_existed_shows_it_at_its_builtin_place() -> None:
    old = {
        "version": 1,
        "tabs": [
            {"id": "personal", "label": "About"},
            {"id": "main", "fields": [{"id": "login"}, {"id": "email", "hidden": True}]},
            {"id": "groups", "hidden": True},
            {"id": "events"},
        ],
    }
    layout = layout_from_document("user_edit", json.dumps(old))
    assert layout is not None
    assert tab_ids(layout) == ["personal", "otp", "main", "events"]
    # Fields it did not mention stand at their built-in places, the language and time
    # zone added after it was saved too.
    assert layout.tab("main").fields == ("login", "active", "password", "password_confirm")  # type: ignore[union-attr]
    assert layout.tab("personal").fields == ("name", "last_name", "language", "timezone")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '{"tabs": 3}', '{"tabs": [1, {"nope": 1}]}', "[" * 5000],
)
def test_an_unreadable_document_falls_back(text: str) -> None:
    layout = layout_from_document("user_edit", text)
    assert layout is None or layout == layout_for("user_edit")


def test_a_stale_document_is_repaired_on_load() -> None:
    stale = {
        "tabs": [
            {"id": "main", "hidden": True, "label": "x" * 500},
            {"id": "gone", "fields": [{"id": "login"}]},
            {"id": "groups", "hidden": True, "fields": [{"id": "login"}, {"id": "vanished"}]},
            {"id": "otp", "fields": [{"id": "email"}]},
            {"id": "personal", "fields": [{"id": "section-1", "label": ""}, {"id": "name"}]},
            {"id": "main"},
        ]
    }
    layout = layout_from_document("user_edit", json.dumps(stale))
    assert layout is not None
    # The required tab is shown with its built-in label; login forces its tab open.
    assert layout.tab("main").label == "User"  # type: ignore[union-attr]
    assert layout.tab("groups").fields == ("groups", "login")  # type: ignore[union-attr]
    assert "email" in layout.tab("main").fields  # type: ignore[union-attr]
    assert layout.tab("otp").items == ()  # type: ignore[union-attr]
    assert layout.tab("personal").fields == ("name", "last_name", "language", "timezone")  # type: ignore[union-attr]


def test_revealing_brings_fields_from_a_hidden_tab_to_the_first() -> None:
    rows = entries()
    field_entry(rows, "password").tab = "personal"
    tab_entry(rows, "personal").visible = False
    layout = layout_from_entries("user_edit", rows).revealing(["password"])
    assert layout.tab("main").fields[-1] == "password"  # type: ignore[union-attr]
    assert "password" not in layout.hidden_fields


# --------------------------------------------------------------------------- resolution


def _layout_hiding(tab_id: str) -> FormLayout:
    rows = entries()
    tab_entry(rows, tab_id).visible = False
    return layout_from_entries("user_edit", rows)


def test_resolution_personal_over_default_over_builtin(make_user: Any) -> None:
    admin = make_user("admin", admin=True)
    other = make_user("other", admin=True)
    assert resolved_layout("user_edit", admin.id).source == "builtin"

    save_layout(_layout_hiding("groups"), scope="default", actor=admin, now=NOW, ip="")
    db.session.commit()
    for user in (admin, other):
        layout = resolved_layout("user_edit", user.id)
        assert layout.source == "default" and "groups" in layout.hidden_tabs

    save_layout(_layout_hiding("events"), scope="personal", actor=admin, now=NOW, ip="")
    db.session.commit()
    mine = resolved_layout("user_edit", admin.id)
    assert mine.source == "personal" and mine.hidden_tabs == ("events",)
    assert mine.has_personal and mine.personal_enabled and mine.has_default
    assert resolved_layout("user_edit", other.id).hidden_tabs == ("groups",)

    assert set_personal_enabled("user_edit", enabled=False, actor=admin, now=NOW, ip="")
    db.session.commit()
    off = resolved_layout("user_edit", admin.id)
    assert off.source == "default" and off.has_personal and not off.personal_enabled
    # The dialog still starts from one's own settings while they are off.
    assert editable_layout("user_edit", admin.id, "personal").hidden_tabs == ("events",)
    assert set_personal_enabled("user_edit", enabled=True, actor=admin, now=NOW, ip="")
    db.session.commit()
    assert resolved_layout("user_edit", admin.id).source == "personal"

    assert reset_layout("user_edit", scope="default", actor=admin, now=NOW, ip="")
    db.session.commit()
    assert resolved_layout("user_edit", other.id).source == "builtin"
    assert reset_layout("user_edit", scope="personal", actor=admin, now=NOW, ip="")
    assert not reset_layout("user_edit", scope="personal", actor=admin, now=NOW, ip="")
    db.session.commit()
    assert resolved_layout("user_edit", admin.id) == layout_for("user_edit")

    types = [e.type for e in db.session.scalars(db.select(Event).order_by(Event.id))]
    assert types.count(events.FORM_LAYOUT_SAVED) == 2
    assert types.count(events.FORM_LAYOUT_DISABLED) == 1
    assert types.count(events.FORM_LAYOUT_ENABLED) == 1
    assert types.count(events.FORM_LAYOUT_RESET) == 2


def test_only_administrators_set_the_default(make_user: Any) -> None:
    employee = make_user("employee")
    with pytest.raises(LayoutError):
        save_layout(_layout_hiding("groups"), scope="default", actor=employee, now=NOW, ip="")
    with pytest.raises(LayoutError):
        reset_layout("user_edit", scope="default", actor=employee, now=NOW, ip="")


def test_a_broken_stored_row_never_breaks_resolution(make_user: Any) -> None:
    admin = make_user("admin", admin=True)
    db.session.add(
        SavedFormLayout(form_id="user_edit", owner_id=admin.id, layout="{broken", updated_at=NOW)
    )
    db.session.commit()
    layout = resolved_layout("user_edit", admin.id)
    assert tab_ids(layout) == tab_ids(layout_for("user_edit"))
    assert layout.has_personal


def test_saving_again_updates_the_one_row_and_switches_it_on(make_user: Any) -> None:
    admin = make_user("admin", admin=True)
    save_layout(_layout_hiding("groups"), scope="personal", actor=admin, now=NOW, ip="")
    set_personal_enabled("user_edit", enabled=False, actor=admin, now=NOW, ip="")
    save_layout(_layout_hiding("events"), scope="personal", actor=admin, now=NOW, ip="")
    db.session.commit()
    rows = db.session.scalars(db.select(SavedFormLayout)).all()
    assert len(rows) == 1 and rows[0].enabled
    assert resolved_layout("user_edit", admin.id).hidden_tabs == ("events",)
