"""On SQLite, an FTS5 trigram index for the user search, kept by triggers.

The user list finds a text anywhere in login_key, email, name and last_name
(`LIKE '%text%'`). SQLite has no index for that: at 100,000 users every search read every
user. An FTS5 table with the `trigram` tokenizer (SQLite 3.34+) answers a substring of
three characters or more from its index, whatever the case.

* `users_search` is an external-content FTS5 table: it stores the index only and reads
  the text from `users` (rowid = users.id);
* three triggers keep it in step with `users`: after an insert, after a delete, and
  after an update of one of the four columns (the sign-in's update of last_sign_in_at
  does not touch the index);
* the upgrade fills it for the users already there ('rebuild').

Neither the table nor the triggers are models: the migration comparison and autogenerate
leave them out (models.user.USER_SEARCH_TABLES). A later migration that rebuilds `users`
with `batch_alter_table` on SQLite drops the triggers with the old table: it must create
them again (see `create_triggers` below), or the index stops following the users.

On PostgreSQL this migration does nothing: the pg_trgm GIN indexes of migration 0004
answer `ILIKE '%text%'` on the same four columns.

Revision ID: 0009_user_search_index
Revises: 0008_event_counts
Create Date: 2026-12-03 12:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_user_search_index"
down_revision = "0008_event_counts"
branch_labels = None
depends_on = None

# An external-content table forgets a row only when told its old values ('delete').
# The update trigger fires on these columns only: a sign-in's UPDATE of last_sign_in_at
# leaves the index alone.
TRIGGERS = {
    "users_search_insert": """
        CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
            INSERT INTO users_search (rowid, login_key, email, name, last_name)
            VALUES (new.id, new.login_key, new.email, new.name, new.last_name);
        END""",
    "users_search_delete": """
        CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
            INSERT INTO users_search (users_search, rowid, login_key, email, name, last_name)
            VALUES ('delete', old.id, old.login_key, old.email, old.name, old.last_name);
        END""",
    "users_search_update": """
        CREATE TRIGGER users_search_update
        AFTER UPDATE OF id, login_key, email, name, last_name ON users BEGIN
            INSERT INTO users_search (users_search, rowid, login_key, email, name, last_name)
            VALUES ('delete', old.id, old.login_key, old.email, old.name, old.last_name);
            INSERT INTO users_search (rowid, login_key, email, name, last_name)
            VALUES (new.id, new.login_key, new.email, new.name, new.last_name);
        END""",
}


def create_triggers():
    for statement in TRIGGERS.values():
        op.execute(statement)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    version = bind.exec_driver_sql("SELECT sqlite_version()").scalar()
    if tuple(int(part) for part in version.split(".")[:2]) < (3, 34):
        raise RuntimeError(
            f"The user search needs SQLite 3.34 or later (trigram); this is {version}."
        )
    op.execute(
        "CREATE VIRTUAL TABLE users_search USING fts5(login_key, email, name, last_name, "
        "content='users', content_rowid='id', tokenize='trigram')"
    )
    create_triggers()
    op.execute("INSERT INTO users_search (users_search) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS users_search")
