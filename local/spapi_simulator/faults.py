"""Faults a test can switch on through POST /_sim/faults (README.md, "Faults").

Two families:
- the original fields (`error_rate_500`, `error_rate_503`, `drop_rate`, `latency_ms`, `token_ttl_seconds`,
  `duplicate_notifications`, `shuffle_notifications`, `operations`);
- `modes`: Amazon's real failure shapes, each `{"share": 0..1, "operations": [...] | null}` (null: every
  operation the mode can apply to; share 0 switches it off). See MODES and `MODE_SCOPES`.

Every fault injected is counted per mode (`FaultState.injected`, GET /_sim/stats "faults"). The dice are one
seeded random.Random, so a run with the same requests injects the same faults.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

# modes of any SP-API operation (applied in server.py's wrapper)
ANSWER_MODES = (
    "empty_body",
    "truncated_body",
    "html_5xx",
    "throttle_no_headers",
    "extra_fields",
    "lost_answer",
)
# modes of the paginated operations (applied where their page tokens are made and read)
PAGE_MODES = ("odd_page_tokens", "expired_page_tokens", "repeat_across_pages")
REPORT_MODES = ("report_cancelled", "report_fatal")
NOTIFICATION_MODES = ("notifications_duplicate", "notifications_late", "notifications_out_of_order")
MODES = ANSWER_MODES + PAGE_MODES + REPORT_MODES + NOTIFICATION_MODES

PAGINATED_OPERATIONS = ("searchOrders", "searchListingsItems", "getInventorySummaries")
REPORT_OPERATIONS = ("createReport", "getReport")
NOTIFICATION_TYPES = ("ORDER_CHANGE",)
# what `operations` may list per mode; None: any SP-API operationId the simulator serves
MODE_SCOPES: dict[str, tuple[str, ...] | None] = {
    **dict.fromkeys(ANSWER_MODES, None),
    **dict.fromkeys(PAGE_MODES, PAGINATED_OPERATIONS),
    **dict.fromkeys(REPORT_MODES, REPORT_OPERATIONS),
    **dict.fromkeys(NOTIFICATION_MODES, NOTIFICATION_TYPES),
}
# counters of the original fields, next to the modes' in GET /_sim/stats "faults"
LEGACY_COUNTERS = ("error_rate_500", "error_rate_503", "drop_rate")
COUNTERS = MODES + LEGACY_COUNTERS


@dataclass(frozen=True)
class Mode:
    share: float = 0.0
    operations: tuple[str, ...] | None = None

    def covers(self, operations: Iterable[str]) -> bool:
        return self.operations is None or any(o in self.operations for o in operations)

    def to_json(self) -> dict[str, Any]:
        return {"share": self.share, "operations": None if self.operations is None else list(self.operations)}


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
    modes: dict[str, Mode] = field(default_factory=dict)

    def applies_to(self, operation_id: str) -> bool:
        """Whether the original faults (500, 503, drop, latency) cover this operation."""
        return not self.operations or operation_id in self.operations

    def mode(self, name: str) -> Mode:
        return self.modes.get(name) or Mode()

    def to_json(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "modes"}
        values["modes"] = {name: self.mode(name).to_json() for name in MODES}
        return values


_RATES = ("error_rate_500", "error_rate_503", "drop_rate", "duplicate_notifications")


def _is_share(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def _parse_mode(name: str, given: Any, current: Mode, known_operations: Iterable[str] | None) -> Mode:
    where = f"modes.{name}"
    if not isinstance(given, dict):
        raise ValueError(f'{where}: an object {{"share": 0..1, "operations": [...] | null}} is required')
    unknown = sorted(set(given) - {"share", "operations"})
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown field (known: operations, share)")
    share = given.get("share", current.share)
    if not _is_share(share):
        raise ValueError(f"{where}.share: a number between 0 and 1 is required")
    operations = given.get("operations", current.operations)
    if operations is not None:
        if not isinstance(operations, list | tuple) or not all(isinstance(o, str) for o in operations):
            raise ValueError(f"{where}.operations: null or a list of operationIds is required")
        scope = MODE_SCOPES[name]
        allowed = set(scope) if scope is not None else set(known_operations or operations)
        wrong = [o for o in operations if o not in allowed]
        if wrong:
            raise ValueError(
                f"{where}.operations: {wrong[0]!r} is not an operation this mode applies to "
                f"(one of: {', '.join(sorted(allowed))})"
            )
        operations = tuple(operations)
    return Mode(float(share), operations)


def parse_faults(
    payload: Any, current: Faults | None = None, known_operations: Iterable[str] | None = None
) -> Faults:
    """Build Faults from a JSON object (fields not given keep their current value). Raises ValueError naming
    the field. `known_operations`: the operationIds the simulator serves (checks the modes' `operations`)."""
    if not isinstance(payload, dict):
        raise ValueError("body: a JSON object is required")
    known = {f.name for f in fields(Faults)}
    unknown = sorted(set(payload) - known)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown fault (known: {', '.join(sorted(known))})")
    base = current or Faults()
    values = {f.name: getattr(base, f.name) for f in fields(Faults)}
    values.update({k: v for k, v in payload.items() if k != "modes"})
    for name in _RATES:
        if not _is_share(values[name]):
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
    modes = dict(base.modes)
    given_modes = payload.get("modes", {})
    if given_modes is None:
        given_modes = {}
    if not isinstance(given_modes, dict):
        raise ValueError(
            'modes: an object {"<mode>": {"share": 0..1, "operations": [...] | null}} is required'
        )
    for name, given in given_modes.items():
        if name not in MODE_SCOPES:
            raise ValueError(f"modes.{name}: unknown mode (known: {', '.join(MODES)})")
        modes[name] = _parse_mode(name, given, base.mode(name), known_operations)
    values["modes"] = modes
    return Faults(**values)


@dataclass
class FaultState:
    faults: Faults = field(default_factory=Faults)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    lock: threading.Lock = field(default_factory=threading.Lock)
    injected: dict[str, int] = field(default_factory=dict)

    def roll(self, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self.lock:
            return self.rng.random() < rate

    def choice(self, options: tuple[Any, ...]) -> Any:
        with self.lock:
            return self.rng.choice(options)

    def pick(self, mode: str, *operations: str) -> bool:
        """Roll the dice of `mode` for a call of one of `operations` (or a notification type); count a hit."""
        chosen = self.faults.mode(mode)
        if chosen.share <= 0.0 or not chosen.covers(operations):
            return False
        if not self.roll(chosen.share):
            return False
        self.count(mode)
        return True

    def count(self, name: str) -> None:
        with self.lock:
            self.injected[name] = self.injected.get(name, 0) + 1

    def counts(self) -> dict[str, int]:
        """Faults injected so far, every counter listed (0 when none)."""
        with self.lock:
            return {name: self.injected.get(name, 0) for name in COUNTERS}

    def reset_counts(self) -> None:
        with self.lock:
            self.injected.clear()
