"""articles.page_kind: a page kept although it looks like a stub (a paywall teaser) says so

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("page_kind", sa.String(length=20), nullable=False, server_default="article"))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("page_kind")
