"""Loading the template's Lambda handlers exactly as Lambda would: by CodeUri and Handler, same code."""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]
_counter = itertools.count()


def load_handler(code_uri: Path, handler: str, env: dict[str, str] | None = None) -> Handler:
    """Import `<code_uri>/<module>.py` under a fresh module name (a cold start) and return its handler.

    `env` is applied to os.environ first, because handlers validate their settings at import.
    """
    if env:
        os.environ.update(env)
    module_name, function_name = handler.rsplit(".", 1)
    path = Path(code_uri) / f"{module_name.replace('.', '/')}.py"
    unique = f"storesync_fn_{Path(code_uri).name}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler {handler} from {code_uri}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return getattr(module, function_name)  # type: ignore[no-any-return]


class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context. Given `started` (time.monotonic() at the start
    of the invocation, as the runtime gives it), the remaining time counts down from the function's timeout
    like Lambda's; without it (a context a test reuses across invocations) it stays at the full timeout."""

    def __init__(self, function_name: str, timeout_seconds: int = 60, started: float | None = None) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = f"local-{next(_counter)}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._timeout_ms = timeout_seconds * 1000
        self._started = started

    def get_remaining_time_in_millis(self) -> int:
        if self._started is None:
            return self._timeout_ms
        return max(0, self._timeout_ms - int((time.monotonic() - self._started) * 1000))
