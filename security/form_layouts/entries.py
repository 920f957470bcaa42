"""The rows of the "Customize form appearance" dialog: tabs and fields, ordered and renumbered.

The dialog sends its rows as entries, and a stored layout is read back as entries too;
`arrangement` turns entries into a layout. Here the rows are only put in order, moved
and numbered, so that the dialog can be drawn again with what the person typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from security.form_layouts.builtin import layout_for
from security.form_layouts.layout import FormLayout, TabLayout

# Bounds on what a dialog may send, so that a forged request cannot grow a layout.
MAX_SECTIONS: Final = 30
SECTION_ID: Final = re.compile(r"section-[1-9][0-9]{0,3}")

_Row = TypeVar("_Row")


@dataclass
class Entry:
    """A row of the dialog as it sends it (or a stored layout holds it): a tab or a field."""

    id: str
    label: str = ""
    visible: bool = True
    position: int | None = None


@dataclass
class FieldEntry(Entry):
    """One row of a tab's fields: a form field or a section heading."""

    # The tab it goes to; empty for the tab it is listed under.
    tab: str = ""
    # Filled in for drawing the dialog; never read from a request.
    required: bool = False
    section: bool = False


@dataclass
class TabEntry(Entry):
    """One tab with the rows listed under it."""

    fields: list[FieldEntry] = field(default_factory=list)
    # Filled in for drawing the dialog; never read from a request.
    required: bool = False
    holds_fields: bool = True
    builtin_label: str = ""


def position_key(entry: Entry) -> int:
    """Return the sort key of a row: its position, rows without one last."""
    return entry.position if entry.position is not None else 1_000_000


def is_section(row_id: str) -> bool:
    """Tell whether a row id names a section heading rather than a form field."""
    return SECTION_ID.fullmatch(row_id) is not None


def entries_from_layout(layout: FormLayout) -> list[TabEntry]:
    """Return the dialog's rows for a layout, numbered from 1."""
    return arrange(
        layout.form_id,
        [
            TabEntry(
                tab.id,
                tab.label,
                not tab.hidden,
                fields=[FieldEntry(item.id, item.label, not item.hidden) for item in tab.items],
            )
            for tab in layout.all_tabs
        ],
    )


def arrange(form_id: str, entries: Sequence[TabEntry]) -> list[TabEntry]:
    """Order a dialog's rows by their positions, carry moved fields over, and renumber.

    Used to draw the dialog again (after Move up, say): rows with unknown ids are dropped,
    what the person typed is kept as it is, even when it would not pass validation.
    """
    builtin = layout_for(form_id)
    tabs = _known_tabs(builtin, entries) + _unmentioned_tabs(builtin, entries)
    _place_field_rows(builtin, tabs)
    _renumber(tabs)
    return tabs


def _tab_row(spec: TabLayout, label: str, visible: bool, fields: list[FieldEntry]) -> TabEntry:
    return TabEntry(
        spec.id,
        label,
        visible or spec.required,
        fields=fields,
        required=spec.required,
        holds_fields=spec.holds_fields,
        builtin_label=spec.label,
    )


def _known_tabs(builtin: FormLayout, entries: Sequence[TabEntry]) -> list[TabEntry]:
    """Return the tab rows of the built-in form in the order of their positions, once each."""
    tabs: list[TabEntry] = []
    for tab in sorted(entries, key=position_key):
        spec = builtin.any_tab(tab.id)
        if spec is not None and all(kept.id != tab.id for kept in tabs):
            fields = sorted(tab.fields, key=position_key)
            tabs.append(_tab_row(spec, tab.label, tab.visible, fields))
    return tabs


def _unmentioned_tabs(builtin: FormLayout, entries: Sequence[TabEntry]) -> list[TabEntry]:
    """Return rows for the built-in tabs the entries leave out, to go at the end."""
    mentioned = {tab.id for tab in entries}
    return [
        _tab_row(spec, spec.label, True, [])
        for spec in builtin.all_tabs
        if spec.id not in mentioned
    ]


def _place_field_rows(builtin: FormLayout, tabs: list[TabEntry]) -> None:
    """Keep the known field rows once each, on their tab or the tab they move to (at its end)."""
    field_specs = {item.id: item for tab in builtin.all_tabs for item in tab.items}
    by_id = {tab.id: tab for tab in tabs}
    kept: dict[str, list[FieldEntry]] = {tab.id: [] for tab in tabs}
    moved: dict[str, list[FieldEntry]] = {tab.id: [] for tab in tabs}
    seen: set[str] = set()
    for tab in tabs:
        for row in tab.fields:
            section = is_section(row.id)
            if row.id in seen or not (section or row.id in field_specs):
                continue
            target = row.tab if row.tab in by_id and by_id[row.tab].holds_fields else tab.id
            if not by_id[target].holds_fields:
                continue
            seen.add(row.id)
            required = field_specs[row.id].required if row.id in field_specs else False
            entry = FieldEntry(
                row.id,
                row.label,
                row.visible or required,
                tab=target,
                required=required,
                section=section,
            )
            (kept if target == tab.id else moved)[target].append(entry)
    for tab in tabs:
        tab.fields = kept[tab.id] + moved[tab.id]


def apply_action(
    form_id: str, entries: Sequence[TabEntry], action: str, numbers: Sequence[int]
) -> list[TabEntry]:
    """Return the dialog's rows arranged, with a button other than Save applied to them."""
    rows = arrange(form_id, entries)
    if action in ("tab-up", "tab-down"):
        move_tab(rows, numbers[0], -1 if action == "tab-up" else 1)
    elif action in ("field-up", "field-down"):
        move_field(rows, numbers[0], numbers[1], -1 if action == "field-up" else 1)
    elif action == "add-section":
        add_section(rows, numbers[0])
    return rows


def move_tab(entries: list[TabEntry], index: int, step: int) -> None:
    """Move the tab at `index` one place up (step -1) or down (+1), if it can go there."""
    _swap(entries, index, step)
    _renumber(entries)


def move_field(entries: list[TabEntry], tab_index: int, index: int, step: int) -> None:
    """Move a field within its tab one place up or down, if it can go there."""
    if 0 <= tab_index < len(entries):
        _swap(entries[tab_index].fields, index, step)
    _renumber(entries)


def add_section(entries: list[TabEntry], tab_index: int, label: str = "New section") -> bool:
    """Add a section heading at the end of a tab; False when it takes no fields or is full."""
    if not 0 <= tab_index < len(entries) or not entries[tab_index].holds_fields:
        return False
    numbers = [
        int(row.id.split("-")[1]) for tab in entries for row in tab.fields if is_section(row.id)
    ]
    if len(numbers) >= MAX_SECTIONS:
        return False
    new_id = f"section-{max(numbers, default=0) + 1}"
    entries[tab_index].fields.append(
        FieldEntry(new_id, label, tab=entries[tab_index].id, section=True)
    )
    _renumber(entries)
    return True


def _swap(rows: list[_Row], index: int, step: int) -> None:
    """Swap the row at `index` with its neighbour `step` away, when both exist."""
    other = index + step
    if 0 <= index < len(rows) and 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]


def _renumber(entries: list[TabEntry]) -> None:
    for number, tab in enumerate(entries, start=1):
        tab.position = number
        for field_number, row in enumerate(tab.fields, start=1):
            row.position = field_number
