"""What a form layout is: a form's tabs in order, each with its fields and section headings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

Source = Literal["builtin", "default", "personal"]


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
