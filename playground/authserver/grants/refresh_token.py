"""RFC 6749 §6: refreshing, with rotation and reuse detection (RFC 9700 §4.14.2).

Each use of a refresh token marks it used and issues a new one of the same
family; a used one presented again ends the whole family, access tokens too.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from sqlalchemy import update

from ..context import get_db
from ..models import RefreshToken, User, family_revoked, find_refresh_token, revoke_family
from ..tokens import issue_user_tokens
from .authorization_code import TOKEN_AUTH_METHODS


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """A refresh token for new tokens; never twice."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        """The client's live refresh token. One already rotated ends its family, then fails."""
        db = get_db()
        row = find_refresh_token(db, refresh_token)
        client = self.request.client
        if row is None or row.client_id != client.client_id:
            return None
        if row.used:
            revoke_family(db, row.family_id)
            raise InvalidGrantError(
                description="This refresh token was used already: all tokens of its grant are revoked "
                "(RFC 9700 section 4.14.2)."
            )
        if row.is_expired() or family_revoked(db, row.family_id):
            return None
        return row

    def authenticate_user(self, refresh_token: RefreshToken) -> User | None:
        """The user the grant was for."""
        return get_db().get(User, refresh_token.user_id)

    def create_token_response(self):
        """Rotate: take the old one (atomically), issue a new pair of the same family."""
        client, old = self.request.client, self.request.refresh_token
        db = get_db()
        user = self.authenticate_user(old)
        if user is None:
            raise InvalidGrantError(description="The user of this refresh token no longer exists.")
        taken = db.execute(
            update(RefreshToken)
            .where(RefreshToken.id == old.id, RefreshToken.used.is_(False))
            .values(used=True)
        ).rowcount
        db.commit()
        if not taken:
            revoke_family(db, old.family_id)
            raise InvalidGrantError(description="This refresh token was used already.")
        scope = self.request.payload.scope or old.scope
        body = issue_user_tokens(
            client, user, scope, old.family_id, old.auth_time, refresh=True, refresh_scope=old.scope
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER
