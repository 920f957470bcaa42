"""The helpdesk's temporary codes for a lost device: temporary_codes.

Revision ID: 0012_temporary_codes
Revises: 0011_notices
Create Date: 2026-11-29 19:10:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0012_temporary_codes"
down_revision = "0011_notices"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "temporary_codes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=160), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_temporary_codes_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_temporary_codes"),
    )


def downgrade():
    op.drop_table("temporary_codes")
