"""RFC 6749 §4.4: the client credentials grant."""

from __future__ import annotations

import re

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from ..tokens import USER_SCOPES, issue_token, requested_audience

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
#: RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def check_client_scope(client, scope: str | None) -> list[str]:
    """The requested scopes; RFC 6749 §5.2 `invalid_scope` for any the client is not registered for."""
    requested = (scope or "").split()
    if not all(SCOPE_TOKEN.fullmatch(s) for s in requested):
        raise InvalidScopeError(description="The scope has characters RFC 6749 section 3.3 does not allow.")
    unknown = [s for s in requested if s not in client.scopes]
    if unknown:
        raise InvalidScopeError(description=f"The client may not request: {' '.join(unknown)}.")
    return requested


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """RFC 6749 §4.4 with per-client scopes and RFC 8707 resources."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        """`invalid_scope` for scopes the client may not have, or that are about a user."""
        requested = check_client_scope(self.client, self.request.payload.scope)
        about_users = [s for s in requested if s in USER_SCOPES]
        if about_users:
            raise InvalidScopeError(
                description=f"{' '.join(about_users)}: scopes about a user, and this grant has none. "
                "Use the authorization code grant."
            )

    def create_token_response(self):
        """Issue the token (opaque or RFC 9068 JWT, as the client is set).

        Without a scope asked for, every scope of the client that is not about a user.
        """
        client = self.client
        scope = self.request.payload.scope or " ".join(s for s in client.scopes if s not in USER_SCOPES)
        body = issue_token(client, scope, requested_audience(client))
        return 200, body, self.TOKEN_RESPONSE_HEADER
