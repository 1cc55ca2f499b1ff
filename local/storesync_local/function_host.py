"""`FunctionHost`: one of the template's Lambda functions as the local runtime runs it, with its concurrency.

Each function has up to `concurrency` execution environments (the handler module imported afresh in each: a
cold start), reused while idle (a warm start); `local_concurrency` reads that limit from the template. The
runtime (runtime.py) builds one host per function and invokes them from the gateway, the pollers and the
scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .functions import FakeLambdaContext, Handler, load_handler

log = logging.getLogger("storesync_local")

RELOAD_INTERVAL_SECONDS = 5.0
# Invocations of one function at once (Lambda-like execution environments); FUNCTION_CONCURRENCY overrides it.
DEFAULT_FUNCTION_CONCURRENCY = 4

HTTP_EVENT_TYPES = frozenset({"HttpApi", "Api"})


def local_concurrency(spec: dict[str, Any], default: int) -> int:
    """How many invocations of a function run at once here: the template's literal reserved concurrency, else
    one for a function behind the HTTP API, else `default`. Here the execution environments share the layer's
    modules (in Lambda each has its own process), and Powertools' resolver keeps the current request on the
    one shared app object: two requests at once would read each other's (and race in building the OpenAPI
    document), so the API runs its requests one after another, as the local runtime always did."""
    if spec.get("reserved_concurrency"):
        return int(spec["reserved_concurrency"])
    if any(event.get("Type") in HTTP_EVENT_TYPES for event in spec.get("events", {}).values()):
        return 1
    return default


class FunctionHost:
    """One Lambda function, run as Lambda runs it: up to `concurrency` invocations at once, each in an execution
    environment of its own (the handler module imported afresh: a cold start); an idle environment is reused
    (a warm start). An invocation beyond the limit waits for an environment to be free (locally that is
    the throttle: nothing is rejected)."""

    def __init__(
        self,
        logical_id: str,
        spec: dict[str, Any],
        override: Handler | None = None,
        concurrency: int = DEFAULT_FUNCTION_CONCURRENCY,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency of {logical_id}: {concurrency}; it must be at least 1")
        self.logical_id = logical_id
        self.spec = spec
        self.concurrency = concurrency
        self.handler: Handler | None = override  # the first environment's handler (None until loaded)
        self.load_error: str | None = None
        self.invocations = 0
        self.cold_starts = 0
        self.peak_concurrency = 0  # most invocations seen running at once
        self._override = override
        self._lock = threading.Lock()  # loading the first environment
        self._state = threading.Condition()  # the environments below
        self._idle: list[Handler] = [] if override is None else [override]
        self._environments = len(self._idle)  # loaded or being loaded
        self._running = 0
        self._last_attempt = 0.0

    @property
    def code_path(self) -> Any:
        module = self.spec["handler"].rsplit(".", 1)[0].replace(".", "/")
        return self.spec["code_uri"] / f"{module}.py"

    @property
    def running(self) -> int:
        """Invocations running now."""
        with self._state:
            return self._running

    def ready(self) -> bool:
        """True once the handler is loaded; tries to load it (at most every few seconds) until then. A caller
        arriving while another loads it waits for that load."""
        if self.handler is not None:
            return True
        with self._lock:
            if self.handler is not None:
                return True
            now = time.monotonic()
            if now - self._last_attempt < RELOAD_INTERVAL_SECONDS or not self.code_path.exists():
                return False
            self._last_attempt = now
            try:
                handler = self._load()
                with self._state:
                    self._idle.append(handler)
                    self._environments += 1
                    self._state.notify()
                self.handler = handler
                self.load_error = None
                log.info("loaded %s from %s", self.logical_id, self.code_path)
            except Exception as exc:  # work in progress elsewhere: report and retry later
                self.load_error = f"{type(exc).__name__}: {exc}"
                log.warning("cannot load %s yet: %s", self.logical_id, self.load_error)
        return self.handler is not None

    def invoke(self, event: dict[str, Any]) -> Any:
        if not self.ready():
            raise RuntimeError(f"{self.logical_id}: {self.load_error or 'its code is not there yet'}")
        handler = self._acquire()
        try:
            timeout = int(self.spec.get("timeout", 60))
            context = FakeLambdaContext(self.logical_id, timeout, started=time.monotonic())
            return handler(event, context)
        finally:
            with self._state:
                self._running -= 1
                self._idle.append(handler)
                self._state.notify()

    def _load(self) -> Handler:
        with self._state:
            self.cold_starts += 1
        if self._override is not None:
            return self._override
        return load_handler(self.spec["code_uri"], self.spec["handler"])

    def _acquire(self) -> Handler:
        """An idle environment, or a new one while under the limit, else wait for one to be free."""
        with self._state:
            while not self._idle and self._environments >= self.concurrency:
                self._state.wait()
            self.invocations += 1
            self._running += 1
            self.peak_concurrency = max(self.peak_concurrency, self._running)
            if self._idle:
                return self._idle.pop()
            self._environments += 1
        try:
            return self._load()  # outside the condition: a cold start does not hold up the others
        except BaseException:
            with self._state:
                self._environments -= 1
                self._running -= 1
                self._state.notify()
            raise
