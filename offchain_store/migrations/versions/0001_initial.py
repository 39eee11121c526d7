"""The schema as it was before migrations: issuers, batches, certificates, key wraps, shares,
access log, revocation requests, issuer keys, admin tokens and the audit log.

Revision ID: 0001
Revises:

Written out table by table (never metadata.create_all) so that it stays what it was when the
models change. State columns are the enum member's name in a VARCHAR(32), no database enum
type; timestamps are timezone-aware (UTC).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_tokens",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "ADMIN",
                "ISSUER",
                "REVOKER",
                "AUDITOR",
                name="adminrole",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("details", sa.String(), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("entry_hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_subject"), "audit_log", ["subject"], unique=False)
    op.create_table(
        "issuers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("issuer_id", sa.String(), nullable=False),
        sa.Column("source_name", sa.String(), nullable=False),
        sa.Column("source_sha256", sa.String(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "OPEN",
                "SEALED",
                "ANCHORING",
                "ANCHORED",
                "DELIVERED",
                name="batchstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("root", sa.String(), nullable=True),
        sa.Column("chain_id", sa.Integer(), nullable=True),
        sa.Column("contract_address", sa.String(), nullable=True),
        sa.Column("tx_hash", sa.String(), nullable=True),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=True),
        sa.Column("tx_nonce", sa.Integer(), nullable=True),
        sa.Column("anchor_attempts", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=True),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("anchored_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["issuers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_batches_issuer_id"), "batches", ["issuer_id"], unique=False)
    op.create_index(op.f("ix_batches_state"), "batches", ["state"], unique=False)
    op.create_index(op.f("ix_batches_tx_hash"), "batches", ["tx_hash"], unique=False)
    op.create_table(
        "issuer_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.String(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("SIGNING", "ANCHORING", name="keykind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["issuers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_issuer_keys_issuer_id"), "issuer_keys", ["issuer_id"], unique=False)
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("issuer_id", sa.String(), nullable=False),
        sa.Column("result_id", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "IMPORTED",
                "STORED",
                "ANCHORING",
                "ANCHORED",
                "DELIVERED",
                "REVOKED",
                name="certificatestate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("candidate_email", sa.String(), nullable=True),
        sa.Column("staged_content", sa.String(), nullable=True),
        sa.Column("pending_link_key", sa.String(), nullable=True),
        sa.Column("pdf_sha256", sa.String(), nullable=True),
        sa.Column("salt", sa.String(), nullable=True),
        sa.Column("leaf", sa.String(), nullable=True),
        sa.Column("proof", sa.String(), nullable=True),
        sa.Column("receipt", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["issuers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer_id", "result_id", name="uq_issuer_result"),
    )
    op.create_index(op.f("ix_certificates_batch_id"), "certificates", ["batch_id"], unique=False)
    op.create_index(op.f("ix_certificates_issuer_id"), "certificates", ["issuer_id"], unique=False)
    op.create_index(op.f("ix_certificates_leaf"), "certificates", ["leaf"], unique=False)
    op.create_index(
        op.f("ix_certificates_pdf_sha256"), "certificates", ["pdf_sha256"], unique=False
    )
    op.create_index(op.f("ix_certificates_state"), "certificates", ["state"], unique=False)
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column("share_id", sa.String(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_access_log_certificate_id"), "access_log", ["certificate_id"], unique=False
    )
    op.create_index(op.f("ix_access_log_opened_at"), "access_log", ["opened_at"], unique=False)
    op.create_index(op.f("ix_access_log_share_id"), "access_log", ["share_id"], unique=False)
    op.create_table(
        "key_wraps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "CANDIDATE", "SHARE", "RECOVERY", name="wrapkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("share_id", sa.String(), nullable=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_key_wraps_certificate_id"), "key_wraps", ["certificate_id"], unique=False
    )
    op.create_index(op.f("ix_key_wraps_share_id"), "key_wraps", ["share_id"], unique=False)
    op.create_table(
        "revocation_requests",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("REVOCATION", "ERASURE", name="requestkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("explanation", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "PENDING",
                "APPROVED",
                "REVOKING",
                "DONE",
                "REFUSED",
                name="requeststate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decision_note", sa.String(), nullable=True),
        sa.Column("tx_hash", sa.String(), nullable=True),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_revocation_requests_certificate_id"),
        "revocation_requests",
        ["certificate_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_revocation_requests_state"), "revocation_requests", ["state"], unique=False
    )
    op.create_table(
        "shares",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_opens", sa.Integer(), nullable=True),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_shares_certificate_id"), "shares", ["certificate_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_shares_certificate_id"), table_name="shares")
    op.drop_table("shares")
    op.drop_index(op.f("ix_revocation_requests_state"), table_name="revocation_requests")
    op.drop_index(op.f("ix_revocation_requests_certificate_id"), table_name="revocation_requests")
    op.drop_table("revocation_requests")
    op.drop_index(op.f("ix_key_wraps_share_id"), table_name="key_wraps")
    op.drop_index(op.f("ix_key_wraps_certificate_id"), table_name="key_wraps")
    op.drop_table("key_wraps")
    op.drop_index(op.f("ix_access_log_share_id"), table_name="access_log")
    op.drop_index(op.f("ix_access_log_opened_at"), table_name="access_log")
    op.drop_index(op.f("ix_access_log_certificate_id"), table_name="access_log")
    op.drop_table("access_log")
    op.drop_index(op.f("ix_certificates_state"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_pdf_sha256"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_leaf"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_issuer_id"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_batch_id"), table_name="certificates")
    op.drop_table("certificates")
    op.drop_index(op.f("ix_issuer_keys_issuer_id"), table_name="issuer_keys")
    op.drop_table("issuer_keys")
    op.drop_index(op.f("ix_batches_tx_hash"), table_name="batches")
    op.drop_index(op.f("ix_batches_state"), table_name="batches")
    op.drop_index(op.f("ix_batches_issuer_id"), table_name="batches")
    op.drop_table("batches")
    op.drop_table("issuers")
    op.drop_index(op.f("ix_audit_log_subject"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
    op.drop_table("admin_tokens")
