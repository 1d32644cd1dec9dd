"""The keys the demo server signs with, kept in its store."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .context import get_db
from .models import SigningKey

JWT_ALG = "RS256"


def signing_key() -> RSAKey:
    """The current signing key, generated and stored on first use.

    Kept in the database, so instances sharing a store share the key and
    tokens verify across restarts.
    """
    cache = current_app.extensions["demo_authserver"]
    if cache.get("key") is None:
        cache["key"] = load_or_create_key(get_db())
    return cache["key"]


def load_or_create_key(db: Session) -> RSAKey:
    """The stored RSA key, or a new one saved for the next start.

    Instances that start together may each store a key; all of them pick the
    same one (oldest, then by kid), and the JWKS publishes every stored key.
    """
    row = db.scalar(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid))
    if row is None:
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": JWT_ALG}, private=True)
        kid = key.thumbprint()
        key = RSAKey.import_key({**key.as_dict(private=True), "kid": kid})
        db.add(SigningKey(kid=kid, private_jwk=json.dumps(key.as_dict(private=True))))
        try:
            db.commit()
        except IntegrityError:  # another instance won the race: use its key
            db.rollback()
        row = db.scalar(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid))
    return RSAKey.import_key(json.loads(row.private_jwk))


def public_jwks() -> dict[str, Any]:
    """The JWKS document: every stored key, public parts only."""
    signing_key()  # make sure there is one
    rows = get_db().scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)).all()
    return KeySet([RSAKey.import_key(json.loads(r.private_jwk)) for r in rows]).as_dict(private=False)
