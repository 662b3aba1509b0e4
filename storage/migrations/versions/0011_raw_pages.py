"""raw_bodies and raw_fetches: the raw response of every stored article version, bodies once

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "raw_bodies",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("codec", sa.String(length=10), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "raw_fetches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("hints", sa.JSON(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), sa.ForeignKey("raw_bodies.digest"), nullable=False),
    )
    op.create_index("ix_raw_fetches_article_id", "raw_fetches", ["article_id"])
    op.create_index("ix_raw_fetches_digest", "raw_fetches", ["digest"])


def downgrade() -> None:
    op.drop_table("raw_fetches")
    op.drop_table("raw_bodies")
