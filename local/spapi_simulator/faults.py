"""Faults a test can switch on through POST /_sim/faults."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Faults:
    error_rate_500: float = 0.0
    error_rate_503: float = 0.0
    latency_ms: int = 0
    drop_rate: float = 0.0
    token_ttl_seconds: float | None = None
    duplicate_notifications: float = 0.0
    shuffle_notifications: bool = False
    operations: list[str] | None = None

    def applies_to(self, operation_id: str) -> bool:
        return not self.operations or operation_id in self.operations

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_RATES = ("error_rate_500", "error_rate_503", "drop_rate", "duplicate_notifications")


def parse_faults(payload: Any, current: Faults | None = None) -> Faults:
    """Build Faults from a JSON object (fields not given keep their current value). Raises ValueError."""
    if not isinstance(payload, dict):
        raise ValueError("body: a JSON object is required")
    known = {f.name for f in fields(Faults)}
    unknown = sorted(set(payload) - known)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown fault (known: {', '.join(sorted(known))})")
    values = asdict(current or Faults())
    values.update(payload)
    for name in _RATES:
        value = values[name]
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{name}: a number between 0 and 1 is required")
    if not isinstance(values["latency_ms"], int) or values["latency_ms"] < 0:
        raise ValueError("latency_ms: a non-negative integer is required")
    ttl = values["token_ttl_seconds"]
    if ttl is not None and (not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl < 0):
        raise ValueError("token_ttl_seconds: null or a non-negative number is required")
    if not isinstance(values["shuffle_notifications"], bool):
        raise ValueError("shuffle_notifications: true or false is required")
    ops = values["operations"]
    if ops is not None and (not isinstance(ops, list) or not all(isinstance(o, str) for o in ops)):
        raise ValueError("operations: null or a list of operationIds is required")
    return Faults(**values)


@dataclass
class FaultState:
    faults: Faults = field(default_factory=Faults)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def roll(self, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self.lock:
            return self.rng.random() < rate
