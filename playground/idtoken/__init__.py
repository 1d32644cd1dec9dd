"""Validating an ID token check by check (OpenID Connect Core 1.0 incorporating errata set 2).

§3.1.3.7 for the code flow, §3.2.2.11 for the implicit flow (nonce required, at_hash too with
`id_token token`), §3.3.2.12 for the hybrid flow (c_hash), §12.2 for an ID token that came with
a refresh. Every check names the values it compared, so that a person sees *why*; the verdict
calls a token valid only when every check that applies was made and passed. No Flask here.

    view = idtoken.validate(id_token, Expected(client_id, issuer=..., nonce=...), jwks, refetch)
    view.verdict.summary  # "ID token valid: every check passed", or what failed / was not made

The signature is checked even for an ID token from the token endpoint, where §3.1.3.7 step 6
would let TLS stand in for it: showing whether the signature holds is the point of a playground.

checks.py holds the checks of §3.1.3.7, refresh.py those of §12.2, userinfo.py §5.3.4's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import tokens
from ..tokens import Check, TokenView
from . import checks
from .checks import ABSENT, half_hash
from .refresh import same_as_original
from .userinfo import userinfo_check

__all__ = [
    "LEEWAY",
    "REQUIRED",
    "VALID",
    "Expected",
    "IdTokenView",
    "Verdict",
    "half_hash",
    "same_as_original",
    "userinfo_check",
    "validate",
    "verdict",
]

#: Clock skew allowed on exp, iat and auth_time. §2 allows "some small leeway, usually no more
#: than a few minutes"; a minute covers servers kept on time by NTP without stretching a
#: short-lived ID token much (Spring Security and Nimbus use the same).
LEEWAY = 60
#: Checks that must be *made* before a token is called valid: without them nothing ties the
#: token to the server (the other checks only read claims anyone could write).
REQUIRED = ("Signature", "Issuer")
VALID = "ID token valid: every check passed"


@dataclass
class Expected:
    """What the client knows, to hold the ID token to."""

    client_id: str
    #: What iss must equal exactly (from discovery / the Issuer field); None: not checked.
    issuer: str | None = None
    #: HS* ID tokens are MACed with it (§10.1).
    client_secret: str | None = None
    #: The nonce sent in the authorization request, if any.
    nonce: str | None = None
    #: max_age sent in the authorization request, if any.
    max_age: int | None = None
    #: For at_hash, and c_hash.
    access_token: str | None = None
    code: str | None = None
    #: id_token_signing_alg_values_supported (or the client's registered alg), when known.
    allowed_algs: list[str] | None = None
    #: The implicit and hybrid flows (§3.2.2.11, §3.3.2.11).
    require_nonce: bool = False
    #: The implicit flow with response_type "id_token token" (§3.2.2.10).
    require_at_hash: bool = False
    #: The hybrid flow: an ID token from the authorization endpoint with a code (§3.3.2.11).
    require_c_hash: bool = False
    #: The claims of the ID token of the original authentication, for a refreshed one (§12.2).
    original: dict[str, Any] | None = None
    #: Audiences besides client_id this client trusts (§3.1.3.7 step 3); others fail Audience.
    trusted_audiences: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """The one line a person reads first, and the names of the checks behind it."""

    valid: bool
    summary: str
    failed: list[str] = field(default_factory=list)
    not_made: list[str] = field(default_factory=list)


@dataclass
class IdTokenView(TokenView):
    """A decoded ID token with its checks and verdict. `jwks` is the key set the signature was
    checked with (after a key rotation the fresh one, worth keeping); `jwks_refetched` says
    whether refetch_jwks was called."""

    verdict: Verdict = field(default_factory=lambda: Verdict(False, ""))
    jwks: dict[str, Any] | None = None
    jwks_refetched: bool = False


def validate(
    token: str,
    expected: Expected,
    jwks: dict | None,
    refetch_jwks: Callable[[], dict | None] | None = None,
    now: float | None = None,
    leeway: int = LEEWAY,
) -> IdTokenView:
    """Decode the ID token and run every check of §3.1.3.7 (and §3.2.2.11, §3.3.2.12, §12.2) on it.

    `refetch_jwks` is called at most once, when no key of `jwks` can be tried (the token's kid
    is not there: the server may have rotated its keys since); it returns the JWKS fetched
    again, or None when that failed. Its own errors are the caller's.
    """
    now = time.time() if now is None else now
    seen = tokens.inspect(token)
    view = IdTokenView(seen.is_jwt, seen.header, seen.claims, note=seen.note, jwks=jwks)
    if not seen.is_jwt:
        if token.strip().count(".") == 4:
            view.checks.append(
                Check(
                    "Signature",
                    None,
                    "Encrypted: not checked. This ID token is a JWE (§3.1.3.7 step 1, §16.14): only "
                    "the client's decryption key opens it, and the playground does not hold one.",
                )
            )
        else:
            view.checks.append(Check("Format", False, f"{seen.note} An ID token is a signed JWT (§2)."))
        view.verdict = verdict(view.checks)
        return view
    claims, alg = view.claims, view.header["alg"]
    signed = checks.signature(token, view.header, claims, expected.client_secret, jwks, refetch_jwks)
    view.jwks, view.jwks_refetched = signed.jwks, signed.refetched
    crv = signed.key.get("crv") if signed.key else None
    view.checks += [
        signed.check,
        checks.algorithm(alg, expected.allowed_algs),
        checks.issuer(claims.get("iss", ABSENT), expected.issuer),
        *checks.audience_and_azp(
            claims.get("aud", ABSENT),
            claims.get("azp", ABSENT),
            expected.client_id,
            expected.trusted_audiences,
        ),
        checks.subject(claims.get("sub", ABSENT)),
        checks.expiry(claims.get("exp", ABSENT), now, leeway),
        checks.issued_at(claims.get("iat", ABSENT), now, leeway),
        checks.nonce(
            claims.get("nonce", ABSENT), expected.nonce, expected.require_nonce, expected.original is not None
        ),
        checks.hashed("at_hash", claims, expected.access_token, alg, crv, expected.require_at_hash),
        checks.hashed("c_hash", claims, expected.code, alg, crv, expected.require_c_hash),
        checks.auth_time(claims.get("auth_time", ABSENT), expected.max_age, now, leeway),
    ]
    if expected.original is not None:
        view.checks += same_as_original(claims, expected.original)
    view.verdict = verdict(view.checks)
    return view


def verdict(results: list[Check]) -> Verdict:
    """Valid only if nothing failed and every REQUIRED check was made; else say which did not."""
    failed = [c.name for c in results if c.ok is False]
    not_made = [c.name for c in results if c.ok is None and c.name in REQUIRED]
    if failed:
        return Verdict(False, "ID token not valid: " + ", ".join(failed), failed, not_made)
    if not_made:
        return Verdict(False, f"ID token not verified: {' and '.join(not_made)} not checked", [], not_made)
    return Verdict(True, VALID)
