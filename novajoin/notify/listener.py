"""Wire oslo.messaging to the handlers: targets, pool queue, endpoints, routing.

One endpoint per handler.  nova and neutron send every event novajoin handles
at INFO priority (ERROR is used for ``*.error`` events, which novajoin does not
act on), so endpoints implement ``info`` only and the pool queue is bound to
``<topic>.info`` alone.

The broker cannot filter by event type: nova sends ``delete.start`` and
``delete.end`` (and every other instance event) with the same routing key, so
at least half of what the pool queue receives is of no interest.  oslo.messaging
would hand each of those to a worker thread and run a ``NotificationFilter``
(regular expressions over five fields) per endpoint there.  Instead ``Router``
maps each handled event type to its endpoint with one dict look-up, and the
server asks it on the AMQP poll thread, which acks unwanted events at once
(the ack is queued to that same thread: no thread hand-off, no worker taken).
Only events a handler acts on reach a worker, and they are acked there only
after the delivery policy says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import oslo_messaging
import oslo_messaging.opts
from oslo_config import cfg
from oslo_messaging.notify import dispatcher as oslo_dispatcher
from oslo_messaging.notify import listener as oslo_listener

from novajoin.conf import clients
from novajoin.conf import notify as notify_opts
from novajoin.notify import metrics as m
from novajoin.notify.delivery import HANDLED, Delivery, RetryPolicy
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


class Endpoint:
    """oslo.messaging endpoint for one handler, delivering through the policy."""

    def __init__(self, handler: NotificationHandler, delivery: Delivery) -> None:
        self.handler = handler
        self.delivery = delivery

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


class Router(oslo_dispatcher.NotificationDispatcher):
    """Routes each handled event type to its endpoint with one dict look-up.

    A NotificationDispatcher for oslo.messaging (which binds the pool queue to
    the priorities the endpoints implement), whose ``dispatch`` replaces the
    per-endpoint filters.  Anything no handler acts on is HANDLED (acked)
    without reaching novajoin code, as the filters did.
    """

    def __init__(self, endpoints: list[Endpoint]) -> None:
        super().__init__(endpoints, None)
        self.routes: dict[str, Endpoint] = {}
        for endpoint in endpoints:
            for event_type in endpoint.handler.get_event_types():
                self.routes.setdefault(event_type, endpoint)

    def route(self, message: Any) -> Endpoint | None:
        """The endpoint for an incoming message's body; None when nobody acts on it."""
        if not isinstance(message, Mapping):
            return None
        event_type = message.get("event_type")
        endpoint = self.routes.get(event_type) if isinstance(event_type, str) else None
        if endpoint is None or str(message.get("priority", "")).lower() != "info":
            return None
        return endpoint

    def dispatch(self, incoming: Any) -> str:
        message = incoming.message
        endpoint = self.route(message)
        if endpoint is None:
            return HANDLED
        metadata = {"message_id": message.get("message_id"),
                    "timestamp": message.get("timestamp")}
        return endpoint.info(incoming.ctxt, message.get("publisher_id"), message["event_type"],
                             message.get("payload"), metadata)


class Server(oslo_listener.NotificationServer):
    """oslo.messaging's notification server, acking unwanted events on the poll thread.

    ``_on_incoming`` is where the poll thread hands a message to the worker
    pool; an event the Router does not route is acked there instead (what the
    worker would have done, minus the hand-off).  Should a later oslo.messaging
    stop calling this hook, the Router still drops those events in the worker.
    """

    dispatcher: Router

    def _on_incoming(self, incoming: list[Any]) -> None:
        wanted = []
        for message in incoming:
            if self.dispatcher.route(message.message) is not None:
                wanted.append(message)
                continue
            try:
                message.acknowledge()
            except Exception:  # as oslo.messaging's server does: log, the broker redelivers
                LOG.exception("failed to acknowledge an ignored notification")
        if wanted:
            super()._on_incoming(wanted)


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
        self.router = Router(self.endpoints)
        self.pool = group.pool
        self.threads = group.executor_threads
        # What oslo_messaging.get_notification_listener builds, with our router and server.
        self.listener = Server(self.transport, self.targets, self.router, "threading",
                               True, self.pool)
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


#: Unacked messages the broker may hand one listener, per executor thread.
PREFETCH_PER_THREAD = 2


def share_the_queue(conf: cfg.ConfigOpts, threads: int) -> None:
    """Default RabbitMQ's prefetch to twice our worker count (the operator's value wins).

    With oslo.messaging's default (0, unlimited) the broker hands every waiting
    message to the first consumer: other novajoin-notify replicas on the pool
    stay idle, and during an IPA outage all messages sit unacked on one node.
    Exactly one per thread leaves workers idle: oslo.messaging sends a worker's
    ack only when its poll thread next wakes (after a frame arrives or a read
    timeout that grows to seconds), and the broker sends the next message only
    after that ack.  With a second message per thread waiting, a worker that
    finishes takes the next at once (1,000-delete drain: ~2 more of the 16
    workers busy on average, drain and CPU per delete ~2 % lower; 4x was worse).
    """
    for group, opts in oslo_messaging.opts.list_opts():
        if group == "oslo_messaging_rabbit":
            conf.register_opts(opts, group=group)
            conf.set_default("rabbit_qos_prefetch_count", PREFETCH_PER_THREAD * threads,
                             group=group)


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
