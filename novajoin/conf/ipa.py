"""How novajoin reaches IPA. Registered in [DEFAULT], where the original
join.conf kept ``url``, ``keytab`` and ``connect_retries``."""

from __future__ import annotations

from oslo_config import cfg

OPTS = [
    cfg.ListOpt(
        "url",
        default=[],
        help="IPA JSON-RPC base URL(s), e.g. https://ipa.example.com/ipa. Several URLs "
        "fail over in order; the client sticks to the server that answers. "
        "Required.",
    ),
    cfg.StrOpt(
        "ipa_server_name",
        help="FQDN of the IPA server when ``url`` holds an IP address or an alias. It is "
        "sent as the Referer and used as the Kerberos target HTTP@<name>, and given to "
        "instances as their IPA server. Applies to every URL. Default: the URL's host.",
    ),
    cfg.StrOpt(
        "keytab",
        default="/etc/krb5.keytab",
        help="Keytab holding the key of ``principal`` (readable by novajoin only).",
    ),
    cfg.StrOpt(
        "principal",
        help="Kerberos principal novajoin authenticates to IPA as. "
        "Default: nova/<this host's FQDN>@<realm>.",
    ),
    cfg.StrOpt(
        "cafile",
        default="/etc/ipa/ca.crt",
        help="CA certificate(s) used to verify IPA's TLS certificate.",
    ),
    cfg.IntOpt(
        "connect_retries",
        default=2,
        min=0,
        help="Times a failed connection to IPA is retried (with backoff, moving on to "
        "the next URL) within ``ipa_deadline``.",
    ),
    cfg.FloatOpt(
        "ipa_timeout",
        default=3.0,
        min=0.1,
        help="Seconds one HTTP request to IPA may take (connect and read).",
    ),
    cfg.FloatOpt(
        "ipa_deadline",
        default=4.0,
        min=0.1,
        help="Total seconds one vendordata request may spend on IPA, retries included. "
        "Keep it under nova's 5 s read timeout so nova gets a 503 rather than a timeout.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS)


def list_opts() -> list[cfg.Opt]:
    return OPTS
