"""Keeping secrets out of logs, whoever logs them (our code, Flask, urllib3, Authlib, gunicorn)."""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
_SECRET_NAMES = r"client_secret|password|access_token|refresh_token|id_token|token|assertion"
_PATTERNS = [
    # form-urlencoded or query: client_secret=..., token=...
    re.compile(rf"(?i)\b({_SECRET_NAMES})=([^&\s\"',;]+)"),
    # JSON or repr: "access_token": "...", 'client_secret': '...'
    re.compile(rf"""(?i)(["']({_SECRET_NAMES})["']\s*:\s*["'])([^"']*)"""),
    # HTTP credentials: Authorization: Basic ..., Bearer ...
    re.compile(r"(?i)\b(Basic|Bearer)\s+([A-Za-z0-9._~+/=-]{6,})"),
]


def redact(text: str) -> str:
    """`text` with credential values replaced by [REDACTED]."""
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _PATTERNS[2].sub(lambda m: f"{m.group(1)} {REDACTED}", text)


_installed = False


def install_log_redaction() -> None:
    """Redact every log record at its creation, for every logger and handler.

    A record factory rather than a handler filter: filters see only the records
    of the logger or handler they are attached to, and libraries add their own.
    """
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging to report
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(redacting_factory)
    _installed = True
