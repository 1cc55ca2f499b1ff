"""pytest fixtures: `spapi_sim` (a started Simulator, small data, quota_scale=1000) and `spapi_sim_factory`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .simulator import Simulator
from .testing import clear_sp_api_caches

SMALL_WORLD: dict[str, Any] = {"seed": 1, "skus": 20, "orders": 40, "quota_scale": 1000.0}


@pytest.fixture
def spapi_sim_factory() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def make(**kwargs: Any) -> Simulator:
        clear_sp_api_caches()
        sim = Simulator(**{**SMALL_WORLD, **kwargs}).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
    clear_sp_api_caches()


@pytest.fixture
def spapi_sim(spapi_sim_factory: Callable[..., Simulator]) -> Simulator:
    return spapi_sim_factory()
