"""RFC 8693: token exchange. A token of this server for a new access token, narrower or for another audience.

The subject token is an access token (`...:token-type:access_token`) or an ID token
(`...:token-type:id_token`) this server issued, active, and issued to the requesting
client or naming it in its audience. The new token's scope is within the subject
token's (an ID token's: `openid` and the scopes whose claims it carries); its `aud`
comes from `audience` / `resource` (RFC 8707) as for every grant; it ends when the
subject token would, and with the subject token's grant when that is revoked. An
actor token names who acts for the subject: the new token's `act` claim (§4.1),
nesting the subject token's own `act`, if any, as the earlier actor.

Errors: a subject or actor token that is invalid, expired, revoked or not this
client's is `invalid_grant` with a description. (RFC 8693 §2.2.2 says
`invalid_request` for those; `invalid_grant` is what RFC 6749 §5.2 gives a grant
whose credential is bad, and what the playground explains; the description says which.)
A token type this server does not take or issue is `invalid_request` naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import BaseGrant, TokenEndpointMixin
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)

from ..context import get_db
from ..models import TOKEN_EXCHANGE_GRANT, Client, User, family_revoked, find_client, find_token, now
from ..oidc import verify_id_token
from ..tokens import issue_token, requested_audience
from ..users import SCOPE_CLAIMS
from .authorization_code import TOKEN_AUTH_METHODS
from .client_credentials import SCOPE_TOKEN

#: RFC 8693 §3: token type identifiers.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
#: What may be presented as subject or actor token, and what may be asked for.
PRESENTED_TYPES = (ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE)
ISSUED_TYPES = (ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE)


@dataclass
class Presented:
    """A subject or actor token, checked: whom it is about and what it allows."""

    subject: str
    user: User | None
    scope: str
    expires_at: int
    family_id: str | None = None
    act: dict[str, Any] | None = None


def read_access_token(client: Client, value: str, name: str) -> Presented:
    """An active access token of this server for this client (issued to it, or naming it in `aud`)."""
    db = get_db()
    token = find_token(db, value)
    if (
        token is None
        or not token.is_active()
        or family_revoked(db, token.family_id)
        or find_client(db, token.client_id) is None
    ):
        raise InvalidGrantError(
            description=f"The {name} is not an active access token here: unknown, expired or revoked."
        )
    if token.client_id != client.client_id and client.client_id not in token.audience.split():
        raise InvalidGrantError(
            description=f"The {name} was not issued to this client and does not name it in its audience."
        )
    user = db.get(User, token.user_id) if token.user_id is not None else None
    if token.user_id is not None and user is None:
        raise InvalidGrantError(description=f"The user of the {name} no longer exists.")
    return Presented(
        subject=user.sub if user else token.client_id,
        user=user,
        scope=token.scope,
        expires_at=token.expires_at,
        family_id=token.family_id,
        act=json.loads(token.act) if token.act else None,
    )


def read_id_token(client: Client, value: str, name: str) -> Presented:
    """An unexpired ID token this server signed for this client, of a user who still exists."""
    claims = verify_id_token(value)
    if claims is None:
        raise InvalidGrantError(description=f"The {name} is not an ID token signed by this server.")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now():
        raise InvalidGrantError(description=f"The {name} has expired.")
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if client.client_id not in audience:
        raise InvalidGrantError(description=f"The {name} was not issued to this client (see its aud).")
    user = get_db().query(User).filter_by(sub=claims["sub"]).one_or_none()
    if user is None:
        raise InvalidGrantError(description=f"The user of the {name} no longer exists.")
    # What the ID token shows of the user is what it may be exchanged for.
    shown = [s for s, names in SCOPE_CLAIMS.items() if any(n in claims for n in names)]
    return Presented(
        subject=user.sub, user=user, scope=" ".join(["openid", *shown]), expires_at=claims["exp"]
    )


def read_token(client: Client, value: str | None, token_type: str | None, name: str) -> Presented:
    """The subject or actor token (`name`), by its type; RFC 8693 §2.1 needs both."""
    if not value or not token_type:
        raise InvalidRequestError(
            description=f"{name} and {name}_type are required together (RFC 8693 section 2.1)."
        )
    if token_type not in PRESENTED_TYPES:
        raise InvalidRequestError(
            description=f"{name}_type {token_type!r} is not supported: use {' or '.join(PRESENTED_TYPES)}."
        )
    if token_type == ACCESS_TOKEN_TYPE:
        return read_access_token(client, value, name)
    return read_id_token(client, value, name)


class TokenExchangeGrant(BaseGrant, TokenEndpointMixin):
    """RFC 8693 §2.1 request, §2.2.1 response (Authlib has no token exchange grant)."""

    GRANT_TYPE = TOKEN_EXCHANGE_GRANT
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def validate_token_request(self) -> None:
        """The client and its grant, the token types, the subject and actor tokens, the scope."""
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(
                description="The client is not registered for token exchange (RFC 8693)."
            )
        form = self.request.form
        requested_type = form.get("requested_token_type") or ACCESS_TOKEN_TYPE
        if requested_type not in ISSUED_TYPES:
            raise InvalidRequestError(
                description=f"requested_token_type {requested_type!r} is not issued here: "
                f"ask for {' or '.join(ISSUED_TYPES)}."
            )
        subject = read_token(
            client, form.get("subject_token"), form.get("subject_token_type"), "subject_token"
        )
        if subject.user is None and subject.subject != client.client_id:
            raise InvalidGrantError(  # its new token's sub would be this client, not the subject
                description="A subject_token without a user is exchanged only by the client it was issued to."
            )
        actor = None
        if form.get("actor_token") or form.get("actor_token_type"):
            actor = read_token(client, form.get("actor_token"), form.get("actor_token_type"), "actor_token")
        requested = (self.request.payload.scope or "").split()
        if not all(SCOPE_TOKEN.fullmatch(s) for s in requested):
            raise InvalidScopeError(
                description="The scope has characters RFC 6749 section 3.3 does not allow."
            )
        beyond = [s for s in requested if s not in subject.scope.split()]
        if beyond:
            raise InvalidScopeError(description=f"Not within the subject token's scope: {' '.join(beyond)}.")
        self.request.client = client
        self.request.user = subject.user
        self.exchange = subject, actor, " ".join(dict.fromkeys(requested)) or subject.scope, requested_type

    def create_token_response(self):
        """The new access token, with `issued_token_type` (RFC 8693 §2.2.1) and no refresh token.

        Every token issued here is an access token, so token_type is Bearer (§2.2.1
        keeps N_A for tokens that are not access tokens).
        """
        subject, actor, scope, requested_type = self.exchange
        client = self.request.client
        act = subject.act
        if actor is not None:  # §4.1: the current actor, the earlier ones nested in it
            act = {"sub": actor.subject, **({"act": subject.act} if subject.act else {})}
        body = issue_token(
            client,
            scope,
            requested_audience(client),
            subject.user,
            subject.family_id,
            act=act,
            token_format="jwt" if requested_type == JWT_TOKEN_TYPE else None,
            lifetime=max(1, min(client.token_lifetime, subject.expires_at - now())),
        )
        body["issued_token_type"] = requested_type
        return 200, body, self.TOKEN_RESPONSE_HEADER
