"""[notify]: how novajoin-notify consumes nova and neutron notifications.

The message bus itself is oslo.messaging's ``[DEFAULT] transport_url`` (or
``[oslo_messaging_notifications] transport_url``), as in nova and neutron.
"""

from __future__ import annotations

from oslo_config import cfg

GROUP = "notify"

FORMAT_LEGACY = "legacy"
FORMAT_VERSIONED = "versioned"
FORMAT_BOTH = "both"

OPTS = [
    cfg.StrOpt(
        "notification_format",
        default=FORMAT_BOTH,
        choices=[
            (FORMAT_LEGACY, "Legacy (unversioned) nova notifications only."),
            (FORMAT_VERSIONED, "Versioned nova notifications only."),
            (FORMAT_BOTH, "Both; match nova's [notifications] notification_format."),
        ],
        help="Which nova notification format(s) to consume. Consuming a format nova does "
        "not send is harmless; not consuming the one it sends loses every event. With "
        "'both' and nova sending both, each event is handled twice (idempotently).",
    ),
    cfg.StrOpt("nova_exchange", default="nova", help="Exchange nova publishes on."),
    cfg.StrOpt("neutron_exchange", default="neutron",
               help="Exchange neutron publishes on. Empty: do not consume neutron events."),
    cfg.ListOpt("legacy_topics", default=["notifications"],
                help="Topics of nova's legacy notifications (nova's "
                "[oslo_messaging_notifications] topics)."),
    cfg.ListOpt("versioned_topics", default=["versioned_notifications"],
                help="Topics of nova's versioned notifications (nova's "
                "[notifications] versioned_notifications_topics)."),
    cfg.ListOpt("neutron_topics", default=["notifications"],
                help="Topics of neutron's notifications."),
    cfg.StrOpt(
        "pool",
        default="novajoin",
        help="Listener pool: novajoin's own queue, named after the pool and bound to "
        "<topic>.info of every exchange above. Every novajoin-notify replica uses the "
        "same pool so each event is handled once. Never empty: without a pool "
        "novajoin would steal events from the shared notifications.info queue.",
    ),
    cfg.IntOpt("executor_threads", default=16, min=1,
               help="Notifications processed concurrently (threads waiting for IPA). "
               "Used instead of oslo.messaging's executor_thread_pool_size."),
    cfg.FloatOpt("retry_initial", default=0.5, min=0.0,
                 help="First delay, in seconds, before retrying a notification whose IPA "
                 "call failed transiently; doubled after each failure, with jitter."),
    cfg.FloatOpt("retry_max", default=10.0, min=0.0,
                 help="Longest delay between two in-process retries, in seconds."),
    cfg.FloatOpt(
        "retry_window",
        default=60.0,
        min=0.0,
        help="Seconds a notification is retried in-process while IPA fails transiently; "
        "after that it is requeued (after requeue_delay) so that the broker keeps it "
        "safe and other replicas may take it.",
    ),
    cfg.FloatOpt(
        "requeue_delay",
        default=5.0,
        min=0.0,
        help="Seconds to wait before requeueing a notification. It bounds how often a "
        "notification can come back while IPA is down (no hot loop).",
    ),
    cfg.IntOpt(
        "max_error_redeliveries",
        default=5,
        min=0,
        help="A notification whose handling raises an unexpected error (a bug, not an "
        "IPA outage) is requeued at most this many times per process, then dropped "
        "with an ERROR.",
    ),
    cfg.FloatOpt("ipa_deadline", default=30.0, min=0.1,
                 help="Total seconds one IPA operation of the listener may take, "
                 "retries of the IPA client included."),
    cfg.BoolOpt(
        "manage_fixed_ip_dns",
        default=False,
        help="On instance create.end, publish the instance's fixed IPs in IPA DNS "
        "(A/AAAA, PTR when a reverse zone exists).",
    ),
    cfg.PortOpt("metrics_port", default=0,
                help="Serve Prometheus metrics on http://127.0.0.1:PORT/metrics; 0 = off."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[cfg.Opt]:
    return OPTS
