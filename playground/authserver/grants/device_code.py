"""RFC 8628 §3.4, §3.5: the device polls the token endpoint with its device code.

Authlib's DeviceCodeGrant gives the grant type and the error classes; the checks
are written out here, in §3.5's terms: `authorization_pending` until the user
answers, `slow_down` (and 5 s more on the interval from then on) for a poll sooner
than the interval after the last, `access_denied`, `expired_token`; once allowed,
the tokens, once: the code is taken atomically and a second redemption is
`invalid_grant`.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import DeviceCodeGrant as AuthlibDeviceCodeGrant
from authlib.oauth2.rfc8628.errors import AuthorizationPendingError, ExpiredTokenError, SlowDownError
from sqlalchemy import select, update

from ..context import get_db
from ..models import DeviceCode, User, hash_token, now
from ..tokens import gets_refresh_token, issue_user_tokens
from .authorization_code import TOKEN_AUTH_METHODS

#: RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests".
SLOW_DOWN_STEP = 5


class DeviceCodeGrant(AuthlibDeviceCodeGrant):
    """The device code for tokens, once the user has allowed it at the verification page."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def validate_token_request(self) -> None:
        """The client, its grant, its device code, then the user's answer (RFC 8628 §3.5)."""
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(
                description="The client is not registered for the device authorization grant (RFC 8628)."
            )
        value = self.request.form.get("device_code")
        if not value:
            raise InvalidRequestError(
                description="The device_code parameter is required (RFC 8628 section 3.4)."
            )
        db = get_db()
        row = db.scalar(select(DeviceCode).where(DeviceCode.device_code_hash == hash_token(value)))
        if row is None or row.client_id != client.client_id:
            raise InvalidGrantError(
                description="The device_code is unknown, or was issued to another client."
            )
        if row.status == "used":
            raise InvalidGrantError(description="The device_code was redeemed already; it works once.")
        if row.is_expired():
            raise ExpiredTokenError(
                description="The device_code has expired: start again with a new device authorization."
            )
        if row.status == "denied":
            raise AccessDeniedError(description="The user denied the request.")
        if row.status == "pending":
            self.poll(row)
        self.request.client = client
        self.request.credential = row

    def poll(self, row: DeviceCode) -> None:
        """Not answered yet: `slow_down` for a poll sooner than the interval, else `authorization_pending`."""
        polled = now()
        too_soon = row.last_polled_at is not None and polled - row.last_polled_at < row.interval
        values = {"last_polled_at": polled}
        if too_soon:
            values["interval"] = row.interval + SLOW_DOWN_STEP
        db = get_db()
        db.execute(update(DeviceCode).where(DeviceCode.id == row.id).values(**values))
        db.commit()
        if too_soon:
            raise SlowDownError(
                description=f"Polled too soon: wait {values['interval']} seconds between polls."
            )
        raise AuthorizationPendingError(description="The user has not answered yet at the verification page.")

    def create_token_response(self):
        """Take the allowed code (atomically: of two polls, one wins), then issue as for a code."""
        client, row = self.request.client, self.request.credential
        db = get_db()
        user = db.get(User, row.user_id)
        if user is None:
            raise InvalidGrantError(description="The user who allowed this device no longer exists.")
        taken = db.execute(
            update(DeviceCode)
            .where(DeviceCode.id == row.id, DeviceCode.status == "approved")
            .values(status="used")
        ).rowcount
        db.commit()
        if not taken:
            raise InvalidGrantError(description="The device_code was redeemed already; it works once.")
        body = issue_user_tokens(
            client,
            user,
            row.scope,
            row.family_id,
            row.auth_time,
            refresh=gets_refresh_token(client, row.scope),
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER
