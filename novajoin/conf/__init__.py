"""novajoin's configuration (oslo.config), one module per option group.

``register_opts(conf)`` registers every option novajoin itself reads;
libraries (oslo.log, keystonemiddleware, oslo.policy, oslo.middleware)
register their own groups on the same ``ConfigOpts`` when they are set up.
``load()`` builds a fresh ``ConfigOpts`` so several apps can live in one
process (tests) without sharing the global ``cfg.CONF``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from oslo_config import cfg
from oslo_log import log as logging

from novajoin.conf import default, enrollment, ipa, notify, service_credentials
from novajoin.conf import reconcile as reconcile_opts

DEFAULT_CONFIG_FILE = "/etc/novajoin/join.conf"
PROJECT = "novajoin"


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register novajoin's own options (idempotent)."""
    default.register_opts(conf)
    ipa.register_opts(conf)
    enrollment.register_opts(conf)
    service_credentials.register_opts(conf)
    notify.register_opts(conf)
    reconcile_opts.register_opts(conf)
    set_lib_defaults(conf)


def set_lib_defaults(conf: cfg.ConfigOpts) -> None:
    """Product defaults for library options (also shown in the sample)."""
    from oslo_middleware.healthcheck import opts as hc_opts

    conf.register_opts(hc_opts.HEALTHCHECK_OPTS, group="healthcheck")
    # Report IPA reachability on /healthcheck unless the operator says otherwise.
    conf.set_default("backends", ["novajoin_ipa"], group="healthcheck")


# httpx logs every request at INFO: one line per IPA call is noise in production.
QUIET_LOGGERS = ("httpx=WARNING", "httpcore=WARNING")


def set_log_defaults() -> None:
    """Product defaults of oslo.log's default_log_levels (also shown in the sample)."""
    levels = logging.get_default_log_levels()
    extra = [q for q in QUIET_LOGGERS if q not in levels]
    logging.set_defaults(default_log_levels=[*levels, *extra])


def load(
    argv: Sequence[str] | None = None,
    *,
    prog: str = "novajoin-server",
    config_files: Sequence[str] | None = None,
) -> cfg.ConfigOpts:
    """A parsed ConfigOpts: ``--config-file`` from argv, else /etc/novajoin/join.conf."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    logging.register_options(conf)
    set_log_defaults()
    if config_files is None:
        config_files = [DEFAULT_CONFIG_FILE] if os.path.exists(DEFAULT_CONFIG_FILE) else []
    conf(
        list(argv or []),
        project=PROJECT,
        prog=prog,
        default_config_files=list(config_files),
        validate_default_values=True,
    )
    return conf
