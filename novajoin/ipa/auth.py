"""Ways to obtain an IPA session cookie.

IPA authenticates once per session: a login endpoint answers with an
``ipa_session`` cookie that later JSON-RPC calls carry until IPA answers 401.
An auth object only knows how to log in to one server; when to log in (once,
and once more after a 401, shared by all threads) is the client's business.
"""

from __future__ import annotations

import abc
import base64
import threading
import uuid
from os import PathLike

import gssapi
import gssapi.exceptions
import httpx

from novajoin.ipa._http import check_login_status, session_cookie, transport_failure
from novajoin.ipa.errors import AuthenticationFailed
from novajoin.ipa.servers import IPAServer

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")


class Auth(abc.ABC):
    """Base of the login methods the client accepts."""

    method: str = "auth"

    @abc.abstractmethod
    def login(self, http: httpx.Client, server: IPAServer, timeout: httpx.Timeout) -> str:
        """Log in to ``server`` and return the ``ipa_session`` cookie value.

        Raises AuthenticationFailed when the credentials are refused and
        ``_http.Retryable`` when the server could not be reached.
        """


class KerberosAuth(Auth):
    """Kerberos (SPNEGO) login with a client keytab.

    Tickets go to a private ccache (MEMORY by default), so neither the
    process environment (KRB5CCNAME) nor a kinit subprocess is involved, and
    an expired TGT is re-acquired from the keytab by GSSAPI itself.
    """

    method = "kerberos"

    def __init__(
        self,
        principal: str,
        keytab: str | PathLike[str],
        ccache: str | None = None,
    ) -> None:
        self.principal = principal
        self.keytab = str(keytab)
        self.ccache = ccache or f"MEMORY:novajoin-{uuid.uuid4().hex}"
        # Logins to different servers may run at once; one at a time keeps
        # the shared ccache free of concurrent initial-ticket requests.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KerberosAuth(principal={self.principal!r}, keytab={self.keytab!r})"

    def _credentials(self) -> gssapi.Credentials:
        name = gssapi.Name(self.principal, gssapi.NameType.kerberos_principal)
        store = {"client_keytab": self.keytab, "ccache": self.ccache}
        return gssapi.Credentials(name=name, usage="initiate", store=store)

    def _context(self, server: IPAServer) -> gssapi.SecurityContext:
        target = gssapi.Name(server.gssapi_target, gssapi.NameType.hostbased_service)
        flags = (
            gssapi.RequirementFlag.mutual_authentication
            | gssapi.RequirementFlag.out_of_sequence_detection
        )
        return gssapi.SecurityContext(
            name=target, creds=self._credentials(), usage="initiate", mech=SPNEGO, flags=flags
        )

    def login(self, http: httpx.Client, server: IPAServer, timeout: httpx.Timeout) -> str:
        with self._lock:
            try:
                context = self._context(server)
                token = context.step()
            except gssapi.exceptions.GSSError as exc:
                raise AuthenticationFailed(
                    f"Kerberos: no ticket for {server.gssapi_target} as {self.principal}: "
                    f"{_gss_text(exc)}"
                ) from None
        headers = {
            "Authorization": "Negotiate " + base64.b64encode(token or b"").decode("ascii"),
            "Referer": server.referer,
            "Accept": "text/plain",
        }
        try:
            response = http.post(server.kerberos_login_url, headers=headers, timeout=timeout)
        except httpx.TransportError as exc:
            raise transport_failure(exc) from None
        check_login_status(response, server, self.method)
        _check_mutual(context, response, server)
        return session_cookie(response, server)


def _check_mutual(context: gssapi.SecurityContext, response: httpx.Response, server: IPAServer):
    """Verify the server's half of SPNEGO when it sent one (IPA does)."""
    token = None
    for header in response.headers.get_list("www-authenticate"):
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "negotiate" and value.strip():
            token = value.strip()
            break
    if token is None:
        return
    try:
        context.step(base64.b64decode(token, validate=True))
    except (gssapi.exceptions.GSSError, ValueError) as exc:
        detail = _gss_text(exc) if isinstance(exc, gssapi.exceptions.GSSError) else "bad token"
        raise AuthenticationFailed(
            f"mutual authentication of {server.gssapi_target} failed: {detail}"
        ) from None
    if not context.complete:
        raise AuthenticationFailed(f"mutual authentication of {server.gssapi_target} incomplete")


def _gss_text(exc: gssapi.exceptions.GSSError) -> str:
    # GSSAPI messages name principals, files and mechanisms, never key data.
    try:
        return exc.gen_message()
    except Exception:  # pragma: no cover - defensive, message decoding only
        return type(exc).__name__


class PasswordAuth(Auth):
    """Form login with a user password (labs and the installer, not services)."""

    method = "password"

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self._password = password

    def __repr__(self) -> str:
        return f"PasswordAuth(user={self.user!r}, password=***)"

    def login(self, http: httpx.Client, server: IPAServer, timeout: httpx.Timeout) -> str:
        headers = {"Referer": server.referer, "Accept": "text/plain"}
        data = {"user": self.user, "password": self._password}
        try:
            response = http.post(
                server.password_login_url, data=data, headers=headers, timeout=timeout
            )
        except httpx.TransportError as exc:
            raise transport_failure(exc) from None
        check_login_status(response, server, self.method)
        return session_cookie(response, server)
