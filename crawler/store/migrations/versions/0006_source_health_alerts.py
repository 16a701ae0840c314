"""source-health alerts: outbox rows without a project, alerted health per source, links a column had

Revision ID: 0006
Revises: 0005

``alerts`` gains ``kind`` ("project" for every row so far), ``source_name`` and ``payload``, and its
project_id / article_id become nullable (SQLite rebuilds the table, with foreign keys off:
``crawler.store.db.upgrade`` checks them before the commit).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="project", nullable=False))
        batch_op.add_column(sa.Column("source_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("article_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_alerts_source_name"), ["source_name"], unique=False)
    with op.batch_alter_table("list_pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("links_seen", sa.Integer(), nullable=True))
    op.create_table(
        "health_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("healthy", sa.Boolean(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_states")),
        sa.UniqueConstraint("source_name", name=op.f("uq_health_states_source_name")),
    )


def downgrade() -> None:
    op.drop_table("health_states")
    with op.batch_alter_table("list_pages", schema=None) as batch_op:
        batch_op.drop_column("links_seen")
    op.execute("DELETE FROM alert_attempts WHERE alert_id IN (SELECT id FROM alerts WHERE kind <> 'project')")
    op.execute("DELETE FROM alerts WHERE kind <> 'project'")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_source_name"))
        batch_op.alter_column("article_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("payload")
        batch_op.drop_column("source_name")
        batch_op.drop_column("kind")
