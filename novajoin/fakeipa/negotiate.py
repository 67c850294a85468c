"""Kerberos on the server side: HTTP Negotiate acceptor and password check.

Real IPA authenticates in Apache (mod_auth_gssapi) with the keytab of
``HTTP/<ipa fqdn>``; the simulator does the same with python-gssapi.
Every negotiation gets its own credentials handle and SecurityContext, so
concurrent requests never share GSSAPI state.  Tokens are never logged.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from pathlib import Path

import gssapi
import gssapi.raw

LOG = logging.getLogger(__name__)

SPNEGO_OID = "1.3.6.1.5.5.2"
KRB5_OID = "1.2.840.113554.1.2.2"

# MIT krb5 error table base: KDC error n is reported as BASE + n.
_KRB5_BASE = -1765328384
_KDC_ERR_NAME_EXP = _KRB5_BASE + 1
_KDC_ERR_CLIENT_REVOKED = _KRB5_BASE + 18
_KDC_ERR_KEY_EXP = _KRB5_BASE + 23


class NegotiateError(Exception):
    """The Negotiate exchange failed (bad or foreign token, wrong service key)."""


@dataclass(frozen=True)
class AcceptResult:
    """Outcome of one accepted Negotiate token."""

    principal: str
    mech: str
    output_token: bytes | None

    @property
    def www_authenticate(self) -> str:
        """The header value carrying the mutual-auth token (``Negotiate <b64>``)."""
        if not self.output_token:
            return "Negotiate"
        return "Negotiate " + base64.b64encode(self.output_token).decode("ascii")


def parse_authorization(header: str | None) -> bytes | None:
    """The decoded token of ``Authorization: Negotiate <b64>``, else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "negotiate" or not value.strip():
        return None
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


class Acceptor:
    """Accepts SPNEGO and raw krb5 initiator tokens with one service keytab."""

    def __init__(self, keytab: Path | str, service_principal: str | None = None) -> None:
        self.keytab = Path(keytab)
        self.service_principal = service_principal
        if not self.keytab.is_file():
            raise FileNotFoundError(f"keytab not found: {self.keytab}")
        # Fail at start-up, not on the first request, if the keytab is unusable.
        self._credentials()

    def _credentials(self) -> gssapi.Credentials:
        name = None
        if self.service_principal:
            name = gssapi.Name(self.service_principal, gssapi.NameType.kerberos_principal)
        return gssapi.Credentials(name=name, usage="accept", store={"keytab": str(self.keytab)})

    def accept(self, token: bytes) -> AcceptResult:
        """Run one acceptor step; raises NegotiateError unless it completes."""
        try:
            ctx = gssapi.SecurityContext(creds=self._credentials(), usage="accept")
            out = ctx.step(token)
            # python-gssapi keeps an error that came with an error token and
            # raises it from ``complete``: check inside the try.
            complete = ctx.complete
            principal = str(ctx.initiator_name) if complete else ""
            mech = ctx.mech.dotted_form if complete and ctx.mech is not None else ""
        except gssapi.exceptions.GSSError as exc:
            # The GSSAPI text says why (wrong key, clock skew, ...); no secret in it.
            raise NegotiateError(f"GSSAPI accept failed: {exc.gen_message()}") from None
        if not complete:
            raise NegotiateError("Negotiate needs more than one round trip; not supported")
        return AcceptResult(principal=principal, mech=mech, output_token=out)


class PasswordRejected(Exception):
    """The KDC refused the password; ``reason`` is IPA's X-IPA-Rejection-Reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_password(principal: str, password: str) -> None:
    """Get initial credentials from the KDC with a password (like IPA's kinit).

    The ticket lands in a private in-memory credential of the GSSAPI
    library and is dropped; only the success matters here.
    """
    try:
        name = gssapi.raw.import_name(principal.encode(), gssapi.NameType.kerberos_principal)
        gssapi.raw.acquire_cred_with_password(name, password.encode(), usage="initiate")
    except gssapi.exceptions.GSSError as exc:
        code = exc.min_code
        if code == _KDC_ERR_KEY_EXP:
            raise PasswordRejected("password-expired", "Password expired") from None
        if code == _KDC_ERR_NAME_EXP:
            raise PasswordRejected("krbprincipal-expired", "Principal expired") from None
        if code == _KDC_ERR_CLIENT_REVOKED:
            raise PasswordRejected("user-locked", "Credentials revoked") from None
        raise PasswordRejected(
            "invalid-password", f"Cannot get initial credentials for {principal}"
        ) from None
