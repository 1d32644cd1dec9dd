"""Users, authorization codes, refresh tokens and their families, consents; OpenID Connect client settings.

Issue 9: the authorization code grant with PKCE and OpenID Connect. Existing
clients keep their behaviour through the server defaults: confidential,
client_credentials only, no redirect URIs, RS256 ID tokens. Existing tokens get
no issuer (the current one is reported for them) and no user or family; the
existing signing keys are RSA keys for RS256.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """New columns on the three baseline tables, and six new tables."""
    client_columns = [
        sa.Column("client_name", sa.String(255), nullable=False, server_default=""),
        sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("require_pkce", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("grant_types", sa.Text(), nullable=False, server_default='["client_credentials"]'),
        sa.Column("redirect_uris", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("post_logout_redirect_uris", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("id_token_alg", sa.String(16), nullable=False, server_default="RS256"),
        sa.Column("always_refresh_token", sa.Boolean(), nullable=False, server_default=sa.false()),
    ]
    for column in client_columns:
        op.add_column("oauth2_client", column)
    op.add_column("oauth2_token", sa.Column("issuer", sa.Text(), nullable=True))
    op.add_column("oauth2_token", sa.Column("user_id", sa.Integer(), nullable=True))
    op.add_column("oauth2_token", sa.Column("family_id", sa.String(64), nullable=True))
    op.create_index("ix_oauth2_token_user_id", "oauth2_token", ["user_id"])
    op.create_index("ix_oauth2_token_family_id", "oauth2_token", ["family_id"])
    op.add_column(
        "oauth2_signing_key", sa.Column("alg", sa.String(16), nullable=False, server_default="RS256")
    )

    op.create_table(
        "oauth2_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("sub", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("given_name", sa.String(255), nullable=False),
        sa.Column("family_name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sub"),
    )
    op.create_index("ix_oauth2_user_username", "oauth2_user", ["username"], unique=True)

    op.create_table(
        "oauth2_token_family",
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("family_id"),
    )
    op.create_index("ix_oauth2_token_family_client_id", "oauth2_token_family", ["client_id"])
    op.create_index("ix_oauth2_token_family_user_id", "oauth2_token_family", ["user_id"])

    op.create_table(
        "oauth2_authorization_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=True),
        sa.Column("code_challenge_method", sa.String(16), nullable=True),
        sa.Column("auth_time", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_oauth2_authorization_code_code_hash", "oauth2_authorization_code", ["code_hash"], unique=True
    )
    op.create_index("ix_oauth2_authorization_code_client_id", "oauth2_authorization_code", ["client_id"])
    op.create_index("ix_oauth2_authorization_code_user_id", "oauth2_authorization_code", ["user_id"])
    op.create_index("ix_oauth2_authorization_code_family_id", "oauth2_authorization_code", ["family_id"])

    op.create_table(
        "oauth2_refresh_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("auth_time", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oauth2_refresh_token_token_hash", "oauth2_refresh_token", ["token_hash"], unique=True)
    op.create_index("ix_oauth2_refresh_token_client_id", "oauth2_refresh_token", ["client_id"])
    op.create_index("ix_oauth2_refresh_token_user_id", "oauth2_refresh_token", ["user_id"])
    op.create_index("ix_oauth2_refresh_token_family_id", "oauth2_refresh_token", ["family_id"])

    op.create_table(
        "oauth2_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oauth2_consent_user_client", "oauth2_consent", ["user_id", "client_id"], unique=True)

    op.create_table(
        "oauth2_server_secret",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    """Back to the baseline (what was issued through the new grants is lost)."""
    for table in (
        "oauth2_server_secret",
        "oauth2_consent",
        "oauth2_refresh_token",
        "oauth2_authorization_code",
        "oauth2_token_family",
        "oauth2_user",
    ):
        op.drop_table(table)
    with op.batch_alter_table("oauth2_signing_key") as batch:
        batch.drop_column("alg")
    with op.batch_alter_table("oauth2_token") as batch:
        batch.drop_index("ix_oauth2_token_family_id")
        batch.drop_index("ix_oauth2_token_user_id")
        for name in ("family_id", "user_id", "issuer"):
            batch.drop_column(name)
    with op.batch_alter_table("oauth2_client") as batch:
        for name in (
            "always_refresh_token",
            "id_token_alg",
            "post_logout_redirect_uris",
            "redirect_uris",
            "grant_types",
            "require_pkce",
            "public",
            "client_name",
        ):
            batch.drop_column(name)
