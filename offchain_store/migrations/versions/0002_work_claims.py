"""Work claims: leases that issuing workers hold on certificates and batches.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_claims",
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("worker_id", sa.String(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject_id"),
    )
    op.create_index("ix_work_claims_worker_id", "work_claims", ["worker_id"])


def downgrade() -> None:
    op.drop_index("ix_work_claims_worker_id", table_name="work_claims")
    op.drop_table("work_claims")
