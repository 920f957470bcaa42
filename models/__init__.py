"""SQLAlchemy 2 typed models, one module per aggregate."""

from models.api import ApiClient, AppPassword
from models.base import utcnow
from models.directory import DIRECTORY_SETTINGS_ROW_ID, DirectorySettings
from models.event import Event
from models.form_layout import SavedFormLayout
from models.notice import NOTICE_SETTINGS_ROW_ID, Notice, NoticeSettings, OutgoingMail
from models.otp import (
    SETTINGS_ROW_ID,
    OtpDevice,
    OtpSettings,
    RecoveryCode,
    RememberedComputer,
    SpentConnection,
    TwoStepAccount,
)
from models.session import PendingSignIn, UserSession
from models.temporary_code import TemporaryCode
from models.token_inventory import TOKEN_STATES, HardwareToken
from models.user import (
    ADMINISTRATORS_GROUP_ID,
    EMPLOYEES_GROUP_ID,
    SOURCE_DIRECTORY,
    SOURCE_LOCAL,
    Group,
    User,
    user_groups,
)

__all__ = [
    "ApiClient",
    "AppPassword",
    "ADMINISTRATORS_GROUP_ID",
    "DIRECTORY_SETTINGS_ROW_ID",
    "DirectorySettings",
    "EMPLOYEES_GROUP_ID",
    "Event",
    "NOTICE_SETTINGS_ROW_ID",
    "Notice",
    "NoticeSettings",
    "OutgoingMail",
    "OtpDevice",
    "OtpSettings",
    "PendingSignIn",
    "RecoveryCode",
    "RememberedComputer",
    "SavedFormLayout",
    "SETTINGS_ROW_ID",
    "SOURCE_DIRECTORY",
    "SOURCE_LOCAL",
    "SpentConnection",
    "TemporaryCode",
    "TOKEN_STATES",
    "HardwareToken",
    "TwoStepAccount",
    "Group",
    "User",
    "UserSession",
    "user_groups",
    "utcnow",
]
