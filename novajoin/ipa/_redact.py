"""Keep session cookies and Negotiate tokens out of httpcore's DEBUG lines.

httpcore traces every response at DEBUG with its full header list, which
would put the ``ipa_session`` cookie (Set-Cookie) and the mutual-auth token
(WWW-Authenticate) into the logs of any deployment that enables DEBUG.  A
filter on httpcore's own loggers masks those header values; the rest of the
trace stays useful.
"""

from __future__ import annotations

import logging
import re
import threading

_MASKED_HEADERS = "set-cookie|cookie|authorization|proxy-authorization|www-authenticate"
# Matches ``(b'Set-Cookie', b'value')`` as httpcore renders header tuples.
_HEADER_TUPLE = re.compile(
    rf"(\(b(['\"])(?:{_MASKED_HEADERS})\2,\s*b)(['\"])(?:\\.|(?!\3).)*\3",
    re.IGNORECASE,
)
_HTTPCORE_LOGGERS = (
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.connection",
    "httpcore.proxy",
    "httpcore.socks",
)
_installed = False
_lock = threading.Lock()


def redact(text: str) -> str:
    return _HEADER_TUPLE.sub(r"\1\3***\3", text)


class RedactSecretHeaders(logging.Filter):
    """Rewrites a record whose message shows a secret header value."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's business
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install() -> None:
    """Attach the filter to httpcore's loggers (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        for name in _HTTPCORE_LOGGERS:
            logging.getLogger(name).addFilter(RedactSecretHeaders())
        _installed = True
