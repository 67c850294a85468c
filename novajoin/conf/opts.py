"""Entry points for oslo-config-generator (``oslo.config.opts`` / ``.defaults``)."""

from __future__ import annotations

from oslo_config import cfg

from novajoin.conf import default, enrollment, ipa, notify, projects, service_credentials
from novajoin.conf import reconcile as reconcile_opts


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [
        ("DEFAULT", default.list_opts() + ipa.list_opts() + enrollment.list_opts()),
        (service_credentials.GROUP, service_credentials.list_opts()),
        (notify.GROUP, notify.list_opts()),
        (projects.SAMPLE_GROUP, projects.list_opts()),
        (reconcile_opts.GROUP, reconcile_opts.list_opts()),
    ]


def set_defaults() -> None:
    """Product defaults of library options, applied before the sample is written."""
    from oslo_middleware.healthcheck import opts as hc_opts

    cfg.set_defaults(hc_opts.HEALTHCHECK_OPTS, backends=["novajoin_ipa"])
    from novajoin.conf import set_log_defaults

    set_log_defaults()
