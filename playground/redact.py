"""Keeping secrets out of logs, whoever logs them (our code, Flask, urllib3, Authlib, gunicorn).

Redaction errs on the side of hiding: a value that only looks like a credential is hidden too.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
#: Names whose values are credentials: anything ending in one of these words (client_secret,
#: introspection_password, refresh_token, client_assertion, code_verifier, private_key, ...).
_SECRET_WORDS = r"secret|password|passwd|pwd|token|assertion|bearer|verifier|private_key|api_key|credentials?"
#: A name (a form field, a JSON member, a header), which `_` or `-` may join to a secret word.
#: `code` is the authorization code (RFC 6749 §4.1.2); names like token_type_hint do not end in one.
_NAME = (
    rf"(?:[A-Za-z0-9_.-]*(?:{_SECRET_WORDS})|code|authorization|proxy-authorization|cookie|set-cookie|dpop)"
)
#: Headers whose whole value is a credential (RFC 9110 §11.6.2, §11.7.2), when written `Name: value`.
_HEADER_LINE = re.compile(
    r"(?im)\b(authorization|proxy-authorization|cookie|set-cookie|dpop)(\s*:\s*)(?![\"'])[^\r\n]+"
)
#: JSON and dict reprs, "name": "value" and 'name': 'value', and tuple reprs, ('name', 'value');
#: the value runs to its closing quote, escaped quotes and all.
_VALUE = r"""(["'])((?:\\.|(?!\4)[^\\])*)(\4?)"""
_QUOTED = re.compile(rf"""(?i)(["'])({_NAME})\1(\s*:\s*){_VALUE}""")
_TUPLE = re.compile(rf"""(?i)(?<=\()\s*(["'])({_NAME})\1(\s*,\s*){_VALUE}""")
#: Form-urlencoded, query strings, `name=value` in running text: the value runs to `&` or white space.
_ASSIGNED = re.compile(rf"(?i)(?<![A-Za-z0-9_.-])({_NAME})(=)([^&\s]+)")
#: Credentials after an HTTP authentication scheme anywhere (RFC 9110 §11.4 token68, and `%` for
#: a URL-encoded `=`), however short.
_SCHEME = re.compile(r"(?i)\b(Basic|Bearer|DPoP|Digest|Negotiate)(\s+)([A-Za-z0-9._~+/=%-]+)")


def redact(text: str) -> str:
    """`text` with credential values replaced by [REDACTED]."""
    text = _HEADER_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    for pattern in (_QUOTED, _TUPLE):
        text = pattern.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{REDACTED}{m[6]}", text)
    text = _ASSIGNED.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


_installed = False


def install_log_redaction() -> None:
    """Redact every log record at its creation, for every logger and handler.

    A record factory rather than a handler filter: filters see only the records
    of the logger or handler they are attached to, and libraries add their own.
    A traceback is formatted here, redacted, and kept as the record's `exc_text`,
    which every `logging.Formatter` prints instead of formatting the exception again.
    """
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging to report
            message = None
        if message is not None:
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(formatter.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(redacting_factory)
    _installed = True
