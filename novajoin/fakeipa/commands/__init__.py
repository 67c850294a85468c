"""Command implementations of the IPA simulator, one module per IPA object.

Each module registers its handlers in ``HANDLERS`` with ``@command(name)``.  A
handler receives the engine's context and the converted, validated parameters
(arguments and options by name, defaults filled in) and returns the result
object exactly as IPA puts it under the JSON-RPC ``result`` key.
"""

from __future__ import annotations

# Importing the modules registers their handlers.
from novajoin.fakeipa.commands import dns, host, hostgroup, misc, rbac, service  # noqa: F401
from novajoin.fakeipa.commands._common import HANDLERS, Ctx, command

__all__ = ["HANDLERS", "Ctx", "command"]
