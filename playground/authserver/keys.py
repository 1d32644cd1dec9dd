"""The keys the demo server signs with, one per algorithm, kept in its store.

RS256 (RSA 2048) signs JWT access tokens and, by default, ID tokens; ES256
(P-256) and EdDSA (Ed25519) sign the ID tokens of clients set to them. Each is
generated on first use and kept in the store, so instances sharing a store sign
alike and tokens verify across restarts; the JWKS publishes every stored key.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import current_app
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .context import get_db
from .models import ServerSecret, SigningKey

JWT_ALG = "RS256"
#: alg -> how to make its key (RFC 7518 §3.3, §3.4; RFC 8037 §3.1).
KEY_MAKERS = {
    "RS256": lambda p: RSAKey.generate_key(2048, parameters=p, private=True),
    "ES256": lambda p: ECKey.generate_key("P-256", parameters=p, private=True),
    "EdDSA": lambda p: OKPKey.generate_key("Ed25519", parameters=p, private=True),
}
KEY_TYPES = {"RSA": RSAKey, "EC": ECKey, "OKP": OKPKey}
#: The JWKS lists RSA first: the key of JWT access tokens, as it always has.
ALG_ORDER = list(KEY_MAKERS)


def import_key(private_jwk: str) -> RSAKey | ECKey | OKPKey:
    """A stored JWK as a joserfc key."""
    data = json.loads(private_jwk)
    return KEY_TYPES[data["kty"]].import_key(data)


def signing_key(alg: str = JWT_ALG) -> RSAKey | ECKey | OKPKey:
    """The current key for `alg`, generated and stored on first use (cached per app)."""
    cache = current_app.extensions["demo_authserver"]["keys"]
    if alg not in cache:
        cache[alg] = load_or_create_key(get_db(), alg)
    return cache[alg]


def _first(db: Session, alg: str) -> SigningKey | None:
    return db.scalar(
        select(SigningKey).where(SigningKey.alg == alg).order_by(SigningKey.created_at, SigningKey.kid)
    )


def load_or_create_key(db: Session, alg: str = JWT_ALG) -> RSAKey | ECKey | OKPKey:
    """The stored key for `alg`, or a new one saved for the next start.

    Instances that start together may each store a key; all of them pick the
    same one (oldest, then by kid), and the JWKS publishes every stored key.
    """
    row = _first(db, alg)
    if row is None:
        key = KEY_MAKERS[alg]({"use": "sig", "alg": alg})
        kid = key.thumbprint()
        data = {**key.as_dict(private=True), "kid": kid}
        db.add(SigningKey(kid=kid, private_jwk=json.dumps(data), alg=alg))
        try:
            db.commit()
        except IntegrityError:  # another instance won the race: use its key
            db.rollback()
        row = _first(db, alg)
    return import_key(row.private_jwk)


def public_jwks() -> dict[str, Any]:
    """The JWKS document: every stored key, public parts only, each with kid, alg and use."""
    signing_key()  # make sure there is one
    rows = get_db().scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)).all()
    rows = sorted(rows, key=lambda r: ALG_ORDER.index(r.alg) if r.alg in ALG_ORDER else len(ALG_ORDER))
    keys = []
    for row in rows:
        public = import_key(row.private_jwk).as_dict(private=False)
        # A key stored without them (one added by hand) still says what it is for.
        public.setdefault("alg", row.alg)
        public.setdefault("use", "sig")
        public.setdefault("kid", row.kid)
        keys.append(public)
    return KeySet.import_key_set({"keys": keys}).as_dict(private=False)


def server_secret(db: Session, name: str) -> str:
    """A random secret of the server itself (e.g. its session key), made once and kept in the store."""
    row = db.get(ServerSecret, name)
    if row is None:
        db.add(ServerSecret(name=name, value=secrets.token_urlsafe(48)))
        try:
            db.commit()
        except IntegrityError:  # another instance made it first: use theirs
            db.rollback()
        row = db.get(ServerSecret, name)
    return row.value
