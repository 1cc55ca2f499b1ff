"""How much time the invocation has left, for long work that must never overrun its Lambda.

A job slice stops starting new work when either its own budget is spent (seconds since it started) or the
invocation's remaining time falls below a safety margin (the time it needs to save its cursor, write its run
and send its continuation). The remaining time comes in as a plain callable (seconds left): the handler
builds it from Lambda's context (`from_context`), unit tests pass a fake clock. Use cases know nothing of
Lambda.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

RemainingSeconds = Callable[[], float]


def unlimited() -> float:
    """No invocation limit (tests, scripts): only the slice's own budget counts."""
    return math.inf


class HasRemainingTime(Protocol):
    """What a Lambda context offers (and the local runtime's context too)."""

    def get_remaining_time_in_millis(self) -> int: ...


def from_context(context: HasRemainingTime | None) -> RemainingSeconds:
    """The invocation's remaining seconds from a Lambda context; unlimited when there is none."""
    if context is None or not callable(getattr(context, "get_remaining_time_in_millis", None)):
        return unlimited
    return lambda: context.get_remaining_time_in_millis() / 1000.0


@dataclass(frozen=True)
class InvocationTime:
    """The invocation's remaining time and the margin a slice keeps for finishing cleanly."""

    remaining: RemainingSeconds = unlimited
    margin_seconds: float = 0.0

    def running_out(self) -> bool:
        """True when less than the margin is left: start no new unit of work, save and continue."""
        return self.remaining() < self.margin_seconds
