"""projects: indexed candidate lookup keys (name trigrams, company bigrams)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def project_keys(name_key: str, company: str | None) -> set[str]:
    """As crawler.store.projectkeys.project_keys when this migration was written."""
    key, low = name_key.lower(), (company or "").lower()
    return {f"n{key[i : i + 3]}" for i in range(len(key) - 2)} | {f"c{low[i : i + 2]}" for i in range(len(low) - 1)}


def upgrade() -> None:
    table = op.create_table(
        "project_keys",
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("project_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_keys_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", "project_id", name=op.f("pk_project_keys")),
    )
    with op.batch_alter_table("project_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_keys_project_id"), ["project_id"], unique=False)
    projects = sa.table("projects", sa.column("id", sa.Integer), sa.column("name_key"), sa.column("company"))
    stored = op.get_bind().execute(sa.select(projects.c.id, projects.c.name_key, projects.c.company))
    rows = [
        {"key": key, "project_id": project_id}
        for project_id, name_key, company in stored
        for key in sorted(project_keys(name_key, company))
    ]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    with op.batch_alter_table("project_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_keys_project_id"))
    op.drop_table("project_keys")
