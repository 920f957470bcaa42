"""The switched-off devices' index also holds user_id, so that it answers alone.

0004 indexed otp_devices (enabled, disabled_until). The overview and the user list
join those few devices to their users' lock records; without user_id in the index each
of them cost a read of the wide device row (4 ms for 2,500 devices on SQLite).

Revision ID: 0005_device_index_user_id
Revises: 0004_list_indexes
Create Date: 2026-11-25 18:40:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0005_device_index_user_id"
down_revision = "0004_list_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("otp_devices", schema=None) as batch_op:
        batch_op.drop_index("ix_otp_devices_enabled_disabled_until")
        batch_op.create_index(
            "ix_otp_devices_enabled_disabled_until_user_id",
            ["enabled", "disabled_until", "user_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("otp_devices", schema=None) as batch_op:
        batch_op.drop_index("ix_otp_devices_enabled_disabled_until_user_id")
        batch_op.create_index(
            "ix_otp_devices_enabled_disabled_until", ["enabled", "disabled_until"], unique=False
        )
