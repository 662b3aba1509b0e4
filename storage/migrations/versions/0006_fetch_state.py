"""fetch_validators, outlet_states and request counts per run: conditional requests and adaptive polling

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fetch_validators",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("poll_hint", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "outlet_states",
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_new_article_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("outlet_id"),
    )
    with op.batch_alter_table("outlet_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outlet_states_next_due_at"), ["next_due_at"], unique=False)
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requests", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("not_modified", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("articles_updated", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("by_outlet", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_column("by_outlet")
        batch_op.drop_column("articles_updated")
        batch_op.drop_column("not_modified")
        batch_op.drop_column("requests")
    with op.batch_alter_table("outlet_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outlet_states_next_due_at"))
    op.drop_table("outlet_states")
    op.drop_table("fetch_validators")
