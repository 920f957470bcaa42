"""Refusals counted per client and window: events.count.

A client refused again and again (429 from the rate limits, 403 access denied) used to
write one event per request; now one row per event type, client address and minute
counts them. Every existing row happened once.

Revision ID: 0008_event_counts
Revises: 0007_login_skeleton
Create Date: 2026-11-30 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_event_counts"
down_revision = "0007_login_skeleton"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("count", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("count")
