"""nova's instance events (legacy and versioned) and nova-network's floating IPs.

Update (``instance.update`` / ``compute.instance.update``): managed services, host
classes and hostgroups that appeared in the metadata are added; nothing is removed
(see ``InstanceLifecycle.instance_updated``).  Updates whose metadata asks for none of
them cost no IPA call.

Rebuild: keys are revoked on ``rebuild.start`` only.  nova builds the new
config drive (asking novajoin-server for vendordata) and boots the new image
between start and end; the host must be disabled by then so that the
rebuilt instance gets a fresh OTP.  Acting on ``rebuild.end`` would race
with the rebuilt instance's own enrollment and could revoke its new keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from novajoin.conf import notify as notify_opts
from novajoin.notify import payloads
from novajoin.notify.handlers.base import Lifecycle, NotificationHandler, Outcome

LOG = logging.getLogger("novajoin.notify")

LEGACY_DELETE = "compute.instance.delete.end"
LEGACY_REBUILD = "compute.instance.rebuild.start"
LEGACY_CREATE = "compute.instance.create.end"
LEGACY_UPDATE = "compute.instance.update"
NETWORK_FIP_ASSOCIATE = "network.floating_ip.associate"
NETWORK_FIP_DISASSOCIATE = "network.floating_ip.disassociate"
VERSIONED_DELETE = "instance.delete.end"
VERSIONED_REBUILD = "instance.rebuild.start"
VERSIONED_CREATE = "instance.create.end"
VERSIONED_UPDATE = "instance.update"


class NovaHandler(NotificationHandler):
    """Instance delete / rebuild / create.end and nova-network floating IPs."""

    name = "nova"

    def __init__(
        self,
        lifecycle: Lifecycle,
        *,
        exchange: str = "nova",
        notification_format: str = notify_opts.FORMAT_BOTH,
        legacy_topics: list[str] | None = None,
        versioned_topics: list[str] | None = None,
        manage_fixed_ip_dns: bool = False,
    ) -> None:
        super().__init__(lifecycle)
        self.exchange = exchange
        self.legacy = notification_format in (notify_opts.FORMAT_LEGACY, notify_opts.FORMAT_BOTH)
        self.versioned = notification_format in (notify_opts.FORMAT_VERSIONED,
                                                 notify_opts.FORMAT_BOTH)
        self.legacy_topics = list(legacy_topics or ["notifications"])
        self.versioned_topics = list(versioned_topics or ["versioned_notifications"])
        self.manage_fixed_ip_dns = manage_fixed_ip_dns
        self._table: dict[str, Callable[[Any], Outcome | None]] = {}
        if self.legacy:
            self._table[LEGACY_DELETE] = self._legacy_delete
            self._table[LEGACY_REBUILD] = self._legacy_rebuild
            self._table[LEGACY_UPDATE] = self._legacy_update
            self._table[NETWORK_FIP_ASSOCIATE] = self._network_fip_associate
            self._table[NETWORK_FIP_DISASSOCIATE] = self._network_fip_disassociate
            if manage_fixed_ip_dns:
                self._table[LEGACY_CREATE] = self._legacy_create
        if self.versioned:
            self._table[VERSIONED_DELETE] = self._versioned_delete
            self._table[VERSIONED_REBUILD] = self._versioned_rebuild
            self._table[VERSIONED_UPDATE] = self._versioned_update
            if manage_fixed_ip_dns:
                self._table[VERSIONED_CREATE] = self._versioned_create

    def get_exchange_topics(self) -> tuple[str, list[str]]:
        topics: list[str] = []
        if self.legacy:
            topics += self.legacy_topics
        if self.versioned:
            topics += [t for t in self.versioned_topics if t not in topics]
        return self.exchange, topics

    def get_event_types(self) -> list[str]:
        return list(self._table)

    def process_notification(
        self, context: Mapping[str, Any], event_type: str, payload: Any, publisher_id: str
    ) -> Outcome | None:
        action = self._table.get(event_type)
        if action is None:
            return None
        return action(payload)

    # --- legacy -------------------------------------------------------------------

    def _legacy_delete(self, payload: Any) -> Outcome:
        return self.lifecycle.instance_deleted(payloads.legacy_instance_id(payload))

    def _legacy_rebuild(self, payload: Any) -> Outcome:
        return self.lifecycle.instance_rebuilt(payloads.legacy_instance_id(payload))

    def _legacy_create(self, payload: Any) -> Outcome | None:
        instance_id = payloads.legacy_instance_id(payload)
        addresses = payloads.legacy_fixed_ips(payload)
        if not addresses:
            return None
        return self.lifecycle.fixed_ips_created(instance_id, addresses)

    def _legacy_update(self, payload: Any) -> Outcome:
        return self.lifecycle.instance_updated(payloads.legacy_instance_id(payload),
                                               payloads.legacy_metadata(payload))

    def _network_fip_associate(self, payload: Any) -> Outcome:
        instance_id, address = payloads.legacy_floating_ip(payload)
        return self.lifecycle.floating_ip_associated(instance_id, address)

    def _network_fip_disassociate(self, payload: Any) -> Outcome:
        _instance_id, address = payloads.legacy_floating_ip(payload)
        return self.lifecycle.floating_ip_disassociated(address)

    # --- versioned ----------------------------------------------------------------

    def _versioned_delete(self, payload: Any) -> Outcome:
        return self.lifecycle.instance_deleted(payloads.versioned_instance_id(payload))

    def _versioned_rebuild(self, payload: Any) -> Outcome:
        return self.lifecycle.instance_rebuilt(payloads.versioned_instance_id(payload))

    def _versioned_update(self, payload: Any) -> Outcome:
        return self.lifecycle.instance_updated(payloads.versioned_instance_id(payload),
                                               payloads.versioned_metadata(payload))

    def _versioned_create(self, payload: Any) -> Outcome | None:
        instance_id = payloads.versioned_instance_id(payload)
        addresses = payloads.versioned_ip_addresses(payload)
        if not addresses:
            return None
        return self.lifecycle.fixed_ips_created(instance_id, addresses)
