"""Each person's language and time zone: users.language, users.timezone.

Empty means "not chosen": the browser's language, then the console's default, and the
console's default time zone.

Revision ID: 0010_personal_language
Revises: 0009_user_search_index
Create Date: 2026-11-29 18:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_personal_language"
down_revision = "0009_user_search_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("timezone")
        batch_op.drop_column("language")
