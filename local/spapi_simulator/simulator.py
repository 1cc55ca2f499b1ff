"""`Simulator`: the world, the clock, quotas, faults and the HTTP server around them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from . import generator
from .clock import Clock
from .faults import FaultState
from .http_server import BackgroundWsgiServer
from .quotas import Quotas
from .server import Stats, build_app
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


class Simulator:
    """A local Amazon: `with Simulator(seed=1).start() as sim: requests.get(sim.url + ...)`."""

    def __init__(
        self,
        seed: int = 1,
        skus: int = 20,
        orders: int = 40,
        quota_scale: float = 1.0,
        token_ttl: float = 3600,
        report_seconds: float = 2.0,
        feed_seconds: float = 2.0,
        listing_delay: float = 0.0,
        pending_release_seconds: float | None = None,
        sqs_endpoint_url: str | None = None,
    ) -> None:
        if skus < 0 or orders < 0:
            raise ValueError("skus/orders: must not be negative")
        if quota_scale <= 0:
            raise ValueError("quota_scale: must be positive")
        self.config = SimulatorConfig(
            seed, skus, orders, quota_scale, float(token_ttl), report_seconds, feed_seconds,
            listing_delay, pending_release_seconds, sqs_endpoint_url,
        )  # fmt: skip
        self.clock = Clock()
        self.world = World(self.clock, token_ttl=float(token_ttl))
        self.world.pending_release_seconds = pending_release_seconds
        self.quotas = Quotas(self.clock, quota_scale)
        self.faults = FaultState()
        self.stats = Stats()
        self.stats_lock = threading.Lock()
        self.url = ""
        self.extensions: dict[
            str, Any
        ] = {}  # per-simulator state of API modules (e.g. notification delivery)
        self._http: BackgroundWsgiServer | None = None
        generator.populate(self.world, seed=seed, skus=skus, orders=orders)
        self.app = build_app(self)
        for hook in _START_HOOKS:
            hook(self)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        if self._http is not None:
            raise RuntimeError("the simulator is already started")
        self._http = BackgroundWsgiServer(self.app, "spapi-simulator")
        self.url = self._http.start(host, port)
        return self

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("the simulator is not started")
        return self._http.port

    def stop(self) -> None:
        for hook in _STOP_HOOKS:
            hook(self)
        if self._http is not None:
            self._http.stop()
            self._http = None

    def __enter__(self) -> Simulator:
        if self._http is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


_START_HOOKS: list[Any] = []
_STOP_HOOKS: list[Any] = []


def on_create(hook: Any) -> Any:
    """Register `hook(sim)` run when a Simulator is created (after its routes are loaded)."""
    _START_HOOKS.append(hook)
    return hook


def on_stop(hook: Any) -> Any:
    """Register `hook(sim)` run when a Simulator stops."""
    _STOP_HOOKS.append(hook)
    return hook
