"""Device authorizations (RFC 8628), and the `act` claim of tokens from a token exchange (RFC 8693).

Issue 10: the device authorization grant, stored by the hashes of its device and
user codes; token exchange, whose tokens may name an actor. Existing tokens get
no `act` (none had an actor).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """One new table and one new column."""
    op.add_column("oauth2_token", sa.Column("act", sa.Text(), nullable=True))
    op.create_table(
        "oauth2_device_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_code_hash", sa.String(64), nullable=False),
        sa.Column("user_code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("auth_time", sa.Integer(), nullable=True),
        sa.Column("family_id", sa.String(64), nullable=True),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_oauth2_device_code_device_code_hash", "oauth2_device_code", ["device_code_hash"], unique=True
    )
    op.create_index(
        "ix_oauth2_device_code_user_code_hash", "oauth2_device_code", ["user_code_hash"], unique=True
    )
    op.create_index("ix_oauth2_device_code_client_id", "oauth2_device_code", ["client_id"])
    op.create_index("ix_oauth2_device_code_user_id", "oauth2_device_code", ["user_id"])


def downgrade() -> None:
    """Back to 0002 (device authorizations in progress and the actors of exchanged tokens are lost)."""
    op.drop_table("oauth2_device_code")
    with op.batch_alter_table("oauth2_token") as batch:
        batch.drop_column("act")
