"""httpcore's DEBUG traces must not carry session cookies or Negotiate tokens."""

from __future__ import annotations

import logging

import pytest

from novajoin.ipa import _redact

TRACE = (
    "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
    "[(b'Server', b'Apache'), (b'WWW-Authenticate', b'Negotiate oYG0MIGxoAMKAQChCwYJ'), "
    "(b'Set-Cookie', b'ipa_session=MagBearerToken=abc%2Fdef; Path=/ipa; Secure'), "
    "(b'set-cookie', b\"odd='quoted'\"), (b'Content-Length', b'0')])"
)


def test_secret_header_values_are_masked() -> None:
    cleaned = _redact.redact(TRACE)
    for secret in ("oYG0MIGx", "MagBearerToken", "abc%2Fdef", "quoted"):
        assert secret not in cleaned
    assert "(b'Set-Cookie', b'***')" in cleaned
    assert "(b'Server', b'Apache')" in cleaned and "(b'Content-Length', b'0')" in cleaned


def test_filter_is_installed_on_httpcore_loggers(caplog: pytest.LogCaptureFixture) -> None:
    _redact.install()
    _redact.install()  # idempotent
    logger = logging.getLogger("httpcore.http11")
    assert sum(isinstance(f, _redact.RedactSecretHeaders) for f in logger.filters) == 1
    caplog.set_level(logging.DEBUG, logger="httpcore")
    logger.debug(TRACE)
    assert "MagBearerToken" not in caplog.text and "b'***'" in caplog.text
