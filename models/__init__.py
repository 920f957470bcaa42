"""SQLAlchemy 2 typed models, one module per aggregate."""

from models.base import utcnow
from models.event import Event
from models.session import UserSession
from models.user import (
    ADMINISTRATORS_GROUP_ID,
    EMPLOYEES_GROUP_ID,
    Group,
    User,
    user_groups,
)

__all__ = [
    "ADMINISTRATORS_GROUP_ID",
    "EMPLOYEES_GROUP_ID",
    "Event",
    "Group",
    "User",
    "UserSession",
    "user_groups",
    "utcnow",
]
