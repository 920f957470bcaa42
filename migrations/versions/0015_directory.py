"""The company directory: directory_settings, and where each user comes from.

Revision ID: 0015_directory
Revises: 0014_app_passwords
Create Date: 2026-11-29 21:00:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0015_directory"
down_revision = "0014_app_passwords"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: a batch rebuild of users on SQLite would drop the search index's
    # triggers (migration 0009).
    op.add_column(
        "users", sa.Column("source", sa.String(length=16), server_default="local", nullable=False)
    )
    op.add_column("users", sa.Column("directory_dn", sa.String(length=1024), nullable=True))
    op.add_column("users", sa.Column("directory_id", sa.String(length=64), nullable=True))
    op.add_column(
        "users",
        sa.Column("directory_blocked", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # A unique index, not a constraint: SQLite would rebuild the table for a constraint.
    op.create_index("ix_users_directory_id", "users", ["directory_id"], unique=True)
    op.create_table(
        "directory_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("urls", sa.Text(), nullable=False),
        sa.Column("start_tls", sa.Boolean(), nullable=False),
        sa.Column("ca_file", sa.String(length=1024), nullable=False),
        sa.Column("bind_dn", sa.String(length=1024), nullable=False),
        sa.Column("bind_password_encrypted", sa.Text(), nullable=False),
        sa.Column("user_base", sa.String(length=1024), nullable=False),
        sa.Column("user_filter", sa.Text(), nullable=False),
        sa.Column("login_attribute", sa.String(length=64), nullable=False),
        sa.Column("email_attribute", sa.String(length=64), nullable=False),
        sa.Column("first_name_attribute", sa.String(length=64), nullable=False),
        sa.Column("last_name_attribute", sa.String(length=64), nullable=False),
        sa.Column("group_base", sa.String(length=1024), nullable=False),
        sa.Column("group_map", sa.Text(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_directory_settings"),
    )


def downgrade():
    op.drop_table("directory_settings")
    op.drop_index("ix_users_directory_id", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("directory_blocked")
        batch.drop_column("directory_id")
        batch.drop_column("directory_dn")
        batch.drop_column("source")
