"""The contract every notification handler follows.

A handler says where its events come from (``get_exchange_topics``) and
which events it handles (``get_event_types``: the listener's filter lets only
these through), and turns one notification into one domain operation
(``process_notification``).  Handlers hold no state and never decide about
retries: they raise ``Poison`` for payloads they cannot read and let the
domain layer's ``IPAUnavailable`` / ``IPACommandFailed`` propagate to the
delivery policy.  Which IPA objects to touch is decided by ownership in the
domain layer, never by re-deriving names from the payload.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Outcome(Protocol):
    """What novajoin.join.lifecycle returns (its ``Outcome`` dataclass)."""

    action: str
    changed: bool
    detail: str


class Lifecycle(Protocol):
    """The domain operations handlers call (novajoin.join.lifecycle.InstanceLifecycle)."""

    def instance_deleted(self, instance_id: str) -> Outcome: ...

    def instance_rebuilt(self, instance_id: str) -> Outcome: ...

    def instance_updated(self, instance_id: str, metadata: Mapping[str, object]) -> Outcome: ...

    def floating_ip_associated(
        self, instance_id: str, address: str, *, port_id: str | None = None
    ) -> Outcome: ...

    def floating_ip_disassociated(
        self, address: str, *, port_id: str | None = None
    ) -> Outcome: ...

    def port_deleted(self, port_id: str, instance_id: str | None) -> Outcome: ...

    def fixed_ips_created(self, instance_id: str, addresses: Sequence[str]) -> Outcome: ...


class NotificationHandler(abc.ABC):
    """Base of the per-source handlers."""

    #: Short name for logs and metrics.
    name = "base"

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle

    @abc.abstractmethod
    def get_exchange_topics(self) -> tuple[str, list[str]]:
        """(exchange, topics) to consume from."""

    @abc.abstractmethod
    def get_event_types(self) -> list[str]:
        """Exact event types this handler acts on."""

    @abc.abstractmethod
    def process_notification(
        self, context: Mapping[str, Any], event_type: str, payload: Any, publisher_id: str
    ) -> Outcome | None:
        """Act on one notification; None when there is nothing to do for it (ignored)."""
