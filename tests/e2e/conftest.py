"""The `local_runtime` fixture: the whole local runtime (moto, simulator, gateway, schedules, pollers) on free ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from storesync_local.runtime import LocalRuntime, RuntimeConfig, unique_stack_name

E2E_SPEED = 3600.0  # one real second = one simulated hour: a 20-minute schedule ticks three times a second


@pytest.fixture
def local_runtime_factory() -> Iterator[Callable[..., LocalRuntime]]:
    """Start a LocalRuntime with RuntimeConfig overrides; every runtime started is stopped afterwards."""
    started: list[LocalRuntime] = []

    def make(**overrides: Any) -> LocalRuntime:
        config = RuntimeConfig(
            api_port=0,
            spapi_port=0,
            moto_port=0,
            speed=E2E_SPEED,
            quota_scale=1000.0,
            stack_name=unique_stack_name("e2e"),
            external_spapi=None,
        )
        for key, value in overrides.items():
            setattr(config, key, value)
        runtime = LocalRuntime(config)
        started.append(runtime)
        return runtime.start()

    yield make
    for runtime in started:
        runtime.stop()


@pytest.fixture
def local_runtime(local_runtime_factory: Callable[..., LocalRuntime]) -> LocalRuntime:
    return local_runtime_factory()
