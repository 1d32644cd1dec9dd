"""Discovery: find a server's metadata (RFC 8414, OpenID Connect Discovery) and what it fills in.

No Flask here: a URL in, a Discovery record out. Every attempt's exchange is kept to show (the
whole body of the last one only).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from .client import CLIENT_AUTH_METHODS, discovery_urls, get_json, issuer_of
from .outbound import Outbound, OutboundError
from .results import Outcome, Problem, explain_transport

#: Form fields filled from metadata members (RFC 8414 §2, RFC 7662 §4, RFC 7009 §3).
FILLS = {
    "authorization_endpoint": "authorization_endpoint",
    "token_endpoint": "token_endpoint",
    "introspection_endpoint": "introspection_endpoint",
    "revocation_endpoint": "revocation_endpoint",
    "jwks_uri": "jwks_uri",
    "userinfo_endpoint": "userinfo_endpoint",  # OpenID Connect Discovery §3
    "logout_endpoint": "end_session_endpoint",  # RP-Initiated Logout 1.0 §2.1
    "device_authorization_endpoint": "device_authorization_endpoint",  # RFC 8628 §4
}
#: Metadata members shown first, when present.
HIGHLIGHTS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "jwks_uri",
    "device_authorization_endpoint",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_methods_supported",
    "scopes_supported",
)


@dataclass
class Discovery:
    """The attempts made, the metadata found, and what it fills in or leaves out."""

    given: str
    attempts: list[Outcome] = field(default_factory=list)
    url: str | None = None
    metadata: dict[str, Any] | None = None
    fills: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: Problem | None = None

    @property
    def found(self) -> bool:
        return self.metadata is not None


#: Of an attempt before the last, this much of its body is kept: the whole of each (up to
#: PLAYGROUND_MAX_RESPONSE_BYTES) would multiply what one Discover holds by six.
EARLIER_BODY = 2000


def _earlier(outcome: Outcome) -> Outcome:
    """An attempt that is no longer the last: its status and headers, the start of its body."""
    exchange = outcome.exchange
    if exchange is None or exchange.response is None or len(exchange.response.body) <= EARLIER_BODY:
        return outcome
    body = exchange.response.body
    response = replace(exchange.response, body=body[:EARLIER_BODY], dropped=len(body) - EARLIER_BODY)
    return replace(outcome, exchange=replace(exchange, response=response))


def choose_client_auth(metadata: dict[str, Any]) -> tuple[str, str]:
    """The client authentication method to use, and why.

    RFC 8414 §2: when token_endpoint_auth_methods_supported is absent, the default
    is client_secret_basic.
    """
    supported = metadata.get("token_endpoint_auth_methods_supported")
    if not isinstance(supported, list):
        return (
            "client_secret_basic",
            "The server lists no methods: client_secret_basic is the RFC 8414 default.",
        )
    for method in ("client_secret_basic", "client_secret_post"):
        if method in supported:
            return method, f"The server lists {', '.join(map(str, supported))}: {method} is used."
    return "client_secret_basic", (
        f"The server lists only {', '.join(map(str, supported))}, which the playground does not offer "
        "for a client secret; HTTP Basic is left chosen."
    )


def issuer_matches(issuer: Any, location: str) -> bool:
    """RFC 8414 §3.3 / OIDC Discovery §4.3: the document's issuer is the one its location was built from.

    Both RFCs remove a terminating "/" of the issuer before adding the well-known
    part, so `https://idp.example/` may answer at `https://idp.example/.well-known/...`.
    """
    return isinstance(issuer, str) and issuer.rstrip("/") == issuer_of(location) and issuer != ""


def discover(outbound: Outbound, given: str, insecure: bool = False) -> Discovery:
    """Try each well-known location of `given` until one answers with metadata for its own issuer.

    Every endpoint field is filled from that metadata or emptied: an endpoint of the
    server used before must never receive this server's tokens and secrets.
    """
    result = Discovery(given=given)
    mismatched: Outcome | None = None  # the last document for another issuer, and that issuer
    mismatched_issuer: Any = None
    # All the locations together get the policy's timeout, as one request would.
    deadline = time.monotonic() + outbound.policy.timeout
    too_slow = Problem(
        f"Discovery stopped after {outbound.policy.timeout:g} s.",
        f"The server answered too slowly at the well-known locations of {given}.",
        [
            "Enter the full URL of the server's discovery document, so only it is asked for.",
            "If the server is just slow, raise PLAYGROUND_TIMEOUT (seconds).",
        ],
    )
    for url in discovery_urls(given):
        if result.attempts:  # only the last attempt's answer is kept whole
            result.attempts[-1] = _earlier(result.attempts[-1])
        remaining = deadline - time.monotonic()
        if remaining < 0.05:
            result.problem = too_slow
            return result
        try:
            # The first gets the whole timeout; the others what is left of it.
            exchange = get_json(
                outbound, url, insecure=insecure, timeout=remaining if result.attempts else None
            )
        except OutboundError as err:
            # The same origin will not answer better at the next path: stop here.
            result.attempts.append(Outcome(err.exchange, problem=explain_transport(err)))
            cut_short = err.kind == "timeout" and len(result.attempts) > 1  # by the shared deadline
            result.problem = too_slow if cut_short else result.attempts[-1].problem
            return result
        data = exchange.json()
        status = exchange.response.status if exchange.response else 0
        if status == 200 and isinstance(data, dict) and ("issuer" in data or "token_endpoint" in data):
            if issuer_matches(data.get("issuer"), url):
                result.attempts.append(Outcome(exchange, data=data))
                result.url, result.metadata = url, data
                break
            # RFC 8414 §3.3: "If these values are not identical, the data contained in
            # the response MUST NOT be used." Look further; say so if nothing else answers.
            named = data.get("issuer")
            detail = (
                f"The document names issuer {named!r}, but a document at {url} must name "
                f"{issuer_of(url)!r} (RFC 8414 §3.3, OpenID Connect Discovery §4.3)."
                if isinstance(named, str)
                else f"The document at {url} names no issuer, which RFC 8414 §2 requires."
            )
            mismatched = Outcome(exchange, problem=Problem("Metadata for another issuer: not used.", detail))
            mismatched_issuer = named
            result.attempts.append(mismatched)
            continue
        result.attempts.append(Outcome(exchange, problem=Problem(f"No metadata here (HTTP {status}).", url)))
    if result.metadata is None:
        if mismatched is not None and mismatched.problem is not None:
            named = mismatched_issuer
            result.problem = Problem(
                "Metadata found, but only for another issuer.",
                mismatched.problem.detail,
                [
                    f"If {named!r} is the server you mean, enter it as the issuer and click Discover again."
                    if isinstance(named, str) and named
                    else "The document names no issuer: the server's metadata is not usable.",
                    "Nothing was filled in: a document that is not its issuer's own could send your "
                    "client secret elsewhere.",
                ],
            )
        else:
            result.problem = Problem(
                "No metadata found.",
                f"None of the well-known locations of {given} answered with a metadata document.",
                [
                    "Enter the issuer exactly as the server names it (WSO2 IS: "
                    "https://localhost:9443/oauth2/token; Keycloak: https://host/realms/REALM), "
                    "or the full URL of its discovery document.",
                    "Servers without discovery: fill in the endpoints by hand.",
                ],
            )
        return result
    metadata = result.metadata
    for form_field, member in FILLS.items():
        value = metadata.get(member)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            result.fills[form_field] = value
        else:
            result.fills[form_field] = ""  # not the previous server's endpoint
            result.missing.append(member)
    # RFC 9207 §3: a server that says it sends iss must send it in every authorization response.
    result.fills["iss_supported"] = (
        "true" if metadata.get("authorization_response_iss_parameter_supported") is True else ""
    )
    algs = metadata.get("id_token_signing_alg_values_supported")
    result.fills["id_token_algs"] = (
        " ".join(a for a in algs if isinstance(a, str)) if isinstance(algs, list) else ""
    )
    # The grants the server lists; empty when it lists none (RFC 8414 §2 then defaults to
    # authorization_code and implicit, but many servers under-report: the form notes, never blocks).
    grants = metadata.get("grant_types_supported")
    result.fills["grant_types_supported"] = (
        " ".join(g for g in grants if isinstance(g, str) and " " not in g) if isinstance(grants, list) else ""
    )
    method, why = choose_client_auth(metadata)
    if method in CLIENT_AUTH_METHODS:
        result.fills["client_auth"] = method
    result.notes.append(why)
    result.fills["issuer"] = metadata["issuer"]
    return result
