"""outlet_states: when the outlet's last error happened and how many runs in a row had errors (a feed that is
malformed on every run while its sitemap answers is still shown to the operator)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outlet_states") as batch:
        batch.add_column(sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("runs_with_errors", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("outlet_states") as batch:
        batch.drop_column("runs_with_errors")
        batch.drop_column("last_error_at")
