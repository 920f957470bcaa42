"""Layouts of tabbed admin forms: which tabs, in which order, under which labels, with which fields.

A layout is data; the tabs macro draws whatever layout it is given. Three layers
resolve into what a person sees: their personal settings (unless they switched them
off), the common default, the built-in layout. A saved layout records what it hides
and the order it chose; a tab or field it does not mention (one the console added
later, say) appears at its built-in place, so nothing vanishes unless hidden on
purpose. A stored layout is validated each time it is read: what no longer makes
sense is dropped, never allowed to break a page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import or_, select

from extensions import db
from models import SavedFormLayout, User
from security import events
from security.messages import message
from security.untrusted_text import has_control_characters

LABEL_MAX: Final = 60
# Bounds on what a dialog may send, so that a forged request cannot grow a layout.
MAX_SECTIONS: Final = 30
SECTION_ID: Final = re.compile(r"section-[1-9][0-9]{0,3}")
FORMAT_VERSION: Final = 1

Source = Literal["builtin", "default", "personal"]
Scope = Literal["personal", "default"]
SCOPES: Final[tuple[Scope, ...]] = ("personal", "default")


# --------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class FieldLayout:
    """A form field on a tab, or a section heading between fields."""

    id: str
    label: str
    hidden: bool = False
    required: bool = False
    section: bool = False


@dataclass(frozen=True)
class TabLayout:
    id: str
    label: str
    # Every entry in order, the hidden ones too; `fields` and `shown_items` are what shows.
    items: tuple[FieldLayout, ...] = ()
    # A required tab holds fields a form cannot work without (the login, say).
    required: bool = False
    hidden: bool = False
    # Tabs with content of their own (the two-step tab, the event log) take no fields.
    holds_fields: bool = True

    @property
    def fields(self) -> tuple[str, ...]:
        """Return the ids of the form fields this tab shows, in order."""
        return tuple(item.id for item in self.items if not item.hidden and not item.section)

    @property
    def shown_items(self) -> tuple[FieldLayout, ...]:
        """Return the fields and section headings this tab shows, in order."""
        return tuple(item for item in self.items if not item.hidden)


@dataclass(frozen=True)
class FormLayout:
    form_id: str
    title: str
    # Every tab in order, the hidden ones too; `tabs` is what the tab strip shows.
    all_tabs: tuple[TabLayout, ...]
    # Where this layout came from, and what the gear menu offers.
    source: Source = "builtin"
    has_personal: bool = False
    personal_enabled: bool = True
    has_default: bool = False

    @property
    def tabs(self) -> tuple[TabLayout, ...]:
        """Return the tabs to show, in order."""
        return tuple(tab for tab in self.all_tabs if not tab.hidden)

    def tab(self, tab_id: str) -> TabLayout | None:
        """Return the tab with this id, if the layout shows it."""
        return next((tab for tab in self.tabs if tab.id == tab_id), None)

    def any_tab(self, tab_id: str) -> TabLayout | None:
        """Return the tab with this id, shown or hidden."""
        return next((tab for tab in self.all_tabs if tab.id == tab_id), None)

    @property
    def hidden_tabs(self) -> tuple[str, ...]:
        """Return the ids of the tabs this layout hides."""
        return tuple(tab.id for tab in self.all_tabs if tab.hidden)

    @property
    def shown_fields(self) -> tuple[str, ...]:
        """Return the ids of the form fields shown on some tab."""
        return tuple(name for tab in self.tabs for name in tab.fields)

    @property
    def hidden_fields(self) -> tuple[str, ...]:
        """Return the ids of the form fields not shown: hidden, or on a hidden tab."""
        shown = set(self.shown_fields)
        return tuple(
            item.id
            for tab in self.all_tabs
            for item in tab.items
            if not item.section and item.id not in shown
        )

    def field_label(self, field_id: str) -> str:
        """Return the label this layout gives a field ("" when it has no such field)."""
        for tab in self.all_tabs:
            for item in tab.items:
                if item.id == field_id and not item.section:
                    return item.label
        return ""

    @property
    def customized(self) -> bool:
        """Tell whether saved settings (personal or default) shape this layout."""
        return self.source != "builtin"

    def revealing(self, field_ids: Iterable[str]) -> FormLayout:
        """Return this layout with these fields shown; those on a hidden tab go to the first tab."""
        wanted = set(field_ids) & set(self.hidden_fields)
        if not wanted or not self.tabs:
            return self
        first = next((tab.id for tab in self.tabs if tab.holds_fields), self.tabs[0].id)
        rescued: list[FieldLayout] = []
        tabs: list[TabLayout] = []
        for tab in self.all_tabs:
            items: list[FieldLayout] = []
            for item in tab.items:
                if item.id in wanted:
                    item = replace(item, hidden=False)
                    if tab.hidden:
                        rescued.append(item)
                        continue
                items.append(item)
            tabs.append(replace(tab, items=tuple(items)))
        tabs = [
            replace(tab, items=tab.items + tuple(rescued)) if tab.id == first else tab
            for tab in tabs
        ]
        return replace(self, all_tabs=tuple(tabs))


def _field(field_id: str, label: str, *, required: bool = False) -> FieldLayout:
    return FieldLayout(field_id, label, required=required)


BUILTIN_LAYOUTS: Final[dict[str, FormLayout]] = {
    "user_edit": FormLayout(
        form_id="user_edit",
        title="User profile",
        all_tabs=(
            TabLayout(
                "main",
                "User",
                (
                    _field("login", "Login", required=True),
                    _field("email", "E-mail"),
                    _field("active", "Active (may sign in)"),
                    _field("password", "New password"),
                    _field("password_confirm", "Repeat the password"),
                ),
                required=True,
            ),
            TabLayout("groups", "Groups", (_field("groups", "Groups"),)),
            TabLayout(
                "personal",
                "Personal data",
                (_field("name", "First name"), _field("last_name", "Last name")),
            ),
            TabLayout("otp", "Two-step authentication", holds_fields=False),
            TabLayout("events", "Security events", holds_fields=False),
        ),
    ),
    "otp_settings": FormLayout(
        form_id="otp_settings",
        title="Two-step authentication settings",
        all_tabs=(
            # The global on/off switch lives here: the page cannot work without it.
            TabLayout("state", "Two-step authentication", required=True, holds_fields=False),
            TabLayout(
                "parameters",
                "Parameters",
                (
                    _field("default_type", "Default password generation algorithm"),
                    _field("totp_window", "TOTP tolerance (time steps either side)"),
                    _field("hotp_window", "Password check window size"),
                    _field("allow_remember", "Allow persistent OTPs"),
                    _field("remember_days", "Days a computer is remembered"),
                    _field("allow_recovery_codes", "Allow recovery codes"),
                    _field("mandatory", "Always require two-step authentication"),
                    _field("mandatory_days", "Days left to connect"),
                    _field(
                        "mandatory_groups",
                        "Users who always have to use two-step authentication",
                    ),
                    _field("max_attempts", "Failed codes before the second step locks"),
                    _field("lockout_minutes", "Lock duration in minutes"),
                    _field("log_requests", "Log requests for OTP password"),
                    _field("issuer", "Issuer name shown in authenticator apps"),
                ),
            ),
        ),
    ),
}


def is_known_form(form_id: str) -> bool:
    """Tell whether a form with this id has a layout."""
    return form_id in BUILTIN_LAYOUTS


def layout_for(form_id: str) -> FormLayout:
    """Return the built-in layout of a form."""
    return BUILTIN_LAYOUTS[form_id]


# --------------------------------------------------------------------------- entries


@dataclass
class FieldEntry:
    """One row of a tab's fields as the dialog sends it (or a stored layout holds it)."""

    id: str
    label: str = ""
    visible: bool = True
    position: int | None = None
    # The tab it goes to; empty for the tab it is listed under.
    tab: str = ""
    # Filled in for drawing the dialog; never read from a request.
    required: bool = False
    section: bool = False


@dataclass
class TabEntry:
    """One tab as the dialog sends it (or a stored layout holds it)."""

    id: str
    label: str = ""
    visible: bool = True
    position: int | None = None
    fields: list[FieldEntry] = field(default_factory=list)
    # Filled in for drawing the dialog; never read from a request.
    required: bool = False
    holds_fields: bool = True
    builtin_label: str = ""


class LayoutError(ValueError):
    """A layout that cannot be saved; `problems` says why, in the catalog's words."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


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
        if problems is not None:
            problems.append(message(key, name=what, max=LABEL_MAX))
        return None
    return cleaned


def _assemble(
    builtin: FormLayout, entries: Sequence[TabEntry], problems: list[str] | None
) -> FormLayout:
    """Build a layout from entries in their order, the built-in one filling every gap.

    With `problems` given, each refusal is noted there (the caller refuses the whole
    layout); without it, what is wrong is dropped or repaired quietly, as on load.
    """

    def refuse(key: str, **values: object) -> None:
        if problems is not None:
            problems.append(message(key, **values))

    tab_specs = {tab.id: tab for tab in builtin.all_tabs}
    field_specs = {item.id: (tab.id, item) for tab in builtin.all_tabs for item in tab.items}
    chosen: list[TabLayout] = []
    items_of: dict[str, list[FieldLayout]] = {tab.id: [] for tab in builtin.all_tabs}
    moved_to: dict[str, list[FieldLayout]] = {tab.id: [] for tab in builtin.all_tabs}
    seen_tabs: set[str] = set()
    seen_items: set[str] = set()
    sections = 0

    for entry in entries:
        spec = tab_specs.get(entry.id)
        if spec is None:
            refuse("layout.unknown_tab", id=entry.id)
            continue
        if entry.id in seen_tabs:
            refuse("layout.duplicate_id", id=entry.id)
            continue
        seen_tabs.add(entry.id)
        label = spec.label
        if entry.label or problems is not None:
            label = _check_label(entry.label, problems, spec.label) or spec.label
        hidden = not entry.visible
        if hidden and spec.required:
            refuse("layout.required_tab", label=spec.label)
            hidden = False
        chosen.append(replace(spec, label=label, hidden=hidden, items=()))

        for row in entry.fields:
            target = row.tab or entry.id
            if row.id in seen_items:
                refuse("layout.duplicate_id", id=row.id)
                continue
            target_spec = tab_specs.get(target)
            if target_spec is None:
                refuse("layout.unknown_tab", id=target)
                continue
            if SECTION_ID.fullmatch(row.id):
                if not row.visible:
                    continue  # a hidden section heading is a deleted one
                section_label = _check_label(row.label, problems, row.id)
                if section_label is None:
                    continue
                sections += 1
                if sections > MAX_SECTIONS:
                    refuse("layout.too_many_sections", max=MAX_SECTIONS)
                    continue
                item = FieldLayout(row.id, section_label, section=True)
            elif row.id in field_specs:
                item_spec = field_specs[row.id][1]
                item_label = item_spec.label
                if row.label or problems is not None:
                    item_label = _check_label(row.label, problems, item_spec.label) or item_label
                item_hidden = not row.visible
                if item_hidden and item_spec.required:
                    refuse("layout.required_field", label=item_spec.label)
                    item_hidden = False
                item = replace(item_spec, label=item_label, hidden=item_hidden)
            else:
                refuse("layout.unknown_field", id=row.id)
                continue
            if not target_spec.holds_fields:
                refuse("layout.tab_takes_no_fields", label=target_spec.label)
                continue
            seen_items.add(row.id)
            (items_of if target == entry.id else moved_to)[target].append(item)

    # Tabs the entries do not mention appear after their built-in predecessor.
    builtin_order = [tab.id for tab in builtin.all_tabs]
    for index, tab_id in enumerate(builtin_order):
        if tab_id in seen_tabs:
            continue
        position = 0
        for earlier in reversed(builtin_order[:index]):
            at = next((i for i, tab in enumerate(chosen) if tab.id == earlier), None)
            if at is not None:
                position = at + 1
                break
        chosen.insert(position, replace(tab_specs[tab_id], items=()))
        seen_tabs.add(tab_id)

    # Fields likewise: on their built-in tab, after their built-in predecessor.
    for tab_id, spec in tab_specs.items():
        placed = items_of[tab_id]
        placed.extend(moved_to[tab_id])
        builtin_fields = [item.id for item in spec.items]
        for index, item in enumerate(spec.items):
            if item.id in seen_items:
                continue
            position = 0
            for earlier in reversed(builtin_fields[:index]):
                at = next((i for i, other in enumerate(placed) if other.id == earlier), None)
                if at is not None:
                    position = at + 1
                    break
            placed.insert(position, item)
            seen_items.add(item.id)

    tabs: list[TabLayout] = []
    for tab in chosen:
        items = tuple(items_of[tab.id])
        hidden = tab.hidden
        stuck = [item for item in items if item.required and not item.hidden]
        if hidden and stuck:
            refuse("layout.required_field_on_hidden_tab", label=stuck[0].label, tab=tab.label)
            hidden = False
        tabs.append(replace(tab, items=items, hidden=hidden))
    return replace(builtin, all_tabs=tuple(tabs))


def layout_from_entries(form_id: str, entries: Sequence[TabEntry]) -> FormLayout:
    """Build the layout a dialog sent; raise LayoutError listing every problem.

    Entries are ordered by their positions; a field moved to another tab goes to its end.
    """
    builtin = BUILTIN_LAYOUTS[form_id]
    problems: list[str] = []
    _check_positions([tab.position for tab in entries], problems)
    for tab in entries:
        _check_positions([row.position for row in tab.fields], problems)
    if problems:
        raise LayoutError(problems)
    ordered = [
        replace(tab, fields=sorted(tab.fields, key=_position_key))
        for tab in sorted(entries, key=_position_key)
    ]
    layout = _assemble(builtin, ordered, problems)
    if problems:
        raise LayoutError(list(dict.fromkeys(problems)))
    return layout


def _check_positions(positions: Sequence[int | None], problems: list[str]) -> None:
    if any(position is None for position in positions):
        problems.append(message("layout.bad_position"))
        return
    repeated = sorted({p for p in positions if p is not None and positions.count(p) > 1})
    if repeated:
        problems.append(message("layout.duplicate_position", position=repeated[0]))


def _position_key(entry: TabEntry | FieldEntry) -> int:
    return entry.position if entry.position is not None else 1_000_000


def entries_from_layout(layout: FormLayout) -> list[TabEntry]:
    """Return the dialog's rows for a layout, numbered from 1."""
    builtin = BUILTIN_LAYOUTS[layout.form_id]
    return arrange(
        builtin.form_id,
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
    builtin = BUILTIN_LAYOUTS[form_id]
    tab_specs = {tab.id: tab for tab in builtin.all_tabs}
    field_specs = {item.id: item for tab in builtin.all_tabs for item in tab.items}
    tabs: list[TabEntry] = []
    seen: set[str] = set()
    for tab in sorted(entries, key=_position_key):
        spec = tab_specs.get(tab.id)
        if spec is None or tab.id in seen:
            continue
        seen.add(tab.id)
        tabs.append(
            TabEntry(
                tab.id,
                tab.label,
                tab.visible or spec.required,
                fields=sorted(tab.fields, key=_position_key),
                required=spec.required,
                holds_fields=spec.holds_fields,
                builtin_label=spec.label,
            )
        )
    for spec in builtin.all_tabs:
        if spec.id not in seen:
            tabs.append(
                TabEntry(
                    spec.id,
                    spec.label,
                    True,
                    required=spec.required,
                    holds_fields=spec.holds_fields,
                    builtin_label=spec.label,
                )
            )
    by_id = {tab.id: tab for tab in tabs}
    kept: dict[str, list[FieldEntry]] = {tab.id: [] for tab in tabs}
    moved: dict[str, list[FieldEntry]] = {tab.id: [] for tab in tabs}
    seen_fields: set[str] = set()
    for tab in tabs:
        for row in tab.fields:
            is_section = bool(SECTION_ID.fullmatch(row.id))
            if row.id in seen_fields or not (is_section or row.id in field_specs):
                continue
            target = row.tab if row.tab in by_id and by_id[row.tab].holds_fields else tab.id
            if not by_id[target].holds_fields:
                continue
            seen_fields.add(row.id)
            required = field_specs[row.id].required if row.id in field_specs else False
            entry = FieldEntry(
                row.id,
                row.label,
                row.visible or required,
                tab=target,
                required=required,
                section=is_section,
            )
            (kept if target == tab.id else moved)[target].append(entry)
    for tab in tabs:
        tab.fields = kept[tab.id] + moved[tab.id]
        for number, row in enumerate(tab.fields, start=1):
            row.position = number
    for number, tab in enumerate(tabs, start=1):
        tab.position = number
    return tabs


def move_tab(entries: list[TabEntry], index: int, step: int) -> None:
    """Move the tab at `index` one place up (step -1) or down (+1), if it can go there."""
    other = index + step
    if 0 <= index < len(entries) and 0 <= other < len(entries):
        entries[index], entries[other] = entries[other], entries[index]
    _renumber(entries)


def move_field(entries: list[TabEntry], tab_index: int, index: int, step: int) -> None:
    """Move a field within its tab one place up or down, if it can go there."""
    if 0 <= tab_index < len(entries):
        rows = entries[tab_index].fields
        other = index + step
        if 0 <= index < len(rows) and 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    _renumber(entries)


def add_section(entries: list[TabEntry], tab_index: int, label: str = "New section") -> bool:
    """Add a section heading at the end of a tab; False when it takes no fields or is full."""
    if not 0 <= tab_index < len(entries) or not entries[tab_index].holds_fields:
        return False
    numbers = [
        int(row.id.split("-")[1])
        for tab in entries
        for row in tab.fields
        if SECTION_ID.fullmatch(row.id)
    ]
    if len(numbers) >= MAX_SECTIONS:
        return False
    new_id = f"section-{max(numbers, default=0) + 1}"
    entries[tab_index].fields.append(
        FieldEntry(new_id, label, tab=entries[tab_index].id, section=True)
    )
    _renumber(entries)
    return True


def _renumber(entries: list[TabEntry]) -> None:
    for number, tab in enumerate(entries, start=1):
        tab.position = number
        for field_number, row in enumerate(tab.fields, start=1):
            row.position = field_number


# --------------------------------------------------------------------------- storage


def layout_document(layout: FormLayout) -> str:
    """Return the JSON text that stores a layout: every tab and field, and what it hides.

    Labels are kept only where they differ from the built-in ones, so that a label
    the console improves later reaches everyone who did not rename it.
    """
    builtin = BUILTIN_LAYOUTS[layout.form_id]
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
    return _assemble(BUILTIN_LAYOUTS[form_id], entries, None)


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
    builtin = BUILTIN_LAYOUTS[form_id]
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
    builtin = BUILTIN_LAYOUTS[form_id]
    personal, default = _rows(form_id, user_id)
    rows = [personal, default] if scope == "personal" else [default]
    for row in rows:
        if row is not None:
            layout = layout_from_document(form_id, row.layout)
            if layout is not None:
                return layout
    return builtin


def save_layout(layout: FormLayout, *, scope: Scope, actor: User, now: datetime, ip: str) -> None:
    """Store a layout for the actor, or as everyone's default; the caller commits."""
    if scope == "default" and not actor.is_admin:
        raise LayoutError([message("layout.default_admins_only")])
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
    if scope == "default" and not actor.is_admin:
        raise LayoutError([message("layout.default_admins_only")])
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
