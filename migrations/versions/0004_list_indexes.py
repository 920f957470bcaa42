"""Indexes for the overview counts, the two-step filter and the user search at 100,000 users.

* users.active: the few blocked users are counted from it;
* otp_devices (enabled, disabled_until): the few switched-off devices;
* two_step_accounts locked_until, grace_deadline, exempt_until: locked, overdue and
  exempt users, found without reading every account;
* on PostgreSQL, pg_trgm GIN indexes on users login_key, email, name and last_name, so
  that the list's substring search (LIKE / ILIKE '%text%') does not read every user.
  `CREATE EXTENSION pg_trgm` needs a role allowed to create it (PostgreSQL 13+: the
  database owner, as pg_trgm is a trusted extension). Without it the migration carries
  on without the trigram indexes and says so; searching still works, by reading every
  row. Once the extension exists (`CREATE EXTENSION pg_trgm;` as a superuser), run
  `flask --app app db downgrade 0003_form_layouts && flask --app app db upgrade`.
  On SQLite these four are declared empty (WHERE 0), to match the models.

Revision ID: 0004_list_indexes
Revises: 0003_form_layouts
Create Date: 2026-12-02 18:00:00.000000

"""

import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004_list_indexes"
down_revision = "0003_form_layouts"
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = ("login_key", "email", "name", "last_name")


def _trigram_schema(bind):
    """Create pg_trgm if allowed; return the schema it lives in, or None without it."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        warnings.warn(
            "pg_trgm cannot be created here "
            f"({str(error.orig).strip().splitlines()[0]}); the user search will read every "
            "row. Create the extension as a superuser and rerun this migration.",
            stacklevel=1,
        )
        return None
    return bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    ).scalar()


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_active"), ["active"], unique=False)
    with op.batch_alter_table("otp_devices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_otp_devices_enabled_disabled_until", ["enabled", "disabled_until"], unique=False
        )
    with op.batch_alter_table("two_step_accounts", schema=None) as batch_op:
        for column in ("locked_until", "grace_deadline", "exempt_until"):
            batch_op.create_index(
                batch_op.f(f"ix_two_step_accounts_{column}"), [column], unique=False
            )

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = _trigram_schema(bind)
        if schema is not None:
            # The operator class is named with its schema: the extension may live in
            # another schema than the one on this connection's search_path.
            opclass = f'"{schema}".gin_trgm_ops'
            for column in TRIGRAM_COLUMNS:
                op.execute(
                    f"CREATE INDEX ix_users_{column}_trgm ON users USING gin ({column} {opclass})"
                )
    else:
        for column in TRIGRAM_COLUMNS:
            op.create_index(f"ix_users_{column}_trgm", "users", [column], sqlite_where=sa.text("0"))


def downgrade():
    for column in TRIGRAM_COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_users_{column}_trgm")
    with op.batch_alter_table("two_step_accounts", schema=None) as batch_op:
        for column in ("exempt_until", "grace_deadline", "locked_until"):
            batch_op.drop_index(batch_op.f(f"ix_two_step_accounts_{column}"))
    with op.batch_alter_table("otp_devices", schema=None) as batch_op:
        batch_op.drop_index("ix_otp_devices_enabled_disabled_until")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_active"))
