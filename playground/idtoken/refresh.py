"""OpenID Connect Core §12.2: an ID token that comes with a refresh, held to the original one.

    "its iss Claim Value MUST be the same as in the ID Token issued when the original
    authentication occurred, its sub ... the same, its iat Claim MUST represent the time that
    the new ID Token is issued, its aud ... the same, if the ID Token contains an auth_time
    Claim, its value MUST represent the time of the original authentication ..., its azp ...
    the same; if no azp Claim was present in the original ID Token, one MUST NOT be present in
    the new ID Token", and (errata set 2) it SHOULD NOT have a nonce, but one present MUST be
    the original's.

Every other check of §3.1.3.7 applies to it as well ("otherwise, the same rules apply").
"""

from __future__ import annotations

from typing import Any

from ..results import is_time, utc
from ..tokens import Check
from .checks import ABSENT, audiences, shown


def same_as_original(claims: dict[str, Any], original: dict[str, Any]) -> list[Check]:
    """One check per claim §12.2 names, each saying what the two tokens hold."""

    def get(claim: str) -> tuple[Any, Any]:
        return claims.get(claim, ABSENT), original.get(claim, ABSENT)

    def same(claim: str, ok: bool | None, why: str = "") -> Check:
        new, old = get(claim)
        name = f"Same {claim} as the original"
        if ok:
            return Check(name, True, f"{claim} is {shown(new)}, as in the original.{why}")
        if ok is None:
            return Check(name, None, why)
        return Check(name, False, f"{claim} is {shown(new)}, the original's {shown(old)} (§12.2: {why}).")

    results = [same(claim, get(claim)[0] == get(claim)[1], "it MUST be the same") for claim in ("iss", "sub")]
    new_aud, old_aud = get("aud")
    # A string and a one-element array are the same audience; order does not matter (§2).
    same_aud = audiences(new_aud) is not None and set(audiences(new_aud) or ()) == set(
        audiences(old_aud) or ()
    )
    results.append(same("aud", same_aud, "it MUST be the same"))
    new_azp, old_azp = get("azp")
    rule = (
        "one MUST NOT be present when the original had none" if old_azp is ABSENT else "it MUST be the same"
    )
    results.append(same("azp", new_azp == old_azp, rule))
    new_at, old_at = get("auth_time")
    if new_at is ABSENT:
        results.append(same("auth_time", None, "No auth_time in the refreshed ID token: nothing to compare."))
    else:
        results.append(
            same(
                "auth_time",
                new_at == old_at,
                "it MUST be the time of the original authentication, not of the refresh",
            )
        )
    new_nonce, old_nonce = get("nonce")
    if new_nonce is ABSENT:
        results.append(Check("Same nonce as the original", True, "No nonce, as §12.2 recommends."))
    else:
        results.append(
            same(
                "nonce",
                new_nonce == old_nonce,
                "if present, it MUST be the same"
                if new_nonce != old_nonce
                else " (§12.2: it SHOULD NOT be there.)",
            )
        )
    results.append(newer(*get("iat")))
    return results


def newer(new: Any, old: Any) -> Check:
    """§12.2: the refreshed token's iat is the time it was issued, so not before the original's."""
    name = "Newer than the original"
    if not is_time(new) or not is_time(old):
        return Check(name, None, f"iat is {shown(new)}, the original's {shown(old)}: not both times.")
    if new < old:
        return Check(
            name,
            False,
            f"iat is {utc(new)}, before the original's {utc(old)}: not a newly issued ID token (§12.2).",
        )
    if new == old:
        # iat counts seconds: a refresh within the second of the original has the same iat.
        return Check(name, True, f"iat is {utc(new)}, the same second as the original's.")
    return Check(name, True, f"iat is {utc(new)}, {int(new - old)} s after the original's ({utc(old)}).")
