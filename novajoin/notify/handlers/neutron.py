"""neutron's floating IP and port events.

A floating IP is published for an instance only when neutron tells which
instance holds the port (``port_details.device_id`` of a ``compute:*``
port, from the fip-port-details extension); novajoin does not ask neutron.
``port.delete.end`` matters because neutron disassociates a deleted port's
floating IPs without sending any floatingip notification.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from novajoin.notify import payloads
from novajoin.notify.handlers.base import Lifecycle, NotificationHandler, Outcome

LOG = logging.getLogger("novajoin.notify")

FIP_CREATE = "floatingip.create.end"
FIP_UPDATE = "floatingip.update.end"
FIP_DELETE = "floatingip.delete.end"
PORT_DELETE = "port.delete.end"


def _is_instance_port(device_owner: str | None) -> bool:
    # Unknown owner (older neutron, no details): let the domain layer decide by ownership.
    return device_owner is None or device_owner.startswith("compute:")


class NeutronHandler(NotificationHandler):
    name = "neutron"

    def __init__(
        self, lifecycle: Lifecycle, *, exchange: str = "neutron", topics: list[str] | None = None
    ) -> None:
        super().__init__(lifecycle)
        self.exchange = exchange
        self.topics = list(topics or ["notifications"])
        self._table: dict[str, Callable[[str, Any], Outcome | None]] = {
            FIP_CREATE: self._floatingip_changed,
            FIP_UPDATE: self._floatingip_changed,
            FIP_DELETE: self._floatingip_deleted,
            PORT_DELETE: self._port_deleted,
        }

    def get_exchange_topics(self) -> tuple[str, list[str]]:
        return self.exchange, list(self.topics)

    def get_event_types(self) -> list[str]:
        return list(self._table)

    def process_notification(
        self, context: Mapping[str, Any], event_type: str, payload: Any, publisher_id: str
    ) -> Outcome | None:
        action = self._table.get(event_type)
        if action is None:
            return None
        return action(event_type, payload)

    def _floatingip_changed(self, event_type: str, payload: Any) -> Outcome | None:
        fip = payloads.neutron_floatingip(payload)
        if fip.port_id is None:
            if event_type == FIP_CREATE:
                return None  # a new, unassociated floating IP: nothing was published
            return self.lifecycle.floating_ip_disassociated(fip.address)
        if fip.device_id is None or not _is_instance_port(fip.device_owner):
            LOG.info("floating IP %s associated with port %s of no known instance: not "
                     "published", fip.address, fip.port_id)
            return None
        return self.lifecycle.floating_ip_associated(fip.device_id, fip.address,
                                                     port_id=fip.port_id)

    def _floatingip_deleted(self, event_type: str, payload: Any) -> Outcome:
        address = payloads.neutron_deleted_floatingip_address(payload)
        return self.lifecycle.floating_ip_disassociated(address)

    def _port_deleted(self, event_type: str, payload: Any) -> Outcome | None:
        port = payloads.neutron_deleted_port(payload)
        if not _is_instance_port(port.device_owner):
            return None
        return self.lifecycle.port_deleted(port.port_id, port.device_id)
