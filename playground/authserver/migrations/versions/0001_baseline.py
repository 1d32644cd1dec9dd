"""Baseline: the store as the demo server made it before migrations (clients, tokens, signing keys).

A store made then has these tables and no `alembic_version`; it is stamped at
this revision and upgraded from here. Portable types only (no SQLite-only DDL).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The three tables exactly as `Base.metadata.create_all` made them."""
    op.create_table(
        "oauth2_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("client_secret_hash", sa.String(255), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("token_format", sa.String(16), nullable=False),
        sa.Column("token_lifetime", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oauth2_client_client_id", "oauth2_client", ["client_id"], unique=True)
    op.create_table(
        "oauth2_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("token_type", sa.String(40), nullable=False),
        sa.Column("token_format", sa.String(16), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.Integer(), nullable=False),
        sa.Column("expires_in", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oauth2_token_token_hash", "oauth2_token", ["token_hash"], unique=True)
    op.create_index("ix_oauth2_token_client_id", "oauth2_token", ["client_id"], unique=False)
    op.create_table(
        "oauth2_signing_key",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("private_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kid"),
    )


def downgrade() -> None:
    """Nothing before the baseline."""
    op.drop_table("oauth2_signing_key")
    op.drop_table("oauth2_token")
    op.drop_table("oauth2_client")
