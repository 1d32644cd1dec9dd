"""RFC 7662 introspection and RFC 7009 revocation, with WSO2 IS's authentication choices."""

from __future__ import annotations

import json
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from .context import get_db, issuer
from .models import (
    INTROSPECT_SCOPE,
    Client,
    RefreshToken,
    Token,
    User,
    family_revoked,
    find_client,
    find_refresh_token,
    find_token,
    revoke_family,
)

#: Client authentication accepted at the introspection and revocation endpoints,
#: as WSO2 IS does: the client's own credentials, or a Bearer token with the
#: `internal_oauth2_introspect` scope.
ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "bearer_introspect"]
#: What the metadata lists: only names registered for RFC 8414 §2's
#: *_auth_methods_supported (IANA "OAuth Token Endpoint Authentication Methods").
#: The Bearer token is still accepted, but "bearer_introspect" is our own name.
ADVERTISED_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
ADVERTISED_REVOCATION_AUTH_METHODS = [*ADVERTISED_ENDPOINT_AUTH_METHODS, "none"]


def check_token_param(oauth_request) -> None:
    """RFC 7662 §2.1 and RFC 7009 §2.1: `token` is required; an unknown
    `token_type_hint` is no error, the search simply covers every token type."""
    if not oauth_request.form.get("token"):
        raise InvalidRequestError(description="The token parameter is required.")


def find_live_token(value: str, hint: str | None = None) -> Token | RefreshToken | None:
    """The access or refresh token with that value, unless its client or its grant is gone.

    `clients remove` deletes a client's tokens too; this also covers a client
    deleted from the store some other way, and a grant revoked as a whole (a
    code used twice, a rotated refresh token used again). RFC 7662 §2.2: such a
    token is reported only as inactive. The hint only orders the search (§2.1).
    """
    db = get_db()
    finders = [find_token, find_refresh_token]
    if hint == "refresh_token":
        finders.reverse()
    for find in finders:
        token = find(db, value)
        if token is not None:
            break
    if token is None or find_client(db, token.client_id) is None or family_revoked(db, token.family_id):
        return None
    return token


def may_see_all_tokens(client: Client, oauth_request) -> bool:
    """Holds the introspection scope, by registration or by the Bearer token used."""
    return getattr(oauth_request, "may_see_all_tokens", False) or INTROSPECT_SCOPE in client.scopes


class DemoIntrospectionEndpoint(IntrospectionEndpoint):
    """RFC 7662 with WSO2 IS's authentication choices."""

    CLIENT_AUTH_METHODS = ENDPOINT_AUTH_METHODS

    def check_params(self, oauth_request, client) -> None:
        """See check_token_param."""
        check_token_param(oauth_request)

    def query_token(self, token_string, token_type_hint):
        """Look the token up by its hash: an access token or a refresh token."""
        return find_live_token(token_string, token_type_hint)

    def check_permission(self, token, client, oauth_request) -> bool:
        """A client sees its own tokens; the introspection scope sees all.

        RFC 7662 §2.2: a token the caller may not see is reported only as inactive.
        """
        return token.check_client(client) or may_see_all_tokens(client, oauth_request)

    def introspect_token(self, token: Token | RefreshToken) -> dict[str, Any]:
        """RFC 7662 §2.2 members of an active token.

        `iss` is the issuer recorded when the token was issued (tokens from before
        that was recorded get the current one); `sub` and `username` are the user's,
        or the client's for a client credentials token.
        """
        user = get_db().get(User, token.user_id) if token.user_id is not None else None
        body: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": token.client_id,
            "sub": user.sub if user else token.client_id,
            "iss": token.issuer or issuer(),
        }
        if user:
            body["username"] = user.username
        if isinstance(token, RefreshToken):
            return {**body, "exp": token.expires_at, "iat": token.issued_at}
        audience = token.audience.split()
        if token.act:
            body["act"] = json.loads(token.act)  # RFC 8693 §2.2.1, §4.1: who acts for the subject
        return {
            **body,
            "token_type": token.token_type,
            "exp": token.expires_at,
            "iat": token.issued_at,
            "nbf": token.issued_at,
            "aud": audience[0] if len(audience) == 1 else audience,
            "jti": token.jti,
        }


class DemoRevocationEndpoint(RevocationEndpoint):
    """RFC 7009 revocation; the token is kept, marked revoked."""

    #: A public client revokes its own tokens with its client_id alone (e.g. at logout).
    CLIENT_AUTH_METHODS = [*ENDPOINT_AUTH_METHODS, "none"]

    def check_params(self, oauth_request, client) -> None:
        """See check_token_param."""
        check_token_param(oauth_request)

    def authenticate_token(self, oauth_request, client):
        """Only the client's own tokens, unless it holds the introspection scope.

        RFC 7009 §2.2: another client's token is answered as an unknown one is,
        200 and nothing revoked, so the answer tells nothing about it.
        """
        self.check_params(oauth_request, client)
        token = self.query_token(oauth_request.form["token"], oauth_request.form.get("token_type_hint"))
        if token and not (token.check_client(client) or may_see_all_tokens(client, oauth_request)):
            return None
        return token

    def query_token(self, token_string, token_type_hint):
        """Look the token up by its hash (RFC 7009 §2.2: an unknown one still gets 200)."""
        return find_live_token(token_string, token_type_hint)

    def revoke_token(self, token: Token | RefreshToken, oauth_request) -> None:
        """RFC 7009 §2.2: mark revoked; introspection then reports inactive.

        A refresh token ends its whole grant, access tokens included (RFC 7009 §2.1:
        "SHOULD also invalidate all access tokens based on the same authorization grant").
        """
        if isinstance(token, RefreshToken):
            revoke_family(get_db(), token.family_id)
            return
        token.revoked = True
        get_db().commit()
