"""What one simulator holds (config, clock, world, quotas, faults, stats), below the HTTP layer that serves it.

server.py and the API modules work on a `SimulatorState`; simulator.Simulator adds the HTTP server around it.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from . import generator
from .clock import Clock
from .faults import FaultState
from .quotas import Quotas
from .world import World


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 1
    skus: int = 20
    orders: int = 40
    quota_scale: float = 1.0
    token_ttl: float = 3600.0
    report_seconds: float = 2.0
    feed_seconds: float = 2.0
    listing_delay: float = 0.0
    pending_release_seconds: float | None = None
    sqs_endpoint_url: str | None = None


@dataclass
class Stats:
    calls: dict[str, int] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def bump(self, table: dict[str, int], operation_id: str) -> None:
        table[operation_id] = table.get(operation_id, 0) + 1

    def to_json(self) -> dict[str, dict[str, int]]:
        return {"calls": dict(self.calls), "throttled": dict(self.throttled), "errors": dict(self.errors)}

    def reset(self) -> None:
        self.calls.clear()
        self.throttled.clear()
        self.errors.clear()


class SimulatorState:
    """The generated world on its clock, with the quotas, faults and call counts the HTTP layer applies."""

    def __init__(self, config: SimulatorConfig) -> None:
        if config.skus < 0 or config.orders < 0:
            raise ValueError("skus/orders: must not be negative")
        if config.quota_scale <= 0:
            raise ValueError("quota_scale: must be positive")
        self.config = config
        self.clock = Clock()
        self.world = World(self.clock, token_ttl=float(config.token_ttl))
        self.world.pending_release_seconds = config.pending_release_seconds
        self.quotas = Quotas(self.clock, config.quota_scale)
        self.faults = FaultState()
        self.stats = Stats()
        self.stats_lock = threading.Lock()
        self.url = ""
        self.extensions: dict[
            str, Any
        ] = {}  # per-simulator state of API modules (e.g. notification delivery)
        generator.populate(self.world, seed=config.seed, skus=config.skus, orders=config.orders)

    # -- what survives a restart (storesync_local/state.py pickles it) ------------------------------------------
    def saved_state(self) -> dict[str, Any]:
        """Sellers, LWA codes, grants and tokens, orders (with their shipments), notification destinations and
        subscriptions, the catalog's listings and due changes, the clock's offset (plain data: nothing in it
        refers to the clock, the locks or the listeners, which stay those of the live simulator), and the reports,
        feeds and their documents (a report's document is produced when it is downloaded, by a module function
        named in it). Not kept: faults, quota buckets, call counts, notification delivery. Call it with no
        request running."""
        world = self.world
        with world.lock:
            saved: dict[str, Any] = {
                "format": SAVED_STATE_FORMAT,
                "clock_offset": self.clock.offset,
                "world": {name: getattr(world, name) for name in _SAVED_WORLD},
                "world_counter": next(world._counter),  # noqa: SLF001 - the world's own id counter
            }
            saved["extensions"] = {
                name: self.extensions[name] for name in SAVED_EXTENSIONS if name in self.extensions
            }
            catalog = world.catalog
            if catalog is not None:
                saved["catalog"] = {name: getattr(catalog, name) for name in _SAVED_CATALOG}
                saved["catalog_seq"] = next(catalog._seq)  # noqa: SLF001
            return saved

    def load_saved_state(self, saved: dict[str, Any]) -> None:
        """Put a `saved_state()` in place of the generated world (before the simulator serves requests)."""
        if saved.get("format") != SAVED_STATE_FORMAT:
            raise ValueError(f"saved state: format {saved.get('format')!r}, expected {SAVED_STATE_FORMAT}")
        world = self.world
        with world.lock:
            self.clock.restore_offset(float(saved["clock_offset"]))
            for name, value in saved["world"].items():
                setattr(world, name, value)
            world._counter = itertools.count(int(saved["world_counter"]))  # noqa: SLF001
            if "catalog" in saved and world.catalog is not None:
                for name, value in saved["catalog"].items():
                    setattr(world.catalog, name, value)
                world.catalog._seq = itertools.count(int(saved["catalog_seq"]))  # noqa: SLF001
            self.extensions.update(saved.get("extensions") or {})  # a state saved before they were kept: none


SAVED_STATE_FORMAT = 1
_SAVED_WORLD = (
    "sellers",
    "codes",
    "grants",
    "tokens",
    "orders",
    "destinations",
    "subscriptions",
    "_release_heap",
)
_SAVED_CATALOG = ("_tables", "_due")
# the API modules' state kept across a restart (documents.extension): reports, feeds and their documents
SAVED_EXTENSIONS = ("documents", "reports", "feeds")
