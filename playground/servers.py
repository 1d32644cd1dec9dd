"""Saved servers: named authorization servers from a TOML file, plus two built in.

A servers file holds endpoints, the default client authentication and a CA
bundle — never a secret. Example (PLAYGROUND_SERVERS_FILE=servers.toml):

    [[server]]
    name = "Keycloak (realm demo)"
    issuer = "https://keycloak.example/realms/demo"
    authorization_endpoint = "https://keycloak.example/realms/demo/protocol/openid-connect/auth"
    token_endpoint = "https://keycloak.example/realms/demo/protocol/openid-connect/token"
    introspection_endpoint = "https://keycloak.example/realms/demo/protocol/openid-connect/token/introspect"
    revocation_endpoint = "https://keycloak.example/realms/demo/protocol/openid-connect/revoke"
    jwks_uri = "https://keycloak.example/realms/demo/protocol/openid-connect/certs"
    client_auth = "client_secret_basic"
    ca_bundle = "/etc/ssl/keycloak-ca.pem"
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .client import CLIENT_AUTH_METHODS
from .outbound import check_url

SECRET_KEYS = frozenset({"client_secret", "secret", "password", "client_password", "token", "access_token"})
URL_KEYS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "logout_endpoint",
    "device_authorization_endpoint",
)


@dataclass(frozen=True)
class Server:
    """One named server: what it fills into the form."""

    name: str
    issuer: str = ""
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    introspection_endpoint: str = ""
    revocation_endpoint: str = ""
    jwks_uri: str = ""
    userinfo_endpoint: str = ""
    logout_endpoint: str = ""
    device_authorization_endpoint: str = ""  # RFC 8628 §4
    client_auth: str = "client_secret_basic"
    ca_bundle: str = ""
    #: What Discover reads from the metadata: "true" when it sends RFC 9207's iss, and the ID
    #: token algorithms; filled (empty when unknown) so no other server's value lingers.
    iss_supported: str = ""
    id_token_algs: str = ""

    def fills(self) -> dict[str, str]:
        """Form field -> value for every field a server has; empty for those it leaves out,
        so that no endpoint of the server chosen before receives this server's tokens."""
        values = asdict(self)
        values.pop("name")
        values.pop("ca_bundle")
        values["grant_types_supported"] = ""  # the grants another server listed are not this one's
        return values


ALLOWED_KEYS = frozenset(f.name for f in fields(Server))


class ServersFileError(ValueError):
    """The servers file cannot be used; the message says where and why."""


def builtin(config: dict[str, Any]) -> list[Server]:
    """The demo server (as this playground is configured for it) and WSO2 IS on localhost:9443."""
    wso2 = "https://localhost:9443"
    demo_base = config.get("DEMO_BASE") or wso2
    return [
        Server(
            name="Demo authorization server",
            issuer=f"{demo_base}/oauth2/token",
            authorization_endpoint=f"{demo_base}/oauth2/authorize",
            userinfo_endpoint=f"{demo_base}/oauth2/userinfo",
            logout_endpoint=f"{demo_base}/oidc/logout",
            device_authorization_endpoint=f"{demo_base}/oauth2/device_authorize",
            token_endpoint=config.get("TOKEN_ENDPOINT") or f"{demo_base}/oauth2/token",
            introspection_endpoint=config.get("INTROSPECTION_ENDPOINT") or f"{demo_base}/oauth2/introspect",
            revocation_endpoint=config.get("REVOCATION_ENDPOINT") or f"{demo_base}/oauth2/revoke",
            jwks_uri=f"{demo_base}/oauth2/jwks",
            iss_supported="true",  # its metadata says so (RFC 9207 §3)
            id_token_algs="RS256 ES256 EdDSA",
        ),
        Server(
            name="WSO2 Identity Server (localhost:9443)",
            issuer=f"{wso2}/oauth2/token",
            authorization_endpoint=f"{wso2}/oauth2/authorize",
            userinfo_endpoint=f"{wso2}/oauth2/userinfo",
            logout_endpoint=f"{wso2}/oidc/logout",
            device_authorization_endpoint=f"{wso2}/oauth2/device_authorize",
            token_endpoint=f"{wso2}/oauth2/token",
            introspection_endpoint=f"{wso2}/oauth2/introspect",
            revocation_endpoint=f"{wso2}/oauth2/revoke",
            jwks_uri=f"{wso2}/oauth2/jwks",
        ),
    ]


def load(path: str | Path, taken: frozenset[str] = frozenset()) -> list[Server]:
    """The servers of a TOML file; ServersFileError with a clear message if it cannot be used.

    `taken`: names already in use (the built-in servers), which a file may not reuse.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ServersFileError(f"{path}: no such file.") from None
    except (OSError, UnicodeError) as exc:
        raise ServersFileError(f"{path}: cannot be read ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ServersFileError(f"{path}: not valid TOML ({exc}).") from None
    entries = data.get("server", [])
    if not isinstance(entries, list) or set(data) - {"server"}:
        raise ServersFileError(f'{path}: expected only [[server]] tables, e.g. [[server]] name = "My IdP".')
    servers: list[Server] = []
    for number, entry in enumerate(entries, 1):
        where = f"{path}: server #{number}"
        if not isinstance(entry, dict):
            raise ServersFileError(f'{where}: expected a [[server]] table, e.g. [[server]] name = "My IdP".')
        secret = SECRET_KEYS & set(entry)
        if secret:
            raise ServersFileError(
                f"{where}: {', '.join(sorted(secret))} must not be in the servers file: no secrets."
            )
        unknown = set(entry) - ALLOWED_KEYS
        if unknown:
            raise ServersFileError(
                f"{where}: unknown keys {', '.join(sorted(unknown))} "
                f"(allowed: {', '.join(sorted(ALLOWED_KEYS))})."
            )
        if not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise ServersFileError(f"{where}: needs a name.")
        if not all(isinstance(v, str) for v in entry.values()):
            raise ServersFileError(f"{where} ({entry['name']}): every value must be a string.")
        for key in URL_KEYS:
            if entry.get(key) and check_url(entry[key]):
                raise ServersFileError(f"{where} ({entry['name']}): {key}: {check_url(entry[key])}")
        if entry.get("client_auth", "client_secret_basic") not in CLIENT_AUTH_METHODS:
            raise ServersFileError(
                f"{where} ({entry['name']}): client_auth must be one of {', '.join(CLIENT_AUTH_METHODS)}."
            )
        servers.append(Server(**entry))
    names = [s.name for s in servers]
    duplicates = sorted({n for n in names if names.count(n) > 1 or n in taken})
    if duplicates:
        raise ServersFileError(f"{path}: names used twice or by a built-in server: {', '.join(duplicates)}.")
    return servers
