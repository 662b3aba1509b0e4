"""articles: provenance for the exported corpus — the listing that led to it, the page's licence, the
extractor's versions, the publication date's own UTC offset, and a change counter for incremental exports

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("listing", sa.Text(), nullable=True))
        batch.add_column(sa.Column("license", sa.Text(), nullable=True))
        batch.add_column(sa.Column("extractor", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("published_offset", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("changed", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_articles_changed", ["changed"])


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_changed")
        for column in ("changed", "published_offset", "extractor", "license", "listing"):
            batch.drop_column(column)
