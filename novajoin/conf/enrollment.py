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
        default=0.0,
        min=0.0,
        max=60.0,
        help="Seconds a novajoin-server process may answer a repeat of the same "
        "vendordata request from memory, with no IPA call (nova asks 7 times per boot). "
        "Only one-time-password answers are kept (never 'enrolled', refusals or "
        "errors), per process, at most 4096 of them. Trade-off: an instance that "
        "enrolls, or is rebuilt, within this window is handed the previous (consumed) "
        "one-time password again instead of an answer that reflects IPA. 0 (the "
        "default) disables it: every answer is read from IPA. Keep it to a few seconds.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS)


def list_opts() -> list[cfg.Opt]:
    return OPTS
