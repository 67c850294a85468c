"""Naming and enrollment options ([DEFAULT], as in the original join.conf)."""

from __future__ import annotations

from oslo_config import cfg

OPTS = [
    cfg.StrOpt(
        "domain",
        help="DNS domain of the instances: FQDN = <hostname>[.<project>].<domain>. "
        "Required.",
    ),
    cfg.StrOpt(
        "realm",
        help="Kerberos realm of the IPA deployment. Default: ``domain`` in upper case.",
    ),
    cfg.BoolOpt(
        "project_subdomain",
        default=False,
        help="Put each project's hosts in a subdomain named after the project: "
        "<hostname>.<project name>.<domain>.",
    ),
    cfg.BoolOpt(
        "normalize_project",
        default=True,
        help="With project_subdomain, turn characters of the project name that are not "
        "valid in a DNS label into '-'.",
    ),
    cfg.StrOpt(
        "otp_key_file",
        default="/etc/novajoin/otp.key",
        help="Secret key (at least 16 bytes, mode 0600) the one-time passwords are "
        "derived from. Every novajoin-server replica must use the same key so that "
        "they hand out the same OTP for an instance.",
    ),
    cfg.IntOpt(
        "otp_length",
        default=32,
        min=16,
        max=64,
        help="Length of the one-time passwords.",
    ),
    cfg.FloatOpt(
        "image_cache_ttl",
        default=300.0,
        min=0.0,
        help="Seconds glance image properties (ipa_enroll, os_distro, ...) and keystone "
        "project names are cached. 0 disables the cache.",
    ),
    cfg.FloatOpt(
        "repeat_cache_seconds",
        default=5.0,
        min=0.0,
        max=60.0,
        help="Seconds a novajoin-server process answers a repeat of the same "
        "vendordata request from memory, with no IPA call: nova asks 6 times in a row "
        "while it builds a config drive. Only clean one-time-password answers are kept "
        "(never 'enrolled', refusals or errors), per process, at most 4096 of them, each "
        "for this long after IPA's answer. Within the window the answer does not reflect "
        "IPA: an instance that enrolled meanwhile is handed its consumed one-time "
        "password again (an instance boots and enrolls well after its config drive is "
        "built). Behind a load balancer, source affinity (e.g. HAProxy 'balance source') "
        "sends a compute node's repeats to the process that remembers them. 0 disables "
        "it: every answer is read from IPA.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS)


def list_opts() -> list[cfg.Opt]:
    return OPTS
