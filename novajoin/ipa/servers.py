"""IPA server addresses.

A server is reached at a URL but known to IPA (and to Kerberos) by its FQDN.
The two differ whenever the URL holds an IP address or a load-balancer name,
so each server carries both: the URL to connect to and the *name* that goes
into the ``Referer`` header and the ``HTTP@<name>`` GSSAPI target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

# Suffixes people paste from IPA docs or ipa.conf; all mean the same server.
_ENDPOINT_SUFFIXES = ("/session/json", "/json", "/session")


@dataclass(frozen=True)
class IPAServer:
    """One IPA server: ``url`` is its base (``https://host[:port]/ipa``).

    ``name`` defaults to the URL's host; set it when the URL is an IP address
    or an alias, because IPA compares the Referer with its own FQDN and the
    KDC only knows ``HTTP/<fqdn>``.
    """

    url: str
    name: str = ""

    def __post_init__(self) -> None:
        base, host = _normalise(self.url)
        object.__setattr__(self, "url", base)
        name = (self.name or host).strip().rstrip(".").lower()
        if not name or "/" in name or "@" in name:
            raise ValueError(f"invalid IPA server name: {self.name!r}")
        object.__setattr__(self, "name", name)

    @property
    def secure(self) -> bool:
        return self.url.startswith("https://")

    @property
    def json_url(self) -> str:
        return f"{self.url}/session/json"

    @property
    def kerberos_login_url(self) -> str:
        return f"{self.url}/session/login_kerberos"

    @property
    def password_login_url(self) -> str:
        return f"{self.url}/session/login_password"

    @property
    def referer(self) -> str:
        # IPA accepts only a Referer that starts with https://<its fqdn>/ipa,
        # whatever URL the client actually connected to.
        return f"https://{self.name}/ipa"

    @property
    def gssapi_target(self) -> str:
        return f"HTTP@{self.name}"

    def __str__(self) -> str:
        return self.name


def _normalise(url: str) -> tuple[str, str]:
    """Return (base URL without trailing slash, lower-cased host)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"IPA server URL must be http(s): {url!r}")
    if not parts.hostname:
        raise ValueError(f"IPA server URL has no host: {url!r}")
    if parts.username or parts.password:
        # Credentials in a URL end up in logs and exception texts.
        raise ValueError("IPA server URL must not contain credentials")
    if parts.query or parts.fragment:
        raise ValueError(f"IPA server URL must not have a query or fragment: {url!r}")
    path = parts.path.rstrip("/")
    for suffix in _ENDPOINT_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    if not path:
        path = "/ipa"
    base = urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))
    return base, parts.hostname.lower()


ServerSpec = str | IPAServer | tuple[str, str]


def parse_servers(servers: ServerSpec | Iterable[ServerSpec]) -> tuple[IPAServer, ...]:
    """Accept one or several servers as URLs, (url, name) pairs or IPAServer."""
    if isinstance(servers, (str, IPAServer)) or (
        isinstance(servers, tuple)
        and len(servers) == 2
        and all(isinstance(item, str) for item in servers)
        and "://" not in servers[1]
    ):
        items: list[ServerSpec] = [servers]  # type: ignore[list-item]
    else:
        items = list(servers)  # type: ignore[arg-type]
    result: list[IPAServer] = []
    for item in items:
        if isinstance(item, IPAServer):
            result.append(item)
        elif isinstance(item, str):
            result.append(IPAServer(item))
        elif isinstance(item, tuple) and len(item) == 2:
            result.append(IPAServer(item[0], item[1]))
        else:
            raise TypeError(f"cannot use {type(item).__name__} as an IPA server")
    if not result:
        raise ValueError("at least one IPA server is required")
    if len({s.url for s in result}) != len(result):
        raise ValueError("duplicate IPA server URL")
    return tuple(result)
