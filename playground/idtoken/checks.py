"""The checks of OpenID Connect Core §3.1.3.7 (with §3.2.2.11 and §3.3.2.12), one small function
each: it takes the claim (ABSENT when the token lacks it) and what it is held to, and returns a
Check that passed (True), failed (False) or was not made or does not apply (None), with a detail
naming the values compared."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any, NamedTuple

from .. import tokens
from ..results import is_time, relative, utc
from ..tokens import Check

MAX_SUB_LENGTH = 255  # §2: "It MUST NOT exceed 255 ASCII [RFC20] characters in length."
SHOWN_CHARS = 80  # a claim value is quoted in a detail up to this length: the server writes them

#: A claim the token does not have (None would be a JSON null, which some servers send).
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "absent"})()


def shown(value: Any) -> str:
    """A claim value quoted for a detail, cut short: a hostile server could send a megabyte."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def when(ts: float, now: float) -> str:
    """'2025-01-01 12:00:00 UTC (3 min ago)'."""
    return f"{utc(ts)} ({relative(ts, now)})"


class Signed(NamedTuple):
    """The Signature check, the JWK that verified it, the JWKS used, and whether it was refetched."""

    check: Check
    key: dict[str, Any] | None
    jwks: dict[str, Any] | None
    refetched: bool


def signature(
    token: str,
    header: dict[str, Any],
    claims: dict[str, Any],
    client_secret: str | None,
    jwks: dict | None,
    refetch_jwks: Callable[[], dict | None] | None,
) -> Signed:
    """tokens.signature_check (its JWKS limits; HS* with the client secret only, RFC 8725 §2.1),
    once more with a fresh JWKS when no key could be tried: the server may have rotated its keys."""
    alg = header["alg"]
    result = tokens.signature_check(token, header, jwks, client_secret)
    refetched = False
    if result.key_missing and refetch_jwks is not None:
        kid = header.get("kid")
        missing = f"The kid {kid!r} was not in the JWKS" if kid is not None else f"The JWKS had no {alg} key"
        refetched = True
        fresh = refetch_jwks()
        if fresh is None:
            result.check.detail = f"{missing}, and fetching it again failed. {result.check.detail}"
        else:
            jwks = fresh
            result = tokens.signature_check(token, header, fresh, client_secret)
            how = (
                ", nor in the JWKS fetched again (a key rotation would have put it there)"
                if result.key_missing
                else "; the JWKS fetched again (the server rotated its keys) has it"
            )
            result.check.detail = f"{missing}{how}: {result.check.detail}"
    check = result.check
    if alg in tokens.SYMMETRIC and not client_secret:
        # §10.1: an HS* ID token is MACed with the client secret; a client without one (public)
        # cannot have been sent one by its server: algorithm confusion (RFC 8725 §2.1).
        check = tokens.Check(
            "Signature",
            False,
            f"{alg} is MACed with a shared secret, and this client has none (a public client): its server "
            "cannot have made it (OIDC Core §10.1; algorithm confusion, RFC 8725 §2.1).",
        )
    if alg == "none":
        check.detail += " §2: an ID token is signed unless the client registered none for the code flow."
    elif alg in tokens.SYMMETRIC and check.ok is True:
        check.detail += " (§10.1: the client secret is the key; JWKS keys are never tried for HS*.)"
    elif alg in tokens.SYMMETRIC and check.ok is False:
        check.detail += (
            " (§10.1: the client secret is the key. JWKS keys are never tried for HS*, so a token MACed "
            "with the server's public key fails here: algorithm confusion, RFC 8725 §2.1.)"
        )
    aud = claims.get("aud")
    if alg in tokens.SYMMETRIC and isinstance(aud, list) and len(aud) > 1:
        check.detail += " With several audiences, §3.1.3.7 step 8 leaves an HS* ID token unspecified."
    embedded = [name for name in ("jku", "jwk", "x5u", "x5c") if name in header]
    if embedded:
        check.detail += (
            f" The header's {', '.join(embedded)} is ignored: keys come from the server's JWKS "
            "(§2: ID tokens SHOULD NOT carry them; RFC 8725 §3.10)."
        )
    return Signed(check, result.key, jwks, refetched)


def algorithm(alg: str, allowed: list[str] | None) -> Check:
    """§3.1.3.7 step 7: RS256, or what the client registered; RFC 8725 §3.1: hold alg to a list."""
    if alg == "none":
        return Check("Algorithm", False, "alg is none: an unsigned ID token (§2, RFC 8725 §3.1).")
    if allowed:
        listed = ", ".join(allowed)
        if alg in allowed:
            return Check("Algorithm", True, f"alg is {alg}, one of the algorithms expected ({listed}).")
        return Check(
            "Algorithm",
            False,
            f"alg is {shown(alg)}, not one of the algorithms expected for ID tokens ({listed}; "
            "RFC 8725 §3.1).",
        )
    if alg == "RS256":
        return Check(
            "Algorithm", True, "alg is RS256, the default for ID tokens (§3.1.3.7 step 7); no list to check."
        )
    return Check(
        "Algorithm",
        None,
        f"alg is {shown(alg)}: not checked. §3.1.3.7 step 7 expects RS256 unless the client registered "
        "another; neither that nor the server's id_token_signing_alg_values_supported is known.",
    )


def issuer(iss: Any, expected: str | None) -> Check:
    """§3.1.3.7 step 2: iss equals the issuer exactly (§16.15: one host may serve several)."""
    if expected is None:
        return Check(
            "Issuer", None, f"iss is {shown(iss)}: not checked, no issuer known (discover it or enter one)."
        )
    if iss == expected:
        return Check("Issuer", True, f"iss is {expected!r}, the issuer expected.")
    hint = ""
    if isinstance(iss, str) and iss.rstrip("/") == expected.rstrip("/"):
        hint = " They differ by a trailing slash only, and the comparison is exact (§16.15)."
    return Check(
        "Issuer", False, f"iss is {shown(iss)}, expected exactly {expected!r} (§3.1.3.7 step 2).{hint}"
    )


def audiences(aud: Any) -> list[str] | None:
    """aud as a list (§2: a string for one audience, else an array of strings), or None."""
    auds = [aud] if isinstance(aud, str) else aud
    if isinstance(auds, list) and auds and all(isinstance(a, str) for a in auds):
        return auds
    return None


def audience_and_azp(aud: Any, azp: Any, client_id: str, trusted: list[str]) -> list[Check]:
    """§3.1.3.7 step 3: this client is an audience and nobody untrusted is; steps 4, 5: azp."""
    auds = audiences(aud)
    if auds is None:
        return [
            Check("Audience", False, f"aud is {shown(aud)}: §2 requires a string or an array of strings."),
            Check("Authorized party", None, "Not checked: the audience could not be read."),
        ]
    # Step 3 says to reject an ID token "if it contains additional audiences not trusted by the
    # Client". Whom a client trusts is the client's to say, so extra audiences fail unless listed
    # in Expected.trusted_audiences: a token meant for several parties is one that a party other
    # than this client holds too, and could present here as if it had signed the user in.
    others = [a for a in auds if a != client_id]
    untrusted = [a for a in others if a not in trusted]
    if client_id not in auds:
        audience = Check(
            "Audience",
            False,
            f"aud is {shown(aud)}; this client {client_id!r} is not in it: the ID token was issued "
            "to another client (§3.1.3.7 step 3).",
        )
    elif untrusted:
        audience = Check(
            "Audience",
            False,
            f"aud is {shown(aud)}: it names this client, but also {', '.join(map(shown, untrusted))}, "
            "not trusted by this client (§3.1.3.7 step 3 says to reject the token).",
        )
    elif others:
        audience = Check(
            "Audience",
            True,
            f"aud is {shown(aud)}: this client, and {', '.join(map(shown, others))}, trusted by this client.",
        )
    else:
        audience = Check("Audience", True, f"aud is {shown(aud)}: this client.")
    # azp. Core 1.0 (and errata set 1) had step 4 "If the ID Token contains multiple audiences,
    # the Client SHOULD verify that an azp Claim is present" and step 5 "If an azp Claim is
    # present, the Client SHOULD verify that its client_id is the Claim Value". Errata set 2
    # leaves azp to extensions (§2, steps 4 and 5) but still allows both checks. The playground
    # keeps them: a token for several audiences without azp does not say which of them it was
    # issued to, and an azp naming another client says it was not issued to this one.
    if azp is ABSENT and len(auds) > 1:
        party = Check(
            "Authorized party",
            False,
            f"No azp claim, though aud names {len(auds)} audiences: nothing says which of them the ID "
            "token was issued to (Core 1.0 §3.1.3.7 step 4).",
        )
    elif azp is ABSENT:
        party = Check("Authorized party", None, "No azp claim: none needed with a single audience (§2).")
    elif azp == client_id:
        party = Check("Authorized party", True, f"azp is {client_id!r}, this client.")
    else:
        party = Check(
            "Authorized party",
            False,
            f"azp is {shown(azp)}, not this client {client_id!r}: the ID token was issued to another "
            "party (§2, §3.1.3.7 step 5).",
        )
    return [audience, party]


def subject(sub: Any) -> Check:
    """§2: sub is required, a case-sensitive string of at most 255 ASCII characters."""
    if sub is ABSENT:
        return Check("Subject", False, "No sub claim: §2 requires one (the user's identifier at the issuer).")
    if not isinstance(sub, str) or not sub:
        return Check("Subject", False, f"sub is {shown(sub)}: §2 requires a non-empty string.")
    if not sub.isascii():
        return Check("Subject", False, f"sub is {shown(sub)}: §2 allows ASCII characters only.")
    if len(sub) > MAX_SUB_LENGTH:
        return Check("Subject", False, f"sub has {len(sub)} characters; §2 allows at most {MAX_SUB_LENGTH}.")
    return Check("Subject", True, f"sub is {sub!r}.")


def expiry(exp: Any, now: float, leeway: int) -> Check:
    """§3.1.3.7 step 9: now is before exp (with the small leeway for clock skew of §2)."""
    if exp is ABSENT:
        return Check("Expiry", False, "No exp claim: §2 requires one.")
    if not is_time(exp):
        return Check("Expiry", False, f"exp is {shown(exp)}: not a time (§2: seconds since 1970).")
    if now < exp + leeway:
        return Check(
            "Expiry", True, f"exp is {when(exp, now)}: not expired (allowing {leeway} s of clock skew)."
        )
    return Check(
        "Expiry",
        False,
        f"exp is {when(exp, now)}: expired, even allowing {leeway} s of clock skew (§3.1.3.7 step 9).",
    )


def issued_at(iat: Any, now: float, leeway: int) -> Check:
    """§2 requires iat; §3.1.3.7 step 10 lets the client refuse odd ones: here, one from the future."""
    if iat is ABSENT:
        return Check("Issued at", False, "No iat claim: §2 requires one.")
    if not is_time(iat):
        return Check("Issued at", False, f"iat is {shown(iat)}: not a time (§2: seconds since 1970).")
    if iat > now + leeway:
        return Check(
            "Issued at",
            False,
            f"iat is {when(iat, now)}: issued in the future, beyond the {leeway} s of clock skew allowed "
            "(§3.1.3.7 step 10). The server's clock, or the token, is wrong.",
        )
    return Check(
        "Issued at", True, f"iat is {when(iat, now)}: not in the future (allowing {leeway} s of clock skew)."
    )


def nonce(got: Any, sent: str | None, required: bool, refreshed: bool) -> Check:
    """§3.1.3.7 step 11: the nonce sent comes back unchanged; §3.2.2.11: required when implicit/hybrid."""
    if sent is not None:
        if got is ABSENT:
            return Check(
                "Nonce",
                False,
                f"No nonce claim, but the authorization request sent {sent!r} (§3.1.3.7 step 11).",
            )
        if got != sent:
            return Check(
                "Nonce",
                False,
                f"nonce is {shown(got)}, but the authorization request sent {sent!r}: the ID token "
                "belongs to another authorization request, or is replayed (§3.1.3.7 step 11).",
            )
        return Check("Nonce", True, f"nonce is {sent!r}, the value the authorization request sent.")
    if required:
        return Check(
            "Nonce",
            False,
            "The implicit and hybrid flows require a nonce (§3.2.2.1, §3.2.2.11), and the authorization "
            f"request sent none (the ID token's nonce is {shown(got)}).",
        )
    if refreshed:
        return Check(
            "Nonce", None, "A refreshed ID token: its nonce is compared with the original's (§12.2)."
        )
    if got is not ABSENT:
        return Check(
            "Nonce", None, f"nonce is {shown(got)}, but no nonce was sent: nothing to compare it with."
        )
    return Check("Nonce", None, "No nonce was sent, and the ID token has none.")


#: name -> (what is hashed, where defined, when it is required, when it is not)
HASHED = {
    "at_hash": (
        "access token",
        "§3.1.3.6, §3.2.2.9",
        "with response_type id_token token (§3.2.2.10)",
        "optional unless the ID token comes with an access token from the authorization endpoint (§3.2.2.10)",
    ),
    "c_hash": (
        "authorization code",
        "§3.3.2.10",
        "in a hybrid authorization response with a code (§3.3.2.11)",
        "only a hybrid authorization response requires one (§3.3.2.11)",
    ),
}


def half_hash(value: str, alg: str, crv: str | None = None) -> tuple[str, str] | None:
    """at_hash / c_hash of `value`: the name of the alg's hash and the base64url left half of
    the hash; None when the alg names no hash.

    *256 -> SHA-256, *384 -> SHA-384, *512 -> SHA-512 (RFC 7518 §3). EdDSA names no hash; for an
    Ed25519 key it is SHA-512 and for Ed448 SHAKE256 (114 octets), the hashes of RFC 8032 §5.1 and
    §5.2, as the OpenID Connect working group settled (openid/connect issue 1125). The demo server
    (through Authlib) uses SHA-512 for EdDSA; without the key's crv, Ed25519 is assumed.
    """
    data = value.encode("utf-8")
    if alg == "Ed448" or (alg == "EdDSA" and crv == "Ed448"):
        name, digest = "SHAKE256", hashlib.shake_256(data).digest(114)
    elif alg == "Ed25519" or alg == "EdDSA":
        name = "SHA-512" if crv or alg == "Ed25519" else "SHA-512 (as for an Ed25519 key)"
        digest = hashlib.sha512(data).digest()
    elif alg[:2] in ("RS", "PS", "ES", "HS") and alg[2:5] in ("256", "384", "512"):
        name, digest = f"SHA-{alg[2:5]}", hashlib.new(f"sha{alg[2:5]}", data).digest()
    else:
        return None
    return name, base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def hashed(name: str, claims: dict[str, Any], value: str | None, alg: str, crv: Any, required: bool) -> Check:
    """at_hash or c_hash: binds the access token or the code to this ID token (§16.11)."""
    label, where, when_required, when_not = HASHED[name]
    got = claims.get(name, ABSENT)
    if got is ABSENT:
        if required:
            return Check(name, False, f"No {name} claim: it is required {when_required}.")
        return Check(name, None, f"No {name} claim: {when_not}.")
    if value is None:
        return Check(name, None, f"{name} is {shown(got)}; the {label} is not known here to compare it with.")
    computed = half_hash(value, alg, crv if isinstance(crv, str) else None)
    if computed is None:
        return Check(
            name, None, f"{name} is {shown(got)}, but alg {shown(alg)} names no hash to check it with."
        )
    hash_name, want = computed
    if got == want:
        return Check(
            name, True, f"{name} is {want!r}: the left half of the {hash_name} of the {label} ({where})."
        )
    return Check(
        name,
        False,
        f"{name} is {shown(got)}, but the left half of the {hash_name} of the {label} is {want!r}: the "
        f"{label} is not the one this ID token was issued with ({where}, §16.11).",
    )


def auth_time(value: Any, max_age: int | None, now: float, leeway: int) -> Check:
    """§2: auth_time is required when max_age was sent; §3.1.3.7 step 13: not too long ago then."""
    if value is ABSENT:
        if max_age is not None:
            return Check(
                "auth_time",
                False,
                f"No auth_time claim, but the authorization request sent max_age={max_age}: §2 makes "
                "auth_time required then.",
            )
        return Check("auth_time", None, "No auth_time claim (optional when no max_age is sent, §2).")
    if not is_time(value):
        return Check("auth_time", False, f"auth_time is {shown(value)}: not a time (§2).")
    signed_in = when(value, now)
    if value > now + leeway:
        return Check(
            "auth_time", False, f"auth_time is {signed_in}: in the future, beyond {leeway} s of clock skew."
        )
    if max_age is None:
        return Check(
            "auth_time", None, f"The user signed in at {signed_in}; no max_age was sent to hold it to."
        )
    age = int(now - value)
    if age <= max_age + leeway:
        return Check(
            "auth_time",
            True,
            f"The user signed in at {signed_in}, within max_age={max_age} s "
            f"(allowing {leeway} s of clock skew).",
        )
    return Check(
        "auth_time",
        False,
        f"The user signed in at {signed_in}, {age} s ago: more than max_age={max_age} s, even allowing "
        f"{leeway} s of clock skew. The server should have asked them to sign in again "
        "(§3.1.2.1, §3.1.3.7 step 13).",
    )
