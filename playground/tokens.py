"""Looking inside an access token: decode a JWT (RFC 7519, RFC 9068) and verify it.

Signatures are checked with joserfc against the server's JWKS (or the client secret
for HS*), never by hand. No Flask here.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet, OctKey

#: Signature algorithms the playground verifies (RFC 7518 §3.1, RFC 8037, RFC 9864).
ASYMMETRIC = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "ES256K",
    "EdDSA", "Ed25519", "Ed448",
}  # fmt: skip
SYMMETRIC = {"HS256", "HS384", "HS512"}
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP", "HS": "oct"}


@dataclass
class Check:
    """One verification step: passed (True), failed (False) or not made (None), and why."""

    name: str
    ok: bool | None
    detail: str


@dataclass
class TokenView:
    """What the playground can tell about a token."""

    is_jwt: bool
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    note: str = ""

    @property
    def verified(self) -> bool:
        """Signature good and no check failed."""
        return any(c.name == "Signature" and c.ok for c in self.checks) and not any(
            c.ok is False for c in self.checks
        )


def _b64json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def inspect(token: str) -> TokenView:
    """Decode without verifying: a JWT's header and claims, or why it is opaque."""
    parts = token.strip().split(".")
    if len(parts) == 5:
        return TokenView(False, note="This is a JWE (an encrypted JWT): only the server can read it.")
    if len(parts) != 3:
        return TokenView(
            False,
            note="This token is opaque: it means something only to the server that issued it. "
            "Introspection (RFC 7662) is how to learn what it carries.",
        )
    try:
        header, claims = _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, UnicodeError, binascii.Error, RecursionError):
        return TokenView(False, note="This token has three dot-separated parts but is not a JWT.")
    # RFC 7515 §4.1.1: alg is a case-sensitive string; anything else is not a JWS.
    if not isinstance(header, dict) or not isinstance(claims, dict) or not isinstance(header.get("alg"), str):
        return TokenView(False, note="This token has three dot-separated parts but is not a JWT.")
    return TokenView(True, header=header, claims=claims)


def _time(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _signature_check(token: str, header: dict[str, Any], jwks: Any, client_secret: str | None) -> Check:
    """Verify the signature with the JWKS (kid matched) or, for HS*, the client secret."""
    alg = header.get("alg")
    if alg == "none":
        return Check("Signature", False, "The token is unsigned (alg none): anyone could have made it.")
    if alg in SYMMETRIC:
        if not client_secret:
            return Check("Signature", None, f"{alg} is signed with a shared secret: enter the client secret.")
        # OctKey(...) directly: import_key would only warn about short secrets, said below instead.
        raw = client_secret.encode("utf-8")
        keys: list[Any] = [OctKey(raw, raw)]
        source = "the client secret"
    elif alg in ASYMMETRIC:
        if jwks is None:
            return Check("Signature", None, "Not verified: enter the JWKS URI (or discover it).")
        try:
            key_set = KeySet.import_key_set(jwks)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            return Check("Signature", False, f"The JWKS could not be read: {exc}.")
        kty = KEY_TYPES.get(str(alg)[:2])
        keys = [k for k in key_set.keys if k.key_type == kty]
        kid = header.get("kid")
        if kid is not None:
            keys = [k for k in keys if k.kid == kid]
            if not keys:
                listed = ", ".join(str(k.kid) for k in key_set.keys) or "none"
                return Check(
                    "Signature", False, f"No {kty} key with kid {kid!r} in the JWKS (kids: {listed})."
                )
        if not keys:
            return Check("Signature", False, f"The JWKS has no {kty} key for {alg}.")
        source = f"the JWKS key {kid!r}" if kid is not None else "a JWKS key"
    else:
        return Check("Signature", False, f"Unsupported algorithm {alg!r}.")
    for key in keys:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SecurityWarning)  # EdDSA's deprecation note
                jws.deserialize_compact(token, key, algorithms=[alg])
        except (JoseError, ValueError, TypeError):
            continue
        detail = f"{alg} signature verified with {source}."
        if alg in SYMMETRIC and len(client_secret.encode()) < 32:
            detail += f" (A {alg} secret should have at least 256 bits; this one is shorter.)"
        return Check("Signature", True, detail)
    return Check(
        "Signature", False, f"The {alg} signature does not match {source}: wrong key, or tampered token."
    )


def verify(
    token: str,
    jwks: Any = None,
    client_secret: str | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    now: float | None = None,
    leeway: int = 0,
) -> TokenView:
    """Decode and verify: signature, then RFC 9068 §4 / RFC 7519 §4.1 claims, each with its reason."""
    view = inspect(token)
    if not view.is_jwt:
        return view
    now = time.time() if now is None else now
    header, claims = view.header, view.claims
    view.checks.append(_signature_check(token, header, jwks, client_secret))

    typ = str(header.get("typ", ""))
    rfc9068 = typ.lower() in ("at+jwt", "application/at+jwt")
    if rfc9068:
        view.checks.append(Check("Type", True, f"typ is {typ}: an RFC 9068 access token."))
    else:
        view.checks.append(
            Check("Type", None, f"typ is {typ or 'absent'}: a plain JWT, not RFC 9068's at+jwt.")
        )

    if issuer:
        got = claims.get("iss")
        ok = got == issuer
        why = f"iss is {got!r}" + ("." if ok else f", expected {issuer!r}.")
        view.checks.append(Check("Issuer", ok, why))
    else:
        view.checks.append(
            Check("Issuer", None, "Not checked: no issuer to compare with (discover or enter one).")
        )

    aud = claims.get("aud")
    if audience:
        auds = aud if isinstance(aud, list) else [aud]
        ok = audience in auds
        view.checks.append(
            Check("Audience", ok, f"aud is {aud!r}" + ("." if ok else f"; {audience!r} is not in it."))
        )
    else:
        view.checks.append(
            Check("Audience", None, "Not checked: no expected audience (fill in Audience or Resource).")
        )

    exp = claims.get("exp")
    if _time(exp):
        ok = now < exp + leeway
        view.checks.append(Check("Expiry", ok, "Not expired." if ok else "Expired."))
    elif rfc9068:
        view.checks.append(Check("Expiry", False, "No exp claim: RFC 9068 §2.2 requires one."))
    else:
        view.checks.append(Check("Expiry", None, "No exp claim (optional in a plain JWT, RFC 7519 §4.1.4)."))

    nbf = claims.get("nbf")
    if _time(nbf):
        ok = nbf <= now + leeway
        view.checks.append(Check("Not before", ok, "Valid now." if ok else "Not valid yet."))
    else:
        view.checks.append(Check("Not before", None, "No nbf claim."))
    return view
