"""Backoff between retry rounds.

Full jitter (a uniform delay between 0 and the exponential bound) spreads the
retries of many workers that failed together, so a recovering IPA server is
not hit by a synchronised wave.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """``delay(n)`` is uniform in [0, min(cap, base * 2**n)]."""

    base: float = 0.1
    cap: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(
        default=random.random, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0:
            raise ValueError("backoff base and cap must not be negative")

    def bound(self, round_number: int) -> float:
        return min(self.cap, self.base * (2 ** max(0, round_number)))

    def delay(self, round_number: int) -> float:
        return self.random() * self.bound(round_number)
