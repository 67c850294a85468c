"""Client for FreeIPA's JSON-RPC API.

Entry point::

    with IPAClient("https://ipa.example.com/ipa",
                   auth=KerberosAuth("nova/host.example.com@EXAMPLE.COM", keytab),
                   ca_file="/etc/ipa/ca.crt") as ipa:
        ipa.call("host_show", "vm1.example.com")
"""

from novajoin.ipa import errors
from novajoin.ipa.auth import Auth, KerberosAuth, PasswordAuth
from novajoin.ipa.client import DEFAULT_API_VERSION, BatchItem, IPAClient
from novajoin.ipa.errors import (
    AuthenticationFailed,
    IPAClientError,
    IPAError,
    ProtocolError,
    TransportError,
)
from novajoin.ipa.retry import Backoff
from novajoin.ipa.servers import IPAServer

__all__ = [
    "DEFAULT_API_VERSION",
    "Auth",
    "AuthenticationFailed",
    "Backoff",
    "BatchItem",
    "IPAClient",
    "IPAClientError",
    "IPAError",
    "IPAServer",
    "KerberosAuth",
    "PasswordAuth",
    "ProtocolError",
    "TransportError",
    "errors",
]
