"""A layout made from entries: the built-in layout with tabs and fields hidden, renamed, reordered.

A dialog's entries are checked strictly (every problem is reported and nothing is saved);
a stored layout's entries leniently (what no longer makes sense is dropped or repaired).
Either way what the entries do not mention keeps its built-in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from security.form_layouts.builtin import layout_for
from security.form_layouts.entries import (
    MAX_SECTIONS,
    Entry,
    FieldEntry,
    TabEntry,
    is_section,
    position_key,
)
from security.form_layouts.layout import FieldLayout, FormLayout, TabLayout
from security.messages import message
from security.untrusted_text import has_control_characters

LABEL_MAX: Final = 60


class LayoutError(ValueError):
    """A layout that cannot be saved; `problems` says why, in the catalog's words."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def layout_from_entries(form_id: str, entries: Sequence[TabEntry]) -> FormLayout:
    """Build the layout a dialog sent; raise LayoutError listing every problem.

    Entries are ordered by their positions; a field moved to another tab goes to its end.
    """
    problems: list[str] = []
    _check_positions([tab.position for tab in entries], problems)
    for tab in entries:
        _check_positions([row.position for row in tab.fields], problems)
    if problems:
        raise LayoutError(problems)
    ordered = [
        replace(tab, fields=sorted(tab.fields, key=position_key))
        for tab in sorted(entries, key=position_key)
    ]
    layout = _assemble(layout_for(form_id), ordered, problems)
    if problems:
        raise LayoutError(list(dict.fromkeys(problems)))
    return layout


def layout_from_saved_entries(form_id: str, entries: Sequence[TabEntry]) -> FormLayout:
    """Build a layout from stored entries in their order, dropping or repairing what is wrong."""
    return _assemble(layout_for(form_id), entries, None)


def _check_positions(positions: Sequence[int | None], problems: list[str]) -> None:
    if any(position is None for position in positions):
        problems.append(message("layout.bad_position"))
        return
    repeated = sorted({p for p in positions if p is not None and positions.count(p) > 1})
    if repeated:
        problems.append(message("layout.duplicate_position", position=repeated[0]))


def _note(problems: list[str] | None, key: str, **values: object) -> None:
    """Note a refusal in the catalog's words, when the caller collects them."""
    if problems is not None:
        problems.append(message(key, **values))


def _check_label(label: str, problems: list[str] | None, what: str) -> str | None:
    """Return the cleaned label, or None (with a problem noted) when it cannot be used."""
    cleaned = label.strip()
    key = ""
    if not cleaned:
        key = "layout.label_empty"
    elif len(cleaned) > LABEL_MAX:
        key = "layout.label_too_long"
    elif has_control_characters(cleaned):
        key = "layout.label_control_characters"
    if key:
        _note(problems, key, name=what, max=LABEL_MAX)
        return None
    return cleaned


def _assemble(
    builtin: FormLayout, entries: Sequence[TabEntry], problems: list[str] | None
) -> FormLayout:
    """Build a layout from entries in their order, the built-in one filling every gap.

    With `problems` given, each refusal is noted there (the caller refuses the whole
    layout); without it, what is wrong is dropped or repaired quietly, as on load.
    """
    placement = _Placement(builtin, problems)
    for entry in entries:
        placement.add_tab(entry)
    tabs = _with_unmentioned_tabs(builtin, placement.tabs)
    return replace(
        builtin,
        all_tabs=tuple(
            _shown_while_it_holds_required_fields(
                tab,
                _with_unmentioned_fields(tab.id, placement),
                problems,
            )
            for tab in tabs
        ),
    )


class _Placement:
    """The tabs and fields the entries place, in their order, and what may not come twice."""

    def __init__(self, builtin: FormLayout, problems: list[str] | None) -> None:
        self.problems = problems
        self.tab_specs = {tab.id: tab for tab in builtin.all_tabs}
        self.field_specs = {item.id: item for tab in builtin.all_tabs for item in tab.items}
        self.tabs: list[TabLayout] = []
        # A tab's own rows come first, then the rows moved to it from other tabs.
        self.own_items: dict[str, list[FieldLayout]] = {tab_id: [] for tab_id in self.tab_specs}
        self.moved_items: dict[str, list[FieldLayout]] = {tab_id: [] for tab_id in self.tab_specs}
        self.placed_items: set[str] = set()
        self.sections = 0

    def items_on(self, tab_id: str) -> list[FieldLayout]:
        """Return the items the entries put on a tab, in order."""
        return self.own_items[tab_id] + self.moved_items[tab_id]

    def add_tab(self, entry: TabEntry) -> None:
        """Place a tab and the rows listed under it; a refused tab takes its rows with it."""
        tab = self._tab(entry)
        if tab is None:
            return
        self.tabs.append(tab)
        for row in entry.fields:
            self._add_row(row, entry.id)

    def _tab(self, entry: TabEntry) -> TabLayout | None:
        """Return the tab an entry names, renamed and hidden as it asks; None when refused."""
        spec = self.tab_specs.get(entry.id)
        if spec is None:
            _note(self.problems, "layout.unknown_tab", id=entry.id)
            return None
        if any(tab.id == entry.id for tab in self.tabs):
            _note(self.problems, "layout.duplicate_id", id=entry.id)
            return None
        label, hidden = self._as_asked(entry, spec, "layout.required_tab")
        return replace(spec, label=label, hidden=hidden, items=())

    def _add_row(self, row: FieldEntry, tab_id: str) -> None:
        """Place a field or section heading on its tab, or on the tab it moves to."""
        target = row.tab or tab_id
        if row.id in self.placed_items:
            _note(self.problems, "layout.duplicate_id", id=row.id)
            return
        target_spec = self.tab_specs.get(target)
        if target_spec is None:
            _note(self.problems, "layout.unknown_tab", id=target)
            return
        item = self._section(row) if is_section(row.id) else self._field(row)
        if item is None:
            return
        if not target_spec.holds_fields:
            _note(self.problems, "layout.tab_takes_no_fields", label=target_spec.label)
            return
        self.placed_items.add(row.id)
        (self.own_items if target == tab_id else self.moved_items)[target].append(item)

    def _section(self, row: FieldEntry) -> FieldLayout | None:
        """Return the section heading a row adds; None when deleted, badly labelled or too many."""
        if not row.visible:
            return None  # a hidden section heading is a deleted one
        label = _check_label(row.label, self.problems, row.id)
        if label is None:
            return None
        self.sections += 1
        if self.sections > MAX_SECTIONS:
            _note(self.problems, "layout.too_many_sections", max=MAX_SECTIONS)
            return None
        return FieldLayout(row.id, label, section=True)

    def _field(self, row: FieldEntry) -> FieldLayout | None:
        """Return the form field a row names, renamed and hidden as it asks; None when unknown."""
        spec = self.field_specs.get(row.id)
        if spec is None:
            _note(self.problems, "layout.unknown_field", id=row.id)
            return None
        label, hidden = self._as_asked(row, spec, "layout.required_field")
        return replace(spec, label=label, hidden=hidden)

    def _as_asked(
        self, entry: Entry, spec: TabLayout | FieldLayout, required_key: str
    ) -> tuple[str, bool]:
        """Return the label and hiding an entry asks for; a required tab or field stays shown."""
        label = self._label(entry.label, spec.label)
        hidden = not entry.visible
        if hidden and spec.required:
            _note(self.problems, required_key, label=spec.label)
            hidden = False
        return label, hidden

    def _label(self, label: str, builtin_label: str) -> str:
        """Return the label a row gives, or the built-in one in its place."""
        # A stored layout leaves out labels it does not change; a dialog always sends one.
        if not label and self.problems is None:
            return builtin_label
        return _check_label(label, self.problems, builtin_label) or builtin_label


def _after_predecessor(placed: Sequence[str], predecessors: Sequence[str]) -> int:
    """Return where an unmentioned tab or field goes: after its nearest placed predecessor."""
    for earlier in reversed(predecessors):
        if earlier in placed:
            return placed.index(earlier) + 1
    return 0


def _with_unmentioned_tabs(builtin: FormLayout, tabs: Sequence[TabLayout]) -> list[TabLayout]:
    """Add the built-in tabs the entries do not mention, each after its built-in predecessor."""
    result = list(tabs)
    builtin_ids = [tab.id for tab in builtin.all_tabs]
    for index, spec in enumerate(builtin.all_tabs):
        placed = [tab.id for tab in result]
        if spec.id not in placed:
            result.insert(_after_predecessor(placed, builtin_ids[:index]), replace(spec, items=()))
    return result


def _with_unmentioned_fields(tab_id: str, placement: _Placement) -> list[FieldLayout]:
    """Return a tab's items with the built-in fields no entry placed, each after its predecessor."""
    items = placement.items_on(tab_id)
    spec = placement.tab_specs[tab_id]
    builtin_ids = [item.id for item in spec.items]
    for index, item in enumerate(spec.items):
        if item.id not in placement.placed_items:
            items.insert(_after_predecessor([i.id for i in items], builtin_ids[:index]), item)
    return items


def _shown_while_it_holds_required_fields(
    tab: TabLayout, items: Sequence[FieldLayout], problems: list[str] | None
) -> TabLayout:
    """Return the tab with its items, shown again when hiding it would hide a required field."""
    hidden = tab.hidden
    stuck = [item for item in items if item.required and not item.hidden]
    if hidden and stuck:
        _note(problems, "layout.required_field_on_hidden_tab", label=stuck[0].label, tab=tab.label)
        hidden = False
    return replace(tab, items=tuple(items), hidden=hidden)
