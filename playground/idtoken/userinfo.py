"""OpenID Connect Core §5.3.4: a UserInfo response is about the user of the ID token, or not used."""

from __future__ import annotations

from typing import Any

from ..tokens import Check
from .checks import ABSENT, shown


def userinfo_check(userinfo: Any, id_token_claims: dict[str, Any]) -> Check:
    """The UserInfo sub MUST exactly match the ID token's; if not, its claims MUST NOT be used
    (§5.3.4), since they may be another user's (a token substitution, §16.11)."""
    got = userinfo.get("sub", ABSENT) if isinstance(userinfo, dict) else ABSENT
    want = id_token_claims.get("sub", ABSENT)
    if got is ABSENT:
        return Check("UserInfo subject", False, "The UserInfo response has no sub (§5.3.2 requires one).")
    if want is ABSENT:
        return Check("UserInfo subject", None, f"UserInfo's sub is {shown(got)}; the ID token has none.")
    if got == want:
        return Check("UserInfo subject", True, f"sub is {shown(got)} in both UserInfo and the ID token.")
    return Check(
        "UserInfo subject",
        False,
        f"UserInfo's sub is {shown(got)}, the ID token's {shown(want)}: its claims are about someone "
        "else and MUST NOT be used (§5.3.4).",
    )
