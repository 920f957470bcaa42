"""Layouts of tabbed admin forms: which tabs, in which order, with which fields.

A layout is data; the tabs macro draws whatever layout it is given.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TabLayout:
    id: str
    label: str
    fields: tuple[str, ...] = ()
    # A required tab holds fields a form cannot work without (the login, say).
    required: bool = False


@dataclass(frozen=True)
class FormLayout:
    form_id: str
    title: str
    tabs: tuple[TabLayout, ...]

    def tab(self, tab_id: str) -> TabLayout | None:
        """Return the tab with this id, if the layout shows it."""
        return next((tab for tab in self.tabs if tab.id == tab_id), None)


BUILTIN_LAYOUTS: dict[str, FormLayout] = {
    "user_edit": FormLayout(
        form_id="user_edit",
        title="User profile",
        tabs=(
            TabLayout(
                "main",
                "User",
                ("login", "email", "active", "password", "password_confirm"),
                required=True,
            ),
            TabLayout("groups", "Groups", ("groups",)),
            TabLayout("personal", "Personal data", ("name", "last_name")),
            TabLayout("events", "Security events"),
        ),
    ),
}


def layout_for(form_id: str) -> FormLayout:
    """Return the layout to draw for a form."""
    return BUILTIN_LAYOUTS[form_id]
