"""A text is stored once: article_versions keeps the superseded versions, articles the current one

Version 1 of every article repeated its text and HTML in article_versions (47 % of the database file at
20k articles). articles.version numbers the current text; its row in article_versions goes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.execute(
        "UPDATE articles SET version = COALESCE("
        "(SELECT MAX(v.version) FROM article_versions v WHERE v.article_id = articles.id), 1)"
    )
    op.execute(
        "DELETE FROM article_versions WHERE version = "
        "(SELECT a.version FROM articles a WHERE a.id = article_versions.article_id)"
    )


def downgrade() -> None:
    op.execute(
        "INSERT INTO article_versions (article_id, version, title, text, html, text_hash, fetched_at) "
        "SELECT id, version, title, text, html, text_hash, fetched_at FROM articles"
    )
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("version")
