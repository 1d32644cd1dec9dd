"""RFC 6749 §4.3: the resource owner password credentials grant (deprecated by RFC 9700 §2.4).

Only for clients registered with the `password` grant, authenticated as registered
(a public one sends its client_id). The password is checked in constant time
(users.py) and never logged: Authlib's own grant is not used for the check, and
nothing here writes the form anywhere. A wrong password and an unknown user get
the same `invalid_grant`, so the answer does not tell which user names exist.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)

from ..context import get_db
from ..models import now, start_family
from ..tokens import gets_refresh_token, issue_user_tokens
from ..users import authenticate_user
from .authorization_code import TOKEN_AUTH_METHODS
from .client_credentials import check_client_scope


class ResourceOwnerPasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    """The user's name and password for tokens, as the code grant would issue them."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def validate_token_request(self) -> None:
        """RFC 6749 §4.3.2: the client, its grant, username, password and scope, in that order.

        The scope is checked before the password, so a malformed request costs no
        password hash; the scope is required, as at the authorization endpoint
        (RFC 6749 §3.3 lets the server fail rather than pick a default).
        """
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(
                description="The client is not registered for the password grant (RFC 6749 section 4.3)."
            )
        form = self.request.form
        username, password = form.get("username"), form.get("password")
        if not username or not password:
            raise InvalidRequestError(
                description="The password grant needs username and password (RFC 6749 section 4.3.2)."
            )
        if not self.request.payload.scope:
            raise InvalidScopeError(description="Name the scopes to ask for (e.g. openid profile).")
        check_client_scope(client, self.request.payload.scope)
        user = authenticate_user(get_db(), username, password)
        if user is None:
            raise InvalidGrantError(description="The user name or the password is wrong.")
        self.request.client = client
        self.request.user = user

    def create_token_response(self):
        """Access token; refresh token with offline_access (as for a code); ID token with openid.

        The password check is the authentication, so `auth_time` is now; the tokens
        start a family of their own, so that refresh rotation and revocation work as for a code.
        """
        client, user = self.request.client, self.request.user
        scope = " ".join(dict.fromkeys(self.request.payload.scope.split()))
        db = get_db()
        family_id = start_family(db, client.client_id, user.id)
        body = issue_user_tokens(
            client, user, scope, family_id, now(), refresh=gets_refresh_token(client, scope)
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER
