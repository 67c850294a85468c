"""Small HTTP helpers shared by the client and the login methods."""

from __future__ import annotations

import httpx

from novajoin.ipa.errors import AuthenticationFailed, ProtocolError
from novajoin.ipa.servers import IPAServer

SESSION_COOKIE = "ipa_session"


class Retryable(Exception):
    """Internal: this attempt failed in a way another attempt may fix.

    ``sent`` tells whether the request may have reached IPA (and so may have
    been executed), which decides ``IPAError.attempts`` later.
    """

    def __init__(self, reason: str, *, sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


def transport_failure(exc: httpx.TransportError) -> Retryable:
    """Classify an httpx failure; only connect-phase errors prove 'not sent'."""
    not_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    detail = str(exc) or type(exc).__name__
    return Retryable(f"{type(exc).__name__}: {detail}", sent=not not_sent)


def check_login_status(response: httpx.Response, server: IPAServer, method: str) -> None:
    status = response.status_code
    if status == 200:
        return
    if status in (401, 403):
        # IPA explains refusals in a header (e.g. "invalid-password",
        # "password-expired"); it never carries the secret itself.
        reason = response.headers.get("X-IPA-Rejection-Reason", "")
        suffix = f" ({reason})" if reason else ""
        raise AuthenticationFailed(f"{method} login to {server} refused: HTTP {status}{suffix}")
    if status >= 500:
        raise Retryable(f"HTTP {status} from {server} on {method} login", sent=False)
    raise ProtocolError(f"unexpected HTTP {status} from {server} on {method} login")


def session_cookie(response: httpx.Response, server: IPAServer) -> str:
    """Extract the ``ipa_session`` value from Set-Cookie headers.

    Parsed by hand: the value contains ``=`` (which http.cookies rejects) and
    cookie jars refuse cookies for IP-address hosts such as 127.0.0.1.
    """
    for header in response.headers.get_list("set-cookie"):
        first, _, rest = header.partition(";")
        name, sep, value = first.partition("=")
        if not sep or name.strip() != SESSION_COOKIE:
            continue
        value = value.strip()
        attributes = {a.strip().split("=", 1)[0].lower() for a in rest.split(";")}
        if not value:
            continue
        if "secure" in attributes and not server.secure:
            raise AuthenticationFailed(
                f"{server} issued a Secure session cookie over plain http; use an https URL"
            )
        return value
    raise AuthenticationFailed(f"login to {server} succeeded but no {SESSION_COOKIE} cookie")
