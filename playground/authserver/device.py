"""The device authorization grant (RFC 8628): the device authorization endpoint and the device codes.

The device asks `/oauth2/device_authorize` (§3.1, §3.2) for a device code and a user
code; the user enters the user code at the verification page (device_pages.py) and
allows or denies; the device polls the token endpoint (grants/device_code.py).
Both codes are stored only by their hashes.
"""

from __future__ import annotations

import secrets
import time

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidScopeError, UnauthorizedClientError
from flask import current_app, jsonify, request, url_for
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from .context import get_db, issuer, public_base
from .grants.authorization_code import TOKEN_AUTH_METHODS
from .grants.client_credentials import check_client_scope
from .models import DEVICE_CODE_GRANT, DeviceCode, User, hash_token, now, start_family

#: RFC 8628 §6.1: consonants only (no vowels, so no words), easy to read and type.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8


def new_user_code() -> str:
    """Eight characters of the base-20 alphabet, shown as XXXX-XXXX (RFC 8628 §6.1: about 34.5 bits)."""
    code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def normalize_user_code(value: str) -> str | None:
    """What the user typed, as stored: case and dashes or spaces ignored (RFC 8628 §6.1); None if no code."""
    code = "".join(c for c in (value or "").upper() if c not in "- \t")
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


def find_pending(user_code: str) -> DeviceCode | None:
    """The unexpired, unanswered device authorization with that user code, or None."""
    code = normalize_user_code(user_code)
    if code is None:
        return None
    row = get_db().scalar(select(DeviceCode).where(DeviceCode.user_code_hash == hash_token(code)))
    if row is None or row.status != "pending" or row.is_expired():
        return None
    return row


def pending_by_id(device_id: int) -> DeviceCode | None:
    """The device authorization a page of ours carried, if it is still unanswered and unexpired."""
    row = get_db().get(DeviceCode, device_id)
    if row is None or row.status != "pending" or row.is_expired():
        return None
    return row


def decide(row: DeviceCode, user: User | None, auth_time: int | None = None) -> bool:
    """The user's answer: allowed (for `user`) or denied (no user). False if it was answered meanwhile.

    An allowed one starts a token family, so what the device gets can be revoked as one.
    """
    db = get_db()
    values: dict = {"status": "denied"}
    if user is not None:
        values = {
            "status": "approved",
            "user_id": user.id,
            "auth_time": auth_time,
            "family_id": start_family(db, row.client_id, user.id),
        }
    taken = db.execute(
        update(DeviceCode)
        .where(DeviceCode.id == row.id, DeviceCode.status == "pending", DeviceCode.expires_at > now())
        .values(**values)
    ).rowcount
    db.commit()
    return bool(taken)


def device_authorization():
    """POST /oauth2/device_authorize: RFC 8628 §3.1 request, §3.2 response, §3.3 errors as RFC 6749 §5.2.

    The client authenticates as at the token endpoint (a public client sends its
    client_id); it must be registered for the device grant and name its scope.
    """
    server = current_app.extensions["demo_authserver"]["server"]
    oauth_request = server.create_oauth2_request(request)
    try:
        client = server.authenticate_client(oauth_request, TOKEN_AUTH_METHODS, "device_authorization")
        if not client.check_grant_type(DEVICE_CODE_GRANT):
            raise UnauthorizedClientError(
                description="The client is not registered for the device authorization grant (RFC 8628)."
            )
        scope = request.form.get("scope")
        if not scope:
            raise InvalidScopeError(description="Name the scopes to ask for (e.g. openid profile).")
        scope = " ".join(dict.fromkeys(check_client_scope(client, scope)))
    except OAuth2Error as error:
        return server.handle_error_response(oauth_request, error)
    config = current_app.config
    lifetime, interval = int(config["DEVICE_CODE_LIFETIME"]), int(config["DEVICE_CODE_INTERVAL"])
    db = get_db()
    db.execute(delete(DeviceCode).where(DeviceCode.expires_at < now()))  # done with: make room
    for _attempt in range(5):  # a user code already taken (1 in 2.5e10 per code in use): another
        device_code, user_code = secrets.token_urlsafe(32), new_user_code()
        db.add(
            DeviceCode(
                device_code_hash=hash_token(device_code),
                user_code_hash=hash_token(normalize_user_code(user_code) or ""),
                client_id=client.client_id,
                scope=scope,
                interval=interval,
                expires_at=int(time.time()) + lifetime,
                issuer=issuer(),
            )
        )
        try:
            db.commit()
            break
        except IntegrityError:
            db.rollback()
    else:  # pragma: no cover - five collisions in a row
        raise RuntimeError("could not make a unique user code")
    verification_uri = public_base() + url_for("device.verify")
    response = jsonify(
        {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": f"{verification_uri}?user_code={user_code}",
            "expires_in": lifetime,
            "interval": interval,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
