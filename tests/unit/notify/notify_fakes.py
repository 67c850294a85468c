"""Stand-ins for novajoin.join.lifecycle used by the listener unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FakeOutcome:
    action: str
    changed: bool = True
    detail: str = ""


class RecordingLifecycle:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _record(self, name: str, *args: Any, **kwargs: Any) -> FakeOutcome:
        self.calls.append((name, args, kwargs))
        return FakeOutcome(name)

    def instance_deleted(self, instance_id):
        return self._record("instance_deleted", instance_id)

    def instance_rebuilt(self, instance_id):
        return self._record("instance_rebuilt", instance_id)

    def instance_updated(self, instance_id, metadata):
        return self._record("instance_updated", instance_id, dict(metadata))

    def floating_ip_associated(self, instance_id, address, *, port_id=None):
        return self._record("floating_ip_associated", instance_id, address, port_id=port_id)

    def floating_ip_disassociated(self, address, *, port_id=None):
        return self._record("floating_ip_disassociated", address, port_id=port_id)

    def port_deleted(self, port_id, instance_id):
        return self._record("port_deleted", port_id, instance_id)

    def fixed_ips_created(self, instance_id, addresses):
        return self._record("fixed_ips_created", instance_id, list(addresses))
