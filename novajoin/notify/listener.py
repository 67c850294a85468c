"""Wire oslo.messaging to the handlers: targets, pool queue, endpoints, filters.

One endpoint per handler; its ``filter_rule`` lets only the handler's event
types through, so everything else on the shared topics is acked by
oslo.messaging without reaching novajoin code.  nova and neutron send every
event novajoin handles at INFO priority (ERROR is used for ``*.error``
events, which novajoin does not act on), so endpoints implement ``info``
only and the pool queue is bound to ``<topic>.info`` alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import oslo_messaging
import oslo_messaging.opts
from oslo_config import cfg

from novajoin.conf import clients
from novajoin.conf import notify as notify_opts
from novajoin.notify import metrics as m
from novajoin.notify.delivery import Delivery, RetryPolicy
from novajoin.notify.handlers.base import Lifecycle, NotificationHandler
from novajoin.notify.handlers.neutron import NeutronHandler
from novajoin.notify.handlers.nova import NovaHandler

LOG = logging.getLogger("novajoin.notify")


def message_key(metadata: Mapping[str, Any] | None, event_type: str, payload: Any) -> str:
    """The message id oslo.messaging gives; a digest of the content when there is none."""
    message_id = (metadata or {}).get("message_id")
    if isinstance(message_id, str) and message_id:
        return message_id
    try:
        text = json.dumps([event_type, payload], sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr((event_type, payload))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def event_filter(event_types: list[str]) -> oslo_messaging.NotificationFilter:
    pattern = "^(?:" + "|".join(re.escape(e) for e in sorted(event_types)) + ")$"
    return oslo_messaging.NotificationFilter(event_type=pattern)


class Endpoint:
    """oslo.messaging endpoint for one handler, delivering through the policy."""

    def __init__(self, handler: NotificationHandler, delivery: Delivery) -> None:
        self.handler = handler
        self.delivery = delivery
        self.filter_rule = event_filter(handler.get_event_types())

    def info(
        self,
        ctxt: Mapping[str, Any] | None,
        publisher_id: str | None,
        event_type: str,
        payload: Any,
        metadata: Mapping[str, Any] | None,
    ) -> str:
        key = message_key(metadata, event_type, payload)

        def work() -> Any:
            return self.handler.process_notification(ctxt or {}, event_type, payload,
                                                     publisher_id or "")

        return self.delivery.deliver(str(event_type), key, work)


def build_handlers(conf: cfg.ConfigOpts, lifecycle: Lifecycle) -> list[NotificationHandler]:
    group = conf[notify_opts.GROUP]
    handlers: list[NotificationHandler] = []
    if group.nova_exchange:
        handlers.append(NovaHandler(
            lifecycle,
            exchange=group.nova_exchange,
            notification_format=group.notification_format,
            legacy_topics=group.legacy_topics,
            versioned_topics=group.versioned_topics,
            manage_fixed_ip_dns=group.manage_fixed_ip_dns,
        ))
    if group.neutron_exchange:
        handlers.append(NeutronHandler(lifecycle, exchange=group.neutron_exchange,
                                       topics=group.neutron_topics))
    return handlers


def targets_of(handlers: list[NotificationHandler]) -> list[oslo_messaging.Target]:
    seen: set[tuple[str, str]] = set()
    targets = []
    for handler in handlers:
        exchange, topics = handler.get_exchange_topics()
        for topic in topics:
            if (exchange, topic) not in seen:
                seen.add((exchange, topic))
                targets.append(oslo_messaging.Target(exchange=exchange, topic=topic))
    return targets


class NotifyService:
    """The running listener: start(), stop(), wait(), close()."""

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        lifecycle: Lifecycle,
        *,
        transport: Any = None,
        metrics: m.Metrics | None = None,
        delivery: Delivery | None = None,
        closers: list[Callable[[], None]] | None = None,
    ) -> None:
        group = conf[notify_opts.GROUP]
        if not group.pool:
            raise clients.ConfigError("[notify] pool must be set: novajoin needs its own queue")
        self.conf = conf
        self.metrics = metrics or m.Metrics()
        self.delivery = delivery or Delivery(RetryPolicy.from_conf(group), self.metrics)
        self.handlers = build_handlers(conf, lifecycle)
        if not self.handlers:
            raise clients.ConfigError("[notify] nova_exchange and neutron_exchange are both empty")
        self.targets = targets_of(self.handlers)
        self._own_transport = transport is None
        if transport is None:
            share_the_queue(conf, group.executor_threads)
        self.transport = transport or oslo_messaging.get_notification_transport(conf)
        self.endpoints = [Endpoint(h, self.delivery) for h in self.handlers]
        self.pool = group.pool
        self.threads = group.executor_threads
        self.listener = oslo_messaging.get_notification_listener(
            self.transport,
            self.targets,
            self.endpoints,
            executor="threading",
            allow_requeue=True,
            pool=self.pool,
        )
        self.metrics_port = group.metrics_port
        self._closers = list(closers or [])

    def describe(self) -> str:
        parts = []
        for handler in self.handlers:
            exchange, topics = handler.get_exchange_topics()
            parts.append(f"{exchange}[{','.join(topics)}]")
        return f"pool {self.pool}, exchanges {' '.join(parts)}, {self.threads} threads"

    def start(self) -> None:
        if self.metrics_port:
            port = self.metrics.serve(self.metrics_port)
            LOG.info("metrics on http://127.0.0.1:%d/metrics", port)
        self.listener.start(override_pool_size=self.threads)
        LOG.info("novajoin-notify consuming: %s; events: %s", self.describe(),
                 ", ".join(e for h in self.handlers for e in h.get_event_types()))

    def stop(self) -> None:
        """Stop taking messages; retries in progress end and requeue their message."""
        self.delivery.stop()
        self.listener.stop()

    def wait(self) -> None:
        self.listener.wait()

    def close(self) -> None:
        self.metrics.close()
        if self._own_transport:
            self.transport.cleanup()
        for close in reversed(self._closers):
            try:
                close()
            except Exception:  # shutting down: log and carry on
                LOG.exception("error while closing")


def share_the_queue(conf: cfg.ConfigOpts, threads: int) -> None:
    """Default RabbitMQ's prefetch to our worker count (the operator's value wins).

    With oslo.messaging's default (0, unlimited) the broker hands every waiting
    message to the first consumer: other novajoin-notify replicas on the pool
    stay idle, and during an IPA outage all messages sit unacked on one node.
    """
    for group, opts in oslo_messaging.opts.list_opts():
        if group == "oslo_messaging_rabbit":
            conf.register_opts(opts, group=group)
            conf.set_default("rabbit_qos_prefetch_count", threads, group=group)


def build_service(conf: cfg.ConfigOpts, *, transport: Any = None) -> NotifyService:
    """The real service from ``conf``: IPA client, InstanceLifecycle, transport."""
    from novajoin.join.lifecycle import InstanceLifecycle

    group = conf[notify_opts.GROUP]
    settings, servers, principal = clients.build_settings(conf)
    ipa = clients.build_ipa_client(conf, servers, principal, deadline=group.ipa_deadline)
    try:
        lifecycle = InstanceLifecycle(ipa, settings, deadline=group.ipa_deadline)
        service = NotifyService(conf, lifecycle, transport=transport, closers=[ipa.close])
    except BaseException:
        ipa.close()
        raise
    clients.log_identity(servers, principal, settings)
    return service
