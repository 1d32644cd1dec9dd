"""ID token validation (playground/idtoken/): single checks on claims as a server could send them."""

from __future__ import annotations

import pytest

from playground import idtoken

# -- single checks, on claims as a server could send them --------------------------------------


def test_half_hash_matches_the_specs_examples_and_the_demo_servers_hashes():
    # OpenID Connect Core Appendix A's examples (RS256).
    assert idtoken.half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256") == (
        "SHA-256",
        "77QmUPtjPfzWtF2AnpK9RQ",
    )
    assert idtoken.half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk", "RS256")[1] == (
        "LDktKdoQak3Pk0cnXxCltA"
    )
    from playground.authserver.oidc import half_hash as demo_half_hash

    for alg, size in [("ES384", 32), ("PS512", 43), ("HS256", 22), ("EdDSA", 43)]:
        name, value = idtoken.half_hash("some-token", alg, "Ed25519" if alg == "EdDSA" else None)
        assert value == demo_half_hash("some-token", alg) and len(value) == size, alg
    assert idtoken.half_hash("some-token", "EdDSA", "Ed448")[0] == "SHAKE256"
    assert len(idtoken.half_hash("some-token", "Ed448")[1]) == 76  # 57 octets
    assert idtoken.half_hash("x", "none") is None and idtoken.half_hash("x", "RS1") is None


@pytest.mark.parametrize(
    "sub, ok, words",
    [
        ("24400320", True, "sub is '24400320'"),
        ("x" * 255, True, "sub is"),
        ("x" * 256, False, "256 characters; §2 allows at most 255"),
        ("ünïcode", False, "ASCII characters only"),
        (24400320, False, "non-empty string"),
        ("", False, "non-empty string"),
    ],
)
def test_subject(sub, ok, words):
    from playground.idtoken import checks

    result = checks.subject(sub)
    assert result.ok is ok and words in result.detail


def test_issuer_audience_and_long_values():
    from playground.idtoken import checks

    slash = checks.issuer("https://op.example/", "https://op.example")
    assert slash.ok is False and "trailing slash only" in slash.detail
    hostile = checks.audience_and_azp({"not": "a list"}, checks.ABSENT, "c", [])
    assert [c.ok for c in hostile] == [False, None] and "array of strings" in hostile[0].detail
    long = checks.issuer("https://" + "a" * 10_000, "https://op.example")
    assert len(long.detail) < 300 and "…" in long.detail  # a megabyte claim is not echoed whole
