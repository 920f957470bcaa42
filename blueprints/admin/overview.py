"""The administration overview: the two-step roll-out at a glance."""

from __future__ import annotations

from flask import render_template

from blueprints.admin import bp
from models import ADMINISTRATORS_GROUP_ID, utcnow
from security import status_read_model
from security.otp_settings import load_settings


@bp.route("/")
def overview() -> str:
    settings = load_settings()
    otp_counts = status_read_model.status_counts(settings, utcnow())
    total = otp_counts["total"]
    blocked, administrators = status_read_model.blocked_and_administrators()
    return render_template(
        "admin/overview.html",
        counts={
            "total": total,
            "active": total - blocked,
            "blocked": blocked,
            "administrators": administrators,
        },
        settings=settings,
        mandatory_groups=status_read_model.groups_with_ids(settings.mandatory_group_ids),
        otp_counts=otp_counts,
        administrators_group_id=ADMINISTRATORS_GROUP_ID,
    )
