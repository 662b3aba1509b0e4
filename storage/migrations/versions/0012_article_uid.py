"""articles.uid: the stable id of an article (16 hex digits of its canonical URL's SHA-256), stored and indexed
so story pages (/stories/<uid>) and feed ids find an article by it in any database

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.common.urls import article_uid

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("uid", sa.String(length=16), nullable=True))
    articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("canonical_url"), sa.column("uid"))
    connection = op.get_bind()
    last = 0
    while rows := connection.execute(
        sa.select(articles.c.id, articles.c.canonical_url)
        .where(articles.c.id > last)
        .order_by(articles.c.id)
        .limit(BATCH)
    ).all():
        connection.execute(
            articles.update().where(articles.c.id == sa.bindparam("row_id")).values(uid=sa.bindparam("new_uid")),
            [{"row_id": row_id, "new_uid": article_uid(url)} for row_id, url in rows],
        )
        last = rows[-1][0]
    op.create_index("ix_articles_uid", "articles", ["uid"])


def downgrade() -> None:
    op.drop_index("ix_articles_uid", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("uid")
