"""Console entry points: thin callers of the parts they start."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from novajoin.conf.clients import ConfigError

T = TypeVar("T")


def build_or_report(log: logging.Logger, build: Callable[[], T]) -> T | None:
    """``build()``, or None after one ``configuration error: ...`` line on ConfigError.

    The message names the option and what is wrong with it: an operator needs no
    traceback, so the line is logged outside the except block.
    """
    try:
        return build()
    except ConfigError as exc:
        problem = str(exc)
    log.error("configuration error: %s", problem)
    return None
