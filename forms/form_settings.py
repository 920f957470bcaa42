"""The "Customize form appearance" dialog: reading its rows from a POST.

The rows are plain fields, so the dialog works without JavaScript:
`tabs-N-id`, `tabs-N-label`, `tabs-N-visible`, `tabs-N-position` for each tab, and
`tabs-N-fields-M-id`, `…-label`, `…-visible`, `…-position`, `…-tab` for each field or
section heading listed under tab N. Buttons send `action`: `save`, `tab-up-N`,
`tab-down-N`, `field-up-N-M`, `field-down-N-M`, `add-section-N`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from security.form_layouts.entries import FieldEntry, TabEntry
from security.form_layouts.storage import SCOPES, Scope
from security.messages import message

TAB_KEY = re.compile(r"tabs-(\d{1,3})-(id|label|visible|position)")
FIELD_KEY = re.compile(r"tabs-(\d{1,3})-fields-(\d{1,3})-(id|label|visible|position|tab)")
ACTION = re.compile(r"(save|tab-up|tab-down|field-up|field-down|add-section)((?:-\d{1,3}){0,2})")
MAX_TABS = 30
MAX_FIELDS = 200
# Longer than any valid label, so that "too long" is reported rather than cut silently.
MAX_TEXT = 500


@dataclass
class DialogAction:
    """The button that sent the dialog: its name and the row numbers it carries."""

    name: str
    numbers: tuple[int, ...] = ()


@dataclass
class LayoutSubmission:
    entries: list[TabEntry]
    scope: Scope | None
    action: DialogAction
    problems: list[str] = field(default_factory=list)


def _position(value: str) -> int | None:
    value = value.strip()
    if not re.fullmatch(r"-?\d{1,4}", value):
        return None
    return int(value)


def _text(value: str) -> str:
    return value[:MAX_TEXT]


def parse_action(value: str) -> DialogAction | None:
    """Read the `action` button; None when it is not one the dialog has."""
    match = ACTION.fullmatch(value or "save")
    if match is None:
        return None
    numbers = tuple(int(part) for part in match.group(2).split("-") if part)
    expected = {"save": 0, "tab-up": 1, "tab-down": 1, "add-section": 1}.get(match.group(1), 2)
    if len(numbers) != expected:
        return None
    return DialogAction(match.group(1), numbers)


def parse_scope(value: str | None) -> Scope | None:
    """Read `scope`: personal (the default when absent) or default; None for anything else."""
    value = value or "personal"
    return next((scope for scope in SCOPES if scope == value), None)


def parse_layout_form(data: Mapping[str, str]) -> LayoutSubmission:
    """Read the dialog's rows in the order of their numbers; note what cannot be read."""
    problems: list[str] = []
    tabs: dict[int, dict[str, str]] = {}
    rows: dict[tuple[int, int], dict[str, str]] = {}
    for key in data:
        if match := TAB_KEY.fullmatch(key):
            tabs.setdefault(int(match.group(1)), {})[match.group(2)] = data[key]
        elif match := FIELD_KEY.fullmatch(key):
            row_key = (int(match.group(1)), int(match.group(2)))
            rows.setdefault(row_key, {})[match.group(3)] = data[key]
    if len(tabs) > MAX_TABS or len(rows) > MAX_FIELDS:
        problems.append(message("layout.too_many_entries"))
        tabs, rows = {}, {}
    entries: dict[int, TabEntry] = {}
    for number in sorted(tabs):
        values = tabs[number]
        if not values.get("id"):
            problems.append(message("layout.malformed"))
            continue
        entries[number] = TabEntry(
            id=_text(values["id"]),
            label=_text(values.get("label", "")),
            visible=bool(values.get("visible")),
            position=_position(values.get("position", "")),
        )
    for tab_number, row_number in sorted(rows):
        values = rows[(tab_number, row_number)]
        tab = entries.get(tab_number)
        if tab is None or not values.get("id"):
            problems.append(message("layout.malformed"))
            continue
        tab.fields.append(
            FieldEntry(
                id=_text(values["id"]),
                label=_text(values.get("label", "")),
                visible=bool(values.get("visible")),
                position=_position(values.get("position", "")),
                tab=_text(values.get("tab", "")),
            )
        )
    action = parse_action(data.get("action", ""))
    if action is None:
        problems.append(message("layout.malformed"))
        action = DialogAction("save")
    scope = parse_scope(data.get("scope"))
    if scope is None:
        problems.append(message("layout.bad_scope"))
    return LayoutSubmission(
        entries=list(entries.values()),
        scope=scope,
        action=action,
        problems=list(dict.fromkeys(problems)),
    )
