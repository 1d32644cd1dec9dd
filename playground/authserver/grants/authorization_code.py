"""RFC 6749 §4.1.3: the authorization code grant at the token endpoint, with PKCE (RFC 7636).

Authlib's AuthorizationCodeGrant authenticates the client, checks its grant, finds
the code and compares redirect_uri; its CodeChallenge extension checks the
code_verifier. Here: the code is single-use, taken atomically, and a second use
revokes what the first one issued (RFC 6749 §4.1.2); the response carries the
refresh and ID tokens (tokens.py).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import update

from ..context import get_db
from ..models import AuthorizationCode, User, family_revoked, hash_token, revoke_family
from ..tokens import gets_refresh_token, issue_user_tokens

#: A public client sends its client_id only (RFC 6749 §2.1, `none`); PKCE protects its code.
TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """The code for tokens: bound to client, redirect URI and PKCE challenge, short-lived, once."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        """The client's unexpired code. One already used ends its tokens, then fails."""
        db = get_db()
        row = db.query(AuthorizationCode).filter_by(code_hash=hash_token(code)).one_or_none()
        if row is None or row.client_id != client.client_id or row.is_expired():
            return None
        if row.used:
            revoke_family(db, row.family_id)
            raise InvalidGrantError(
                description="The code was used already; the tokens issued for it are revoked "
                "(RFC 6749 section 4.1.2)."
            )
        return row

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        """The user who signed in for the code."""
        return get_db().get(User, authorization_code.user_id)

    def create_token_response(self):
        """Take the code (atomically: of two requests with it, one wins), then issue."""
        client, code = self.request.client, self.request.authorization_code
        db = get_db()
        user = self.authenticate_user(code)
        if user is None:
            raise InvalidGrantError(description="The user of this code no longer exists.")
        taken = db.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == code.id, AuthorizationCode.used.is_(False))
            .values(used=True)
        ).rowcount
        db.commit()
        if not taken or family_revoked(db, code.family_id):
            revoke_family(db, code.family_id)
            raise InvalidGrantError(description="The code was used already (RFC 6749 section 4.1.2).")
        body = issue_user_tokens(
            client,
            user,
            code.scope,
            code.family_id,
            code.auth_time,
            refresh=gets_refresh_token(client, code.scope),
            nonce=code.nonce,
            code=self.request.form["code"],
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER


def code_challenge() -> CodeChallenge:
    """Authlib's PKCE check at the token endpoint (RFC 7636 §4.6); whether a challenge was
    required is decided at the authorization endpoint (authorize.py)."""
    return CodeChallenge(required=True)
