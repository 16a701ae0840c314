"""near-duplicate index: MinHash LSH band keys per article

Revision ID: 0003
Revises: 0002

Articles stored before this revision are not in the index until ``newsmon dedup reindex`` runs
(they still match exactly, by content hash).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "neardup_bands",
        sa.Column("band_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_neardup_bands_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("band_key", "article_id", name=op.f("pk_neardup_bands")),
    )
    with op.batch_alter_table("neardup_bands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_neardup_bands_article_id"), ["article_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("neardup_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_neardup_bands_article_id"))
    op.drop_table("neardup_bands")
