"""pytest fixtures: `spapi_sim` (a started Simulator, small data, quota_scale=1000) and `spapi_sim_factory`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .simulator import Simulator

SMALL_WORLD: dict[str, Any] = {"seed": 1, "skus": 20, "orders": 40, "quota_scale": 1000.0}


def clear_sp_api_caches() -> None:
    """python-amazon-sp-api caches access tokens per refresh token at module level."""
    try:
        from sp_api.auth import access_token_client
    except ImportError:  # pragma: no cover - the library is a dev dependency
        return
    access_token_client.cache.clear()
    access_token_client.grantless_cache.clear()


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
