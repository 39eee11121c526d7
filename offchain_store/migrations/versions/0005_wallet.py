"""Wallet credentials (OpenID4VCI): single-use offers and the nonces wallets sign.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_offers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column("code_sha256", sa.String(), nullable=False),
        sa.Column("tx_code_sha256", sa.String(), nullable=True),
        sa.Column("tx_code_failures", sa.Integer(), nullable=False),
        sa.Column("sealed_claims", sa.LargeBinary(), nullable=True),
        sa.Column("key_wrap", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_sha256", sa.String(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("burned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["certificate_id"], ["certificates.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_sha256"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index("ix_wallet_offers_certificate_id", "wallet_offers", ["certificate_id"])
    op.create_table(
        "wallet_nonces",
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("audience", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("value"),
    )
    op.create_index("ix_wallet_nonces_purpose", "wallet_nonces", ["purpose"])


def downgrade() -> None:
    op.drop_index("ix_wallet_nonces_purpose", table_name="wallet_nonces")
    op.drop_table("wallet_nonces")
    op.drop_index("ix_wallet_offers_certificate_id", table_name="wallet_offers")
    op.drop_table("wallet_offers")
