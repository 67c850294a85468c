"""One handler per notification source (designate-sink style)."""

from novajoin.notify.handlers.base import NotificationHandler
from novajoin.notify.handlers.neutron import NeutronHandler
from novajoin.notify.handlers.nova import NovaHandler

__all__ = ["NeutronHandler", "NotificationHandler", "NovaHandler"]
