"""`LocalRuntime`: all of storesync on one machine (moto, the SP-API simulator, the gateway, schedules, pollers).

    with LocalRuntime(RuntimeConfig(api_port=0, spapi_port=0, moto_port=0, speed=3600)) as runtime:
        token = runtime.dev_token("merchant-1")
        requests.get(runtime.api_url + "/stores", headers={"Authorization": f"Bearer {token}"})

Start order: moto, the SP-API simulator (unless SPAPI_ENDPOINT/SPAPI_LWA_URL/SPAPI_CONSENT_URL point at another
one), the gateway socket (its URL is a template parameter), the template's resources in moto, the functions'
environment, the handlers (loaded unchanged, lazily: a function whose code has not landed yet is picked up as
soon as it exists), the SQS pollers and the scheduler. `stop()` undoes all of it and restores os.environ.

With `state_dir` (make run: STORESYNC_STATE_DIR), moto's and the simulator's state are restored from that folder
before anything is served, snapshotted every `snapshot_seconds` while they change and once more at `stop()`
(state.py).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from spapi_simulator.testing import clear_sp_api_caches

from . import moto_transactions
from .devtokens import JwtConfig
from .function_host import DEFAULT_FUNCTION_CONCURRENCY, FunctionHost, local_concurrency
from .functions import Handler
from .gateway import Gateway, template_routes
from .pollers import QueuePoller, template_sqs_sources
from .scheduler import Scheduler, SimulatedClock, template_schedules
from .state import (
    Persistence,
    Snapshot,
    Snapshotter,
    StateDir,
    moto_request_changes,
    simulator_request_changes,
)
from .template import (
    ACCOUNT_ID,
    LOCAL_EVENTS_QUEUE,
    Provisioned,
    functions,
    load_template,
    parameter_values,
    provision,
)

log = logging.getLogger("storesync_local")

LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "POWERTOOLS_TRACE_DISABLED": "1",
}
# The JWT authorizer's issuer and audience locally: what GET /local/token signs (storesync.api.routes_local).
LOCAL_JWT_PARAMETERS = {"JwtIssuer": "storesync-local", "JwtAudience": "storesync"}


@dataclass(frozen=True)
class ExternalSpApi:
    """Another Amazon (Amazon's sandbox, or a simulator started separately)."""

    endpoint: str
    lwa_url: str
    consent_url: str
    client_id: str
    client_secret: str
    application_id: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ExternalSpApi | None:
        env = dict(os.environ if environ is None else environ)
        names = ("SPAPI_ENDPOINT", "SPAPI_LWA_URL", "SPAPI_CONSENT_URL")
        given = [n for n in names if env.get(n)]
        if not given:
            return None
        if len(given) != len(names):
            missing = ", ".join(n for n in names if not env.get(n))
            raise ValueError(f"{missing}: set all of {', '.join(names)} to use another SP-API, or none")
        from spapi_simulator.sellers import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET

        return cls(
            endpoint=env["SPAPI_ENDPOINT"].rstrip("/"),
            lwa_url=env["SPAPI_LWA_URL"],
            consent_url=env["SPAPI_CONSENT_URL"].rstrip("/"),
            client_id=env.get("SPAPI_CLIENT_ID") or CLIENT_ID,
            client_secret=env.get("SPAPI_CLIENT_SECRET") or CLIENT_SECRET,
            application_id=env.get("SPAPI_APPLICATION_ID") or APPLICATION_ID,
        )


@dataclass
class RuntimeConfig:
    host: str = "127.0.0.1"
    api_port: int = 3000  # 0 = a free port
    spapi_port: int = 8100
    moto_port: int = 5000
    speed: float = 60.0  # simulated seconds per real second
    stack_name: str = "storesync-local"
    region: str = "us-east-1"
    seed: int = 1
    skus: int = 20
    orders: int = 40
    quota_scale: float | None = None  # the simulator's quota scale; None = the speed
    pending_release_minutes: float | None = 60.0  # simulated minutes until Amazon releases a pending order
    external_spapi: ExternalSpApi | None = None
    run_schedules: bool = True
    function_overrides: dict[str, Handler] = field(default_factory=dict)  # tests: logical id -> handler
    parameters: dict[str, str] = field(default_factory=dict)  # extra template parameter overrides
    # invocations at once per function (the template's ReservedConcurrentExecutions, when set, is the limit)
    function_concurrency: int = DEFAULT_FUNCTION_CONCURRENCY
    state_dir: Path | None = None  # keep moto's and the simulator's state there (None: nothing is kept)
    fresh: bool = False  # with state_dir: forget the saved state and start empty
    # with state_dir: a snapshot this often while something changed (0: only at the stop)
    snapshot_seconds: float = 30.0

    @classmethod
    def from_env(cls, **overrides: Any) -> RuntimeConfig:
        config = cls(
            api_port=int(os.environ.get("API_PORT", "3000")),
            spapi_port=int(os.environ.get("SPAPI_PORT", "8100")),
            moto_port=int(os.environ.get("MOTO_PORT", "5000")),
            external_spapi=ExternalSpApi.from_env(),
            function_concurrency=int(
                os.environ.get("FUNCTION_CONCURRENCY", str(DEFAULT_FUNCTION_CONCURRENCY))
            ),
        )
        for key, value in overrides.items():
            setattr(config, key, value)
        return config

    @property
    def effective_quota_scale(self) -> float:
        return self.quota_scale if self.quota_scale is not None else self.speed


def _check_port_free(host: str, port: int, what: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise RuntimeError(f"{what}: port {port} on {host} is in use ({exc.strerror})") from None


class LocalRuntime:
    def __init__(self, config: RuntimeConfig | None = None) -> None:
        self.config = config or RuntimeConfig()
        self.template = load_template()
        self.clock = SimulatedClock(self.config.speed)
        self.jwt_config: JwtConfig | None = None
        self.provisioned: Provisioned | None = None
        self.simulator: Any = None  # spapi_simulator.Simulator when we started one
        self.gateway: Gateway | None = None
        self.scheduler: Scheduler | None = None
        self.pollers: list[QueuePoller] = []
        self.functions: dict[str, FunctionHost] = {}
        self.sqs: Any = None
        self._moto: ThreadedMotoServer | None = None
        self._moto_url = ""
        self._saved_env: dict[str, str | None] = {}
        self._started = False
        self.persistence: Persistence | None = None
        self.restored = False  # True when the state came from a snapshot
        self._snapshot: Snapshot | None = None
        self._snapshotter: Snapshotter | None = None
        self._state_ready = False  # started completely: what runs now may be saved

    # -- properties ----------------------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        if self.gateway is None:
            raise RuntimeError("the runtime is not started")
        return self.gateway.url

    @property
    def console_url(self) -> str:
        return self.api_url + "/"

    @property
    def moto_url(self) -> str:
        return self._moto_url

    @property
    def spapi_url(self) -> str:
        if self.config.external_spapi is not None:
            return self.config.external_spapi.endpoint
        if self.simulator is None:
            raise RuntimeError("the runtime is not started")
        return str(self.simulator.url)

    def dev_token(self, merchant_id: str) -> str:
        """A development JWT for `merchant_id`, as GET /local/token gives it."""
        if self.jwt_config is None:
            raise RuntimeError("the runtime is not started")
        return self.jwt_config.issue(merchant_id)

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalRuntime:
        if self._started:
            raise RuntimeError("the runtime is already started")
        self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        cfg = self.config
        for port, what in ((cfg.moto_port, "MOTO_PORT"), (cfg.api_port, "API_PORT")):
            _check_port_free(cfg.host, port, what)
        if cfg.external_spapi is None:
            _check_port_free(cfg.host, cfg.spapi_port, "SPAPI_PORT")
        self._set_env(LOCAL_AWS_ENV)
        self._set_env({"AWS_DEFAULT_REGION": cfg.region, "AWS_REGION": cfg.region})
        self._unset_env("AWS_PROFILE", "SP_API_DEFAULT_MARKETPLACE")

        moto_transactions.install()  # transactions back up only their items, isolated (issue 17)
        if cfg.state_dir is not None:
            self._open_state(cfg.state_dir)
        self._moto = ThreadedMotoServer(ip_address=cfg.host, port=cfg.moto_port, verbose=False)
        self._moto.start()
        if self.persistence is not None:
            assert self._moto._server is not None
            if self._snapshot is not None:
                self.persistence.restore_moto(self._snapshot)  # before moto serves its first request
            self._moto._server.app = self.persistence.moto_gate.wrap(
                self._moto._server.app, moto_request_changes
            )
        host, port = self._moto.get_host_and_port()
        self._moto_url = f"http://{host}:{port}"
        self._set_env({"AWS_ENDPOINT_URL": self._moto_url})
        self.sqs = boto3.client("sqs", region_name=cfg.region, endpoint_url=self._moto_url)

        spapi = cfg.external_spapi or self._start_simulator()
        clear_sp_api_caches()

        jwt_parameters = parameter_values(self.template, {**LOCAL_JWT_PARAMETERS, **cfg.parameters})
        audiences = tuple(a.strip() for a in jwt_parameters["JwtAudience"].split(","))
        jwt_secret = self._snapshot.runtime.get("jwt_secret") if self._snapshot is not None else None
        self.jwt_config = JwtConfig(
            jwt_secret or secrets.token_urlsafe(32), jwt_parameters["JwtIssuer"], audiences
        )
        if self.persistence is not None:
            self.persistence.runtime_state = {
                "jwt_secret": self.jwt_config.secret,
                "stack_name": cfg.stack_name,
            }
        specs = functions(self.template)
        self.functions = {
            lid: FunctionHost(
                lid,
                spec,
                cfg.function_overrides.get(lid),
                local_concurrency(spec, cfg.function_concurrency),
            )
            for lid, spec in specs.items()
        }
        self.gateway = Gateway(
            template_routes(self.template),
            self.invoke,
            self.jwt_config,
            is_ready=lambda lid: lid in self.functions and self.functions[lid].ready(),
        ).start(cfg.host, cfg.api_port)

        parameters = {
            "SpApiEndpoint": spapi.endpoint,
            "SpApiLwaUrl": spapi.lwa_url,
            "SpApiConsentUrl": spapi.consent_url,
            "SpApiApplicationId": spapi.application_id,
            "PublicBaseUrl": self.gateway.url,
            **LOCAL_JWT_PARAMETERS,
            **cfg.parameters,
        }
        credentials = f'{{"client_id": "{spapi.client_id}", "client_secret": "{spapi.client_secret}"}}'
        self.provisioned = provision(
            self._moto_url,
            stack_name=cfg.stack_name,
            region=cfg.region,
            parameters=parameters,
            secrets={"LwaCredentialsSecret": credentials},
            template=self.template,
        )
        self._apply_function_env(self.provisioned)
        from storesync.dal import bind_tables

        bind_tables(cfg.stack_name, cfg.region, self._moto_url)
        for host_ in self.functions.values():
            host_.ready()

        sources = template_sqs_sources(self.template, self.provisioned.arns, self.provisioned.physical)
        self.pollers = [
            QueuePoller(
                source,
                self.sqs,
                self.invoke,
                cfg.region,
                visibility_scale=cfg.speed,
                is_ready=self.functions[source.function].ready,
                concurrency=min(
                    self.functions[source.function].concurrency,
                    source.maximum_concurrency or self.functions[source.function].concurrency,
                ),
            ).start()
            for source in sources
        ]
        parameters_all = parameter_values(self.template, parameters)
        self.scheduler = Scheduler(template_schedules(self.template, parameters_all), self.clock, self.invoke)
        if cfg.run_schedules:
            self.scheduler.start()
        if self.persistence is not None:
            self._snapshot = None
            self._state_ready = True
            self._snapshotter = Snapshotter(self.persistence, cfg.snapshot_seconds).start()

    def _open_state(self, path: Path) -> None:
        state_dir = StateDir(path).open()
        self.persistence = Persistence(state_dir, ACCOUNT_ID, self.config.region)
        if self.config.fresh:
            state_dir.clear()
        self._snapshot = self.persistence.load()
        self.restored = self._snapshot is not None

    def _start_simulator(self) -> ExternalSpApi:
        from spapi_simulator import Simulator
        from spapi_simulator.sellers import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET

        cfg = self.config
        release = (
            None if cfg.pending_release_minutes is None else cfg.pending_release_minutes * 60 / cfg.speed
        )
        self.simulator = Simulator(
            seed=cfg.seed,
            skus=cfg.skus,
            orders=cfg.orders,
            quota_scale=cfg.effective_quota_scale,
            pending_release_seconds=release,
            sqs_endpoint_url=self._moto_url,
        )
        if self.persistence is not None:
            if self._snapshot is not None:
                self.persistence.restore_simulator(self._snapshot, self.simulator)
            self.persistence.simulator = self.simulator
            self.simulator.app = self.persistence.simulator_gate.wrap(
                self.simulator.app, simulator_request_changes
            )
        self.simulator.start(cfg.host, cfg.spapi_port)
        url = str(self.simulator.url)
        return ExternalSpApi(url, url + "/auth/o2/token", url, CLIENT_ID, CLIENT_SECRET, APPLICATION_ID)

    def _apply_function_env(self, prov: Provisioned) -> None:
        """Every function's resolved environment, merged (process-global; the functions' values agree)."""
        merged: dict[str, str] = {}
        for env in prov.function_env.values():
            merged.update(env)
        merged.update(
            {
                "LOCAL_DEV_TOKENS": "true",
                "LOCAL_JWT_SECRET": self.jwt_config.secret if self.jwt_config else "",
                "SPAPI_QUOTA_SCALE": str(self.config.effective_quota_scale),
            }
        )
        self._set_env({k: v for k, v in merged.items() if v != ""})
        self._unset_env(*[k for k, v in merged.items() if v == ""])

    def stop(self) -> None:
        """Stop everything this runtime started (idempotent) and restore the environment.

        With a state folder, the last snapshot is taken once nothing runs any more (after the simulator sent
        the notifications it held back), before moto stops."""
        if self._snapshotter is not None:
            self._snapshotter.stop()
            self._snapshotter = None
        if self.scheduler is not None:
            self.scheduler.stop()
        for poller in self.pollers:
            poller.stop()
        for poller in self.pollers:
            poller.join()
        self.pollers = []
        if self.gateway is not None:
            self.gateway.stop()
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        self._save_and_close_state()
        if self._moto is not None:
            server = self._moto._server
            self._moto.stop()
            if server is not None:
                server.server_close()
            self._moto = None
        self._restore_env()
        self._started = False

    def _save_and_close_state(self) -> None:
        persistence, self.persistence = self.persistence, None
        if persistence is None:
            return
        try:
            if self._moto is not None and self._state_ready:  # never the half of a failed start
                persistence.take()
        except Exception:
            log.exception("the state could not be saved in %s", persistence.state_dir.path)
        finally:
            persistence.state_dir.close()
            self._snapshot = None
            self._state_ready = False

    def snapshot(self) -> bool:
        """Save the state now (the periodic snapshot, on demand); False without a state folder."""
        if self.persistence is None:
            return False
        return self.persistence.take()

    # -- invocation ------------------------------------------------------------------------------------------------
    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        if function not in self.functions:
            raise KeyError(f"function: no {function!r} in template.yaml")
        return self.functions[function].invoke(event)

    def fire_schedule(self, name: str) -> Any:
        """Fire one schedule now (e.g. "Orders" or "DispatchFunction.Orders")."""
        if self.scheduler is None:
            raise RuntimeError("the runtime is not started")
        return self.scheduler.fire(self.scheduler.by_name(name))

    def queue_depths(self) -> dict[str, int]:
        """Visible + in-flight + delayed messages of every queue of the template (DLQs included)."""
        assert self.provisioned is not None
        depths = {}
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        for lid, url in self.provisioned.physical.items():
            if not url.startswith("http"):
                continue
            attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            depths[lid] = sum(int(attrs.get(n, 0)) for n in names)
        return depths

    def wait_idle(
        self, timeout: float = 60.0, ignore: tuple[str, ...] = ("DeadLetterQueue", LOCAL_EVENTS_QUEUE)
    ) -> bool:
        """Wait until every polled queue is empty (DLQs and the WMS's events queue, which nothing here polls, are
        ignored); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            depths = self.queue_depths()
            if all(n == 0 for lid, n in depths.items() if not any(i in lid for i in ignore)):
                return True
            time.sleep(0.2)
        return False

    # -- summary ---------------------------------------------------------------------------------------------------
    def banner(self) -> str:
        assert self.scheduler is not None
        lines = [
            "storesync local runtime",
            f"  API (HTTP API gateway)  {self.api_url}",
            f"  console                 {self.console_url}",
            f"  SP-API {'(external)' if self.config.external_spapi else 'simulator'}      {self.spapi_url}",
            f"  moto (AWS)              {self.moto_url}   (aws --endpoint-url {self.moto_url} ...)",
            f"  stack                   {self.config.stack_name}",
            f"  state                   {self._state_line()}",
            f"  clock                   x{self.config.speed:g} (one real second = {self.config.speed:g} "
            f"simulated seconds)",
            "  functions               "
            + ", ".join(
                f"{lid}{'' if host.handler is not None else ' (not built yet)'}"
                for lid, host in self.functions.items()
            ),
            "  schedules               "
            + ", ".join(f"{s.name.split('.', 1)[1]} {s.expression}" for s in self.scheduler.schedules),
            "  development token (merchant demo-merchant):",
            f"    {self.dev_token('demo-merchant')}",
            f"    or: curl '{self.api_url}/local/token?merchant=YOUR_ID'",
            "Ctrl-C stops everything.",
        ]
        return "\n".join(lines)

    def _state_line(self) -> str:
        if self.config.state_dir is None:
            return "not kept (everything is gone at the stop)"
        how = "restored from" if self.restored else "new, kept in"
        every = self.config.snapshot_seconds
        saved = f"saved at the stop and every {every:g} s" if every > 0 else "saved at the stop"
        return f"{how} {self.config.state_dir} ({saved}; --fresh starts empty, `make reset` removes it)"

    # -- environment -----------------------------------------------------------------------------------------------
    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _unset_env(self, *keys: str) -> None:
        for key in keys:
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ.pop(key, None)

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}


def unique_stack_name(prefix: str = "local") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
