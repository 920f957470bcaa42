"""The hardware token inventory: hardware_tokens.

Revision ID: 0013_token_inventory
Revises: 0012_temporary_codes
Create Date: 2026-11-29 21:00:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0013_token_inventory"
down_revision = "0012_temporary_codes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hardware_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=6), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=160), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_hardware_tokens_user_id_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["otp_devices.id"],
            name="fk_hardware_tokens_device_id_otp_devices",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_hardware_tokens"),
        sa.UniqueConstraint("serial", name="uq_hardware_tokens_serial"),
    )
    op.create_index("ix_hardware_tokens_state", "hardware_tokens", ["state"])
    op.create_index("ix_hardware_tokens_user_id", "hardware_tokens", ["user_id"])


def downgrade():
    op.drop_index("ix_hardware_tokens_user_id", table_name="hardware_tokens")
    op.drop_index("ix_hardware_tokens_state", table_name="hardware_tokens")
    op.drop_table("hardware_tokens")
