"""Build the IPA client and the domain settings from the config, for every entry point.

novajoin-server, novajoin-notify (and later the reconciler) talk to IPA with
the same identity and settings; one builder keeps them from drifting apart.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING

from oslo_config import cfg

if TYPE_CHECKING:
    from novajoin.ipa import IPAClient, IPAServer
    from novajoin.join.model import JoinSettings

LOG = logging.getLogger("novajoin.conf")


class ConfigError(Exception):
    """The configuration cannot make a working service (message says what to fix)."""


def check_required(conf: cfg.ConfigOpts) -> None:
    """Fail early, with the option's name, on what every entry point needs."""
    if not conf.url:
        raise ConfigError("[DEFAULT] url must name at least one IPA server")
    if not conf.domain:
        raise ConfigError("[DEFAULT] domain must be set (the DNS domain of the instances)")


def build_settings(conf: cfg.ConfigOpts) -> tuple[JoinSettings, list[IPAServer], str]:
    """JoinSettings, the IPA servers and the principal novajoin authenticates as."""
    from novajoin.conf import projects
    from novajoin.ipa import IPAServer
    from novajoin.join.model import JoinSettings

    check_required(conf)
    domain = conf.domain.strip().rstrip(".").lower()
    realm = (conf.realm or domain).upper()
    principal = conf.principal or f"nova/{socket.getfqdn().lower()}@{realm}"
    try:
        servers = [IPAServer(url, name=conf.ipa_server_name or "") for url in conf.url]
    except ValueError as exc:
        raise ConfigError(f"[DEFAULT] url: {exc}") from None
    settings = JoinSettings(
        domain=domain,
        realm=realm,
        ipa_server=servers[0].name,
        project_subdomain=conf.project_subdomain,
        normalize_project=conf.normalize_project,
        image_cache_ttl=conf.image_cache_ttl,
        otp_length=conf.otp_length,
        ipa_deadline=conf.ipa_deadline,
        placement=projects.build_policy(conf),
    )
    return settings, servers, principal


def build_ipa_client(
    conf: cfg.ConfigOpts, servers: list[IPAServer], principal: str, *,
    deadline: float | None = None,
) -> IPAClient:
    """An IPAClient authenticating with the configured keytab.

    ``deadline`` overrides ``ipa_deadline`` (the listener is not bound by
    nova's 5 s read timeout and may give IPA longer per call).
    """
    from novajoin.ipa import IPAClient, KerberosAuth

    cafile = conf.cafile if conf.cafile and os.path.exists(conf.cafile) else None
    if conf.cafile and cafile is None and any(s.secure for s in servers):
        raise ConfigError(f"[DEFAULT] cafile {conf.cafile} does not exist")
    return IPAClient(
        servers,
        auth=KerberosAuth(principal, conf.keytab),
        ca_file=cafile,
        timeout=conf.ipa_timeout,
        connect_retries=conf.connect_retries,
        deadline=conf.ipa_deadline if deadline is None else deadline,
    )


def log_identity(servers: list[IPAServer], principal: str, settings: JoinSettings) -> None:
    LOG.info(
        "IPA %s as %s, domain %s, realm %s",
        ", ".join(s.url for s in servers),
        principal,
        settings.domain,
        settings.realm,
    )
