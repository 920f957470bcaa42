"""The administration overview page."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from blueprints.admin import bp
from extensions import db
from models import ADMINISTRATORS_GROUP_ID, User, user_groups


@bp.route("/")
def overview() -> str:
    total, active = db.session.execute(
        select(func.count(User.id), func.count(User.id).filter(User.active.is_(True)))
    ).one()
    administrators = db.session.scalar(
        select(func.count())
        .select_from(user_groups)
        .where(user_groups.c.group_id == ADMINISTRATORS_GROUP_ID)
    )
    return render_template(
        "admin/overview.html",
        counts={
            "total": total,
            "active": active,
            "blocked": total - active,
            "administrators": administrators,
        },
    )
