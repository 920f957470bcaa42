"""Settings → Notifications: which kinds of notice are also sent by e-mail."""

from __future__ import annotations

from forms.admin import MultiCheckboxField
from forms.base import ConsoleForm
from web.i18n import lazy_message


class NotificationSettingsForm(ConsoleForm):
    """The kinds are offered by the view (their names in the reader's language)."""

    kinds = MultiCheckboxField(lazy_message("notify.kinds"), coerce=str, validate_choice=False)
