"""Notices on My page and the e-mail outbox: notices, outgoing_mail, notice_settings.

Revision ID: 0011_notices
Revises: 0010_personal_language
Create Date: 2026-11-29 19:00:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0011_notices"
down_revision = "0010_personal_language"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("once_key", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_notices_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.UniqueConstraint("user_id", "once_key", name="uq_notices_user_id_once_key"),
    )
    op.create_index("ix_notices_user_id_id", "notices", ["user_id", "id"])
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name="fk_outgoing_mail_notice_id_notices",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outgoing_mail"),
    )
    op.create_index(
        "ix_outgoing_mail_status_next_attempt_at", "outgoing_mail", ["status", "next_attempt_at"]
    )
    op.create_table(
        "notice_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kinds_not_mailed", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notice_settings"),
    )
    op.execute("INSERT INTO notice_settings (id, kinds_not_mailed) VALUES (1, '')")


def downgrade():
    op.drop_table("notice_settings")
    op.drop_index("ix_outgoing_mail_status_next_attempt_at", table_name="outgoing_mail")
    op.drop_table("outgoing_mail")
    op.drop_index("ix_notices_user_id_id", table_name="notices")
    op.drop_table("notices")
