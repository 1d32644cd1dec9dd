"""The authorization in progress, carried through the browser's trip to the authorization server.

The playground keeps no server-side state, so what the callback needs (the state, nonce and
PKCE verifier sent, the authorization request's parameters, and the form's set-up, client
secret included; never the transcript, which is rebuilt from the parameters) travels in a
cookie of its own, one per authorization in progress: compressed, then authenticated-encrypted
(Fernet: AES-128-CBC and HMAC-SHA256) with a key derived from SECRET_KEY, so any instance with
the same key can finish a flow another began; HttpOnly, SameSite=Lax, Path=/playground2/, Secure
over HTTPS, valid 10 minutes, and deleted when the callback has used it. Each is at most
MAX_VALUE bytes and all together MAX_TOTAL (the oldest go first), so the Cookie header stays
small. The callback finds its own flow by the `state` it brings back, so two flows in two tabs
do not mix up. No Flask here.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import zlib
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

COOKIE_PREFIX = "playground_flow_"
COOKIE_PATH = "/playground2/"
LIFETIME = 600  # seconds: time enough to log in and consent
#: Oldest flows are dropped beyond this many at once.
MAX_FLOWS = 4
#: One cookie's value, at most. The request's whole Cookie header must stay well inside what
#: servers take in one header field (gunicorn's limit_request_field_size: 8190 bytes; nginx's
#: large_client_header_buffers: 8 kB), or every page of /playground2/ fails until they expire.
MAX_VALUE = 1536
#: All of our cookies together (names and values), at most: the oldest are dropped to stay inside it.
MAX_TOTAL = 4096


class TooLarge(ValueError):
    """The set-up does not fit in a cookie."""


def _fernet(secret_key: str | bytes) -> Fernet:
    """A Fernet key of its own, derived from the app's SECRET_KEY (RFC 5869 HKDF-SHA256)."""
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"playground pending authorization")
    return Fernet(base64.urlsafe_b64encode(key.derive(material)))


@dataclass
class Pending:
    """One authorization in progress: its cookie's name and what it carries."""

    name: str
    data: dict[str, Any]

    @property
    def state(self) -> str:
        return str(self.data.get("state", ""))


def seal(secret_key: str | bytes, data: dict[str, Any]) -> tuple[str, str]:
    """A new cookie (name, value) carrying `data`; TooLarge if it does not fit."""
    raw = zlib.compress(json.dumps(data, separators=(",", ":")).encode("utf-8"), 9)
    value = _fernet(secret_key).encrypt(raw).decode("ascii")
    if len(value) > MAX_VALUE:
        raise TooLarge(f"{len(value):,} bytes once encrypted; a cookie holds about {MAX_VALUE:,}")
    return COOKIE_PREFIX + secrets.token_hex(8), value


def unseal(secret_key: str | bytes, value: str, now: float | None = None) -> dict[str, Any] | None:
    """What a cookie carries, or None when it is not ours, was altered, or is older than LIFETIME."""
    try:
        fernet = _fernet(secret_key)
        raw = fernet.decrypt_at_time(value.encode("ascii"), LIFETIME, int(now or time.time()))
        data = json.loads(zlib.decompress(raw, bufsize=64 * 1024))
    except (InvalidToken, ValueError, UnicodeError, zlib.error):
        return None
    return data if isinstance(data, dict) else None


def in_progress(secret_key: str | bytes, cookies: dict[str, str]) -> list[Pending]:
    """Every readable authorization in progress among the request's cookies, oldest first."""
    found = []
    for name, value in cookies.items():
        if name.startswith(COOKIE_PREFIX):
            data = unseal(secret_key, value)
            if data is not None:
                found.append(Pending(name, data))
    return sorted(found, key=lambda p: p.data.get("created", 0))


def stale(secret_key: str | bytes, cookies: dict[str, str], adding: int = 0) -> list[str]:
    """Names of our cookies to drop before a new one of `adding` bytes (name and value) is set:
    unreadable or expired ones, then the oldest of the others until at most MAX_FLOWS remain
    and all of them fit in MAX_TOTAL bytes."""
    readable = [p.name for p in in_progress(secret_key, cookies)]
    dropped = [n for n in cookies if n.startswith(COOKIE_PREFIX) and n not in readable]
    total = adding + sum(len(n) + len(cookies[n]) for n in readable)
    while readable and (len(readable) + (adding > 0) > MAX_FLOWS or total > MAX_TOTAL):
        oldest = readable.pop(0)
        total -= len(oldest) + len(cookies[oldest])
        dropped.append(oldest)
    return dropped
