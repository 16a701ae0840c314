"""list pages: conditional-GET validators and health streaks per column URL

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "list_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("etag", sa.String(length=400), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=True),
        sa.Column("links_last", sa.Integer(), nullable=False),
        sa.Column("empty_streak", sa.Integer(), nullable=False),
        sa.Column("error_streak", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_pages")),
        sa.UniqueConstraint("url", name=op.f("uq_list_pages_url")),
    )
    with op.batch_alter_table("list_pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_list_pages_source_name"), ["source_name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("list_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_list_pages_source_name"))
    op.drop_table("list_pages")
