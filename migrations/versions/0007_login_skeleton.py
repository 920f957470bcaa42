"""Look-alike logins: users.login_skeleton, and login_key normalised with NFKC.

A new login is refused when it looks like an existing one (Cyrillic `аdmin` beside
`admin`). Comparing every login on each creation would be slow, so each user's
skeleton (what the login looks like, Unicode TR39) is stored in a unique column.
login_key becomes NFKC then case-folded, so that full-width `ａｄｍｉｎ` is `admin`.

The data step uses the application's own functions (security.accounts), so that the
stored values are exactly those the console computes when it checks a new login.

Revision ID: 0007_login_skeleton
Revises: 0006_single_use_states
Create Date: 2026-11-30 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_login_skeleton"
down_revision = "0006_single_use_states"
branch_labels = None
depends_on = None

SKELETON_LENGTH = 200  # models.user: LOGIN_MAX * 4

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("login", sa.String),
    sa.column("login_key", sa.String),
    sa.column("login_skeleton", sa.String),
)


def _fill_keys_and_skeletons(connection):
    from security.accounts import login_key, login_skeleton

    rows = connection.execute(
        sa.select(users.c.id, users.c.login, users.c.login_key).order_by(users.c.id)
    ).all()
    keys = {row.login_key for row in rows}
    skeletons = set()
    for row in rows:
        values = {}
        key = login_key(row.login)
        # Two logins that differ only in width (`ｊｏ` and `jo`) cannot share a key: the
        # later one keeps its old key, and cannot sign in until an administrator renames
        # it; failing the upgrade instead would stop the console.
        if key != row.login_key and key not in keys:
            keys.discard(row.login_key)
            keys.add(key)
            values["login_key"] = key
        skeleton = login_skeleton(row.login)
        # Two existing logins that look alike: the older user keeps the skeleton, the later
        # one is left NULL rather than failing the upgrade. Their login stays usable, and
        # any new login resembling it is still refused through the older one's skeleton.
        if skeleton not in skeletons:
            skeletons.add(skeleton)
            values["login_skeleton"] = skeleton
        if values:
            connection.execute(users.update().where(users.c.id == row.id).values(**values))


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("login_skeleton", sa.String(length=SKELETON_LENGTH), nullable=True)
        )
    _fill_keys_and_skeletons(op.get_bind())
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_users_login_skeleton"), ["login_skeleton"])


def downgrade():
    # login_key keeps its NFKC form: it was the case-folded login before, and still is.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_login_skeleton"), type_="unique")
        batch_op.drop_column("login_skeleton")
