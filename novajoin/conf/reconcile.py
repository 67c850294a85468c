"""[reconcile]: how novajoin-reconcile compares IPA with nova and neutron.

nova and neutron are asked with the ``[service_credentials]`` identity (an
admin-capable service user: listing every project's servers needs it).
"""

from __future__ import annotations

from oslo_config import cfg

GROUP = "reconcile"

OPTS = [
    cfg.IntOpt(
        "grace_period",
        default=3600,
        min=0,
        help="Seconds after nova deleted an instance before the reconciler removes its "
        "hosts (novajoin-notify normally does it at once). nova's own deletion time is "
        "used: an instance nova still lists as DELETED with 'changes-since' newer than "
        "now minus this period is left alone. Also: a floating IP neutron changed within "
        "this period keeps its DNS records until a later run.",
    ),
    cfg.IntOpt(
        "otp_expiry",
        default=86400,
        min=0,
        help="Seconds after an instance was launched (nova's launched_at, else its "
        "creation time) after which the one-time password of its host, if still not "
        "used to enroll, is removed from IPA. 0 = never.",
    ),
    cfg.IntOpt("interval", default=600, min=1,
               help="Seconds between two runs of 'novajoin-reconcile --service'."),
    cfg.StrOpt(
        "coordination_url",
        default="redis://127.0.0.1:6379",
        help="tooz coordination backend URL (redis://, etcd3+http://, zookeeper://, ...) "
        "through which the reconcilers of several nodes elect the one that acts.",
        secret=True,
    ),
    cfg.StrOpt("lock_name", default="novajoin-reconcile",
               help="Name of the tooz lock the active reconciler holds during a run."),
    cfg.StrOpt("compute_endpoint_override",
               help="nova's compute endpoint (e.g. http://nova:8774/v2.1); default: the "
               "service catalog of [service_credentials]."),
    cfg.StrOpt("network_endpoint_override",
               help="neutron's endpoint (e.g. http://neutron:9696); default: the catalog."),
    cfg.IntOpt("page_size", default=1000, min=1,
               help="Servers and floating IPs asked per page."),
    cfg.BoolOpt("floating_ip_dns", default=True,
                help="Remove the DNS records novajoin published for floating IPs that "
                "neutron no longer associates with the same port."),
    cfg.IntOpt(
        "max_deletes",
        default=0,
        min=0,
        help="Safety valve: when a run would remove the hosts of more instances than "
        "this, it removes none and reports it (an operator then runs with --dry-run "
        "and raises the limit). 0 = no limit.",
    ),
    cfg.FloatOpt("ipa_deadline", default=30.0, min=0.1,
                 help="Total seconds one IPA operation of the reconciler may take."),
    cfg.FloatOpt("api_timeout", default=30.0, min=0.1,
                 help="Seconds to wait for one nova or neutron answer."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[cfg.Opt]:
    return OPTS
