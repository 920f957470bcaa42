"""Single-use sign-in and connection states.

A pending sign-in (password accepted, second step not done) gets a server-side row that
the completing statement deletes, so a copied cookie cannot complete a second sign-in.
A sealed connection form that stored a device is recorded as spent, so the same form
submitted again is answered "already connected" instead of replacing the device.

Revision ID: 0006_single_use_states
Revises: 0005_device_index_user_id
Create Date: 2026-11-29 16:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_single_use_states"
down_revision = "0005_device_index_user_id"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_sign_ins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_pending_sign_ins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_sign_ins")),
    )
    with op.batch_alter_table("pending_sign_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_sign_ins_user_id"), ["user_id"], unique=False)

    op.create_table(
        "spent_connections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("spent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_spent_connections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spent_connections")),
    )
    with op.batch_alter_table("spent_connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spent_connections_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_spent_connections_spent_at"), ["spent_at"], unique=False
        )


def downgrade():
    op.drop_table("spent_connections")
    op.drop_table("pending_sign_ins")
