"""Saved layouts of tabbed admin forms (the gear): one row per form and owner.

Revision ID: 0003_form_layouts
Revises: 0002_two_step
Create Date: 2026-11-25 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_form_layouts'
down_revision = '0002_two_step'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_layouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('layout', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_form_layouts_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_form_layouts_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_layouts')),
    sa.UniqueConstraint('form_id', 'owner_id', name='uq_form_layouts_form_id_owner_id')
    )
    with op.batch_alter_table('form_layouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_layouts_owner_id'), ['owner_id'], unique=False)
        # One common default per form: NULL owners never collide in the constraint above.
        batch_op.create_index(
            'uq_form_layouts_default',
            ['form_id'],
            unique=True,
            sqlite_where=sa.text('owner_id IS NULL'),
            postgresql_where=sa.text('owner_id IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('form_layouts', schema=None) as batch_op:
        batch_op.drop_index('uq_form_layouts_default')
        batch_op.drop_index(batch_op.f('ix_form_layouts_owner_id'))

    op.drop_table('form_layouts')
