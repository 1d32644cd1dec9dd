"""Looking inside an access token: decode a JWT (RFC 7519, RFC 9068) and verify it.

Signatures are checked with joserfc against the server's JWKS (or the client secret
for HS*), never by hand. No Flask here.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import JWKRegistry, OctKey

from .exchange import MAX_JSON_DEPTH, too_deep

#: Signature algorithms the playground verifies (RFC 7518 §3.1, RFC 8037, RFC 9864).
ASYMMETRIC = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "ES256K",
    "EdDSA", "Ed25519", "Ed448",
}  # fmt: skip
SYMMETRIC = {"HS256", "HS384", "HS512"}
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP", "HS": "oct"}
#: A JWKS is the server's to write, and a verification runs after the exchange, outside
#: PLAYGROUND_TIMEOUT: these bound what one can cost. Real servers publish a handful of keys.
MAX_JWKS_KEYS = 50  # keys read from a JWKS; the rest are not looked at
MAX_KEYS_TRIED = 3  # keys a signature is checked against (RFC 7517 §4.5: a kid should be unique)
#: RSA keys outside these bounds are refused, not tried: RFC 7518 §3.3 asks for 2048 bits or more;
#: a modulus over 8192 bits or an exponent over 256 bits (FIPS 186-5 §A.1.1 bounds e by 2^256)
#: makes each check slow for no security a real key needs.
RSA_MIN_BITS, RSA_MAX_BITS, RSA_MAX_EXPONENT_BITS = 2048, 8192, 256
#: Private members of a JWK: RSA (RFC 7518 §6.3.2), EC (§6.2.2) and OKP (RFC 8037 §2) keys, and an
#: oct key's whole secret (RFC 7518 §6.4.1). A JWKS published for verification holds none: one that
#: does gives the server's signing key away. They are dropped before import, never used: importing
#: a private RSA key checks its primes, seconds of CPU for hostile values.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})
SECRET_MEMBERS = {"oct": frozenset({"k"})}
#: Key IDs named in a message: the first few, then how many more (a JWKS may list hundreds).
KIDS_LISTED, KID_SHOWN = 5, 40


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
    if too_deep(header) or too_deep(claims):
        return TokenView(
            False, note=f"This JWT's claims nest more than {MAX_JSON_DEPTH} levels deep: not read."
        )
    return TokenView(True, header=header, claims=claims)


def _time(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class SignatureResult:
    """The Signature check, and what a caller needs beyond it.

    `key_missing` says that no JWKS key could be tried at all (no key with the token's kid, or
    with no kid, none of the alg's type): the one case a fresh copy of the JWKS may change, when
    the server has rotated its keys since it was fetched. `key` is the public JWK that verified
    the signature (for EdDSA its crv names the hash of at_hash and c_hash).
    """

    check: Check
    key_missing: bool = False
    key: dict[str, Any] | None = None


@contextlib.contextmanager
def quiet_eddsa() -> Iterator[None]:
    """joserfc warns on every use of `EdDSA` since RFC 9864 deprecated that polymorphic name for
    `Ed25519`; OpenID providers still sign with it, so that one warning is silenced (only it: any
    other SecurityWarning of joserfc still shows)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
        yield


def signature_check(
    token: str, header: dict[str, Any], jwks: Any, client_secret: str | None
) -> SignatureResult:
    """Verify the signature with the JWKS (kid matched) or, for HS*, the client secret only.

    An HS* token is never checked against a JWKS key: a token MACed with the server's public
    key would otherwise pass (algorithm confusion, RFC 8725 §2.1, §3.1). A JWKS that publishes
    private key material is said so; its keys are checked with their public members only, and a
    signature that only a published private key verifies proves nothing.
    """
    alg = header.get("alg")
    if alg == "none":
        return SignatureResult(
            Check("Signature", False, "The token is unsigned (alg none): anyone could have made it.")
        )
    entries: list[dict[str, Any]] = []
    leaked: set[int] = set()  # the candidates (by position) that published private members
    warning = ""
    if alg in SYMMETRIC:
        if not client_secret:
            return SignatureResult(
                Check("Signature", None, f"{alg} is signed with a shared secret: enter the client secret.")
            )
        # OctKey(...) directly: import_key would only warn about short secrets, said below instead.
        raw = client_secret.encode("utf-8")
        keys: list[Any] = [OctKey(raw, raw)]
        source = "the client secret"
    elif alg in ASYMMETRIC:
        if jwks is None:
            return SignatureResult(
                Check("Signature", None, "Not verified: enter the JWKS URI (or discover it).")
            )
        warning = private_key_warning(jwks)
        found = _candidate_keys(jwks, alg, header.get("kid"))
        if isinstance(found, SignatureResult):
            found.check.detail = _warned(found.check.detail, warning)
            return found
        keys, entries, source, leaked = found
    else:
        return SignatureResult(Check("Signature", False, f"Unsupported algorithm {alg!r}."))
    for index, key in enumerate(keys):
        try:
            with quiet_eddsa():
                jws.deserialize_compact(token, key, algorithms=[alg])
        except (JoseError, ValueError, TypeError):
            continue
        used = entries[index] if entries else None
        if index in leaked:
            # RFC 7517 §8.1.1 (key provenance) and §9.2: a published private key signs for anyone.
            detail = (
                f"The {alg} signature matches {source}, but that key's private part is published, so "
                "anyone who fetched the JWKS could have made this token: the signature proves nothing."
            )
            return SignatureResult(Check("Signature", False, _warned(detail, warning)), key=used)
        detail = f"{alg} signature verified with {source}."
        bits = int(alg[2:]) if alg in SYMMETRIC else 0
        if client_secret and alg in SYMMETRIC and len(client_secret.encode()) * 8 < bits:
            # RFC 7518 §3.2: a key at least as long as the hash; OpenID Connect Core §16.19 too.
            detail += f" (A {alg} secret should have at least {bits} bits; this one is shorter.)"
        return SignatureResult(Check("Signature", True, _warned(detail, warning)), key=used)
    return SignatureResult(
        Check(
            "Signature",
            False,
            _warned(f"The {alg} signature does not match {source}: wrong key, or tampered token.", warning),
        )
    )


def short(value: Any) -> str:
    """A server's value (a kid) for a message: its repr, cut at KID_SHOWN characters."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > KID_SHOWN:
        return repr(text[:KID_SHOWN]) + f"… ({len(text):,} characters)"
    return repr(text) if isinstance(value, str) else text


def listing(kids: list[Any]) -> str:
    """Key IDs for a message: the first KIDS_LISTED (each cut), then "and N more"."""
    plain = [k if isinstance(k, str) and len(k) <= KID_SHOWN else short(k) for k in kids[:KIDS_LISTED]]
    shown = ", ".join(plain)
    return shown + (f" and {len(kids) - KIDS_LISTED} more" if len(kids) > KIDS_LISTED else "")


def private_members(entry: Any) -> list[str]:
    """The private (or secret) members a JWK carries, in the JWK's order."""
    if not isinstance(entry, dict):
        return []
    names = PRIVATE_MEMBERS | SECRET_MEMBERS.get(str(entry.get("kty")), frozenset())
    return [name for name in entry if name in names]


def public_part(entry: dict[str, Any]) -> dict[str, Any]:
    """A JWK without its private members: what a public key is (RFC 7517 §4, RFC 7518 §6)."""
    return {name: value for name, value in entry.items() if name not in PRIVATE_MEMBERS}


def private_key_warning(jwks: Any) -> str:
    """What to say when the keys read from a JWKS carry private members, or ""."""
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(entries, list):
        return ""
    found = [(e, private_members(e)) for e in entries[:MAX_JWKS_KEYS]]
    found = [(e, members) for e, members in found if members]
    if not found:
        return ""
    described = [f"kid {short(e.get('kid'))} ({', '.join(members)})" for e, members in found[:KIDS_LISTED]]
    more = f" and {len(found) - KIDS_LISTED} more" if len(found) > KIDS_LISTED else ""
    return (
        f"Warning: the JWKS publishes a private key: {'; '.join(described)}{more}. Whoever can fetch "
        "it can sign tokens as this server: replace the key and publish only its public members "
        "(RFC 7517 §5, RFC 7518 §6). The playground used the public members only."
    )


def _warned(detail: str, warning: str) -> str:
    return f"{detail} {warning}" if warning else detail


def _candidate_keys(
    jwks: Any, alg: str, kid: Any
) -> tuple[list[Any], list[dict[str, Any]], str, set[int]] | SignatureResult:
    """The JWKS keys to check an `alg` signature against, their public JWKs, how to name them,
    and which of them published private members; or a failed check naming what is wrong with the
    JWKS, or which limit it hit.

    The raw key objects are filtered before any is imported, so that a JWKS of hundreds of keys
    or of RSA keys with enormous numbers costs next to nothing; only public members are imported.
    """
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(entries, list):
        return SignatureResult(
            Check("Signature", False, "The JWKS could not be read: it has no keys array (RFC 7517 §5).")
        )
    note = ""
    if len(entries) > MAX_JWKS_KEYS:
        note = f" The JWKS has {len(entries)} keys; the playground reads the first {MAX_JWKS_KEYS}."
        entries = entries[:MAX_JWKS_KEYS]
    kty = KEY_TYPES.get(alg[:2])
    typed = [e for e in entries if isinstance(e, dict) and e.get("kty") == kty]
    matching = typed if kid is None else [e for e in typed if e.get("kid") == kid]
    if not matching:
        if kid is None:
            why = f"The JWKS has no {kty} key for {alg}.{note}"
        else:
            listed = listing([e.get("kid") for e in entries if isinstance(e, dict)]) or "none"
            why = f"No {kty} key with kid {short(kid)} in the JWKS (kids: {listed}).{note}"
        return SignatureResult(Check("Signature", False, why), key_missing=True)
    if len(matching) > MAX_KEYS_TRIED:
        shared = (
            f"{len(matching)} {kty} keys share the kid {short(kid)}"
            if kid is not None
            else (f"The JWKS has {len(matching)} {kty} keys and the token names no kid")
        )
        note += (
            f" {shared}; the playground tries the first {MAX_KEYS_TRIED} (RFC 7517 §4.5: a kid is unique)."
        )
        matching = matching[:MAX_KEYS_TRIED]
    keys, used, refused, leaked = [], [], [], set()
    for entry in matching:
        why = _rsa_key_problem(entry) if kty == "RSA" else None
        if why:
            refused.append(why)
            continue
        public = public_part(entry)
        try:
            keys.append(JWKRegistry.import_key(public))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            refused.append(f"it could not be read ({exc})")
            continue
        if private_members(entry):
            leaked.add(len(used))
        used.append(public)
    if not keys:
        named = f"the JWKS key {short(kid)}" if kid is not None else f"the JWKS's {kty} key"
        return SignatureResult(
            Check("Signature", False, f"Not verified: {named} was refused: {'; '.join(refused)}.{note}")
        )
    source = f"the JWKS key {short(kid)}" if kid is not None else "a JWKS key"
    return keys, used, source + (f" ({note.strip()})" if note else ""), leaked


def _rsa_key_problem(entry: dict[str, Any]) -> str | None:
    """Why an RSA JWK is refused before it is used (see RSA_MIN_BITS), or None."""
    try:
        n = int.from_bytes(_b64(entry.get("n")), "big")
        e = int.from_bytes(_b64(entry.get("e")), "big")
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        return "its n or e is not base64url (RFC 7518 §6.3.1)"
    if e.bit_length() > RSA_MAX_EXPONENT_BITS or e < 3 or e % 2 == 0:
        return (
            f"its exponent e has {e.bit_length()} bits; the playground takes an odd e from 3 to "
            f"{RSA_MAX_EXPONENT_BITS} bits (FIPS 186-5 §A.1.1)"
        )
    if n.bit_length() > RSA_MAX_BITS:
        return f"its modulus has {n.bit_length()} bits; the playground takes at most {RSA_MAX_BITS}"
    if n.bit_length() < RSA_MIN_BITS:
        return f"its modulus has {n.bit_length()} bits; RFC 7518 §3.3 requires {RSA_MIN_BITS} or more"
    return None


def _b64(value: Any) -> bytes:
    """A base64url member of a JWK (RFC 7518 §6.3.1), or ValueError."""
    if not isinstance(value, str) or not value:
        raise ValueError("missing")
    return base64.b64decode((value + "=" * (-len(value) % 4)).encode("ascii"), altchars=b"-_", validate=True)


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
    view.checks.append(signature_check(token, header, jwks, client_secret).check)

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
