"""`Simulator`: the simulator's state (state.py) and the HTTP server around it."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from .http_server import BackgroundWsgiServer
from .server import build_app
from .state import SimulatorConfig, SimulatorState


class Simulator(SimulatorState):
    """A local Amazon: `with Simulator(seed=1).start() as sim: requests.get(sim.url + ...)`."""

    def __init__(self, **settings: Any) -> None:
        """`settings`: the fields of state.SimulatorConfig (seed, skus, orders, quota_scale, token_ttl, ...)."""
        super().__init__(SimulatorConfig(**settings))
        self._http: BackgroundWsgiServer | None = None
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
