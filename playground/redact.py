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
    rf"(?:[A-Za-z0-9_.-]*(?:{_SECRET_WORDS})|code|authorization|proxy-authorization|cookie|set-cookie|dpop"
    # RFC 8628 §3.2 device and user codes, RP-Initiated Logout §2's id_token_hint, API secret keys.
    r"|device_code|user_code|id_token_hint|secret_key)"
)
#: Headers whose whole value is a credential (RFC 9110 §11.6.2, §11.7.2), when written `Name: value`.
_HEADER_LINE = re.compile(
    r"(?im)\b(authorization|proxy-authorization|cookie|set-cookie|dpop)(\s*:\s*)(?![\"'])[^\r\n]+"
)
#: JSON and dict reprs, "name": "value" and 'name': 'value', and tuple reprs, ('name', 'value');
#: the value runs to its closing quote, escaped quotes and all.
_VALUE = r"""(["'])((?:\\.|(?!\4)[^\\])*)(\4?)"""
_QUOTED = re.compile(rf"""(?i)(["'])({_NAME})\1(\s*:\s*\[?\s*){_VALUE}""")  # a list value too
#: JSON inside a JSON string: \"name\": \"value\".
_ESCAPED = re.compile(rf'(?i)\\"({_NAME})\\"(\s*:\s*\[?\s*)\\"((?:(?!\\").)*)')
_TUPLE = re.compile(rf"""(?i)(?<=\()\s*(["'])({_NAME})\1(\s*,\s*){_VALUE}""")
#: Form-urlencoded, query strings, `name=value` in running text: the value runs to `&` or white space.
_ASSIGNED = re.compile(rf"(?i)(?<![A-Za-z0-9_.-])({_NAME})(=)([^&\s]+)")
#: `name: value` and `name = value` in running text or a header line (X-Client-Secret: ...).
_LOOSE = re.compile(rf"""(?i)(?<![A-Za-z0-9_.-])({_NAME})(\s*[:=]\s*)(?!["'\[(\\])([^\s,;&]+)""")
#: Credentials after an HTTP authentication scheme anywhere (RFC 9110 §11.4 token68, and `%` for
#: a URL-encoded `=`), however short.
_SCHEME = re.compile(r"(?i)\b(Basic|Bearer|DPoP|Digest|Negotiate)(\s+)([A-Za-z0-9._~+/=%-]+)")


def redact(text: str) -> str:
    """`text` with credential values replaced by [REDACTED]."""
    text = _HEADER_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _ESCAPED.sub(lambda m: f'\\"{m[1]}\\"{m[2]}\\"{REDACTED}', text)
    for pattern in (_QUOTED, _TUPLE):
        text = pattern.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{REDACTED}{m[6]}", text)
    text = _ASSIGNED.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _LOOSE.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    return _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


_installed = False


def install_log_redaction() -> None:
    """Redact every log record at its creation, for every logger and handler.

    A record factory rather than a handler filter: filters see only the records
    of the logger or handler they are attached to, and libraries add their own.
    A traceback is formatted here into the message, redacted with it, and the record's
    `exc_info` and `exc_text` cleared: no formatter can print it unredacted later.
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
            if record.exc_info and record.exc_info[0] is not None:
                # Into the message, through the filter: nothing unfiltered is formatted later,
                # whatever formatter or handler sees the record (exc_info and exc_text are gone).
                message += "\n" + (record.exc_text or formatter.formatException(record.exc_info))
                record.exc_info = record.exc_text = None
                record.msg, record.args = message, None
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
