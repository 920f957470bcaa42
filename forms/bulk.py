"""The form of bulk actions on the user list: the action, its days or date, and the selection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from wtforms import DateField, Field, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from forms.base import ConsoleForm
from forms.query import int_value
from forms.validators import MaxLength, NoControlCharacters
from security.bulk_actions import BulkAction, Selection
from security.messages import message
from security.status_read_model import FILTER_VALUES
from web.i18n import lazy_message, shown_choices

# The actions as the select offers them, in this order.
ACTION_CHOICES = {
    "disable": lazy_message("bulk.action.disable"),
    "enable": lazy_message("bulk.action.enable"),
    "unlock": lazy_message("bulk.action.unlock"),
    "defer": lazy_message("bulk.action.defer"),
    "exempt": lazy_message("bulk.action.exempt"),
    "delete_device": lazy_message("bulk.action.delete_device"),
    "remind": lazy_message("bulk.action.remind"),
}


class IdListField(Field):
    """Repeated user ids (`user_ids`); one that is not a whole number spoils the selection."""

    data: list[int]

    def process_formdata(self, valuelist: Sequence[Any]) -> None:
        ids = [int_value(str(value)) for value in valuelist]
        self.data = [number for number in ids if number is not None]
        if len(self.data) != len(ids):
            self.data = []
            raise ValueError(message("bulk.bad_ids"))

    def _value(self) -> str:
        return ""


class BulkActionForm(ConsoleForm):
    """`action`, `days`, `until`; `user_ids` or `all_matching=1` with the list's filters."""

    action = SelectField(
        lazy_message("bulk.action"),
        choices=shown_choices(ACTION_CHOICES),
        validators=[InputRequired(lazy_message("form.required"))],
    )
    days = IntegerField(
        lazy_message("form.field.days"),
        validators=[
            Optional(),
            NumberRange(min=0, max=365, message=lazy_message("form.days_number")),
        ],
    )
    until = DateField(lazy_message("form.field.exempt_until"), validators=[Optional()])
    user_ids = IdListField()
    # The list's search and filters, for "all matching" (as forms.admin.UserFilterForm).
    q = StringField(
        lazy_message("form.field.search"),
        validators=[Optional(), MaxLength(100), NoControlCharacters()],
    )
    otp = SelectField(
        lazy_message("form.field.two_step"), coerce=str, default="", choices=["", *FILTER_VALUES]
    )
    group = SelectField(lazy_message("form.field.group"), coerce=str, default="")

    def bulk_action(self) -> BulkAction:
        """The action of a valid form: an exemption's date is that day's start, in UTC."""
        day = self.until.data
        return BulkAction(
            name=self.action.data or "",
            days=self.days.data,
            until=datetime.combine(day, time.min, tzinfo=UTC) if day else None,
        )

    def selection(self, all_matching: bool) -> Selection:
        """The users chosen in a valid form."""
        return Selection(
            user_ids=tuple(self.user_ids.data or ()),
            all_matching=all_matching,
            query=self.q.data or "",
            otp_status=self.otp.data or "",
            group_id=int_value(self.group.data) if self.group.data else None,
        )

    def hidden_fields(self, *, all_matching: bool) -> list[tuple[str, str]]:
        """The action and the selection as hidden fields, to send again once confirmed."""
        fields = [("action", self.action.data or "")]
        if self.days.data is not None:
            fields.append(("days", str(self.days.data)))
        if self.until.data is not None:
            fields.append(("until", self.until.data.isoformat()))
        # The list's filters always: the list comes back filtered as it was.
        fields += [("q", self.q.data or ""), ("otp", self.otp.data or "")]
        fields.append(("group", self.group.data or ""))
        if all_matching:
            fields.append(("all_matching", "1"))
        else:
            fields += [("user_ids", str(user_id)) for user_id in self.user_ids.data or ()]
        return fields
