"""The local system's state on disk: moto's AWS state and the simulator's world survive a restart.

`make run` keeps everything it holds in one folder (`STORESYNC_STATE_DIR`, default `.storesync-state/` in the
checkout, git-ignored):

- `state.pickle`: one snapshot of moto's backends for the services storesync uses (DynamoDB, SQS, Secrets
  Manager, KMS with its key material, EventBridge) in the runtime's account and region, the simulator's world
  (sellers, LWA codes, grants and tokens, orders with their shipments, notification destinations and
  subscriptions, the catalog's listings, the clock's offset, the reports and feeds with their documents) and
  the runtime's own (the JWT secret, so the console's development tokens stay valid). Written whole to a temporary file then renamed: a snapshot is
  either the old one or the new one, never half of each.
- `lock`: held (flock) while a runtime uses the folder, so two runs never share one state.

moto has no persistence of its own that serves here: its recorder replays every request (every SQS receive
and delete included, with receipt handles and KMS key ids that are random on replay), so the log grows
without end and a replay does not give the same keys back. Its backends are plain Python objects, though, so
they are pickled (locks are re-created empty and private keys travel as DER bytes).

A snapshot is consistent: `SnapshotGate` wraps the WSGI apps of the simulator and of moto. Taking a snapshot
closes the simulator's gate first (its requests in flight end; they may still call moto), then moto's (its
requests in flight end; moto never calls the simulator), pickles both, and opens them again. Snapshots are
taken when the runtime stops (Ctrl-C or SIGTERM) and every `snapshot_seconds` while something changed (those
fork: the gates stay closed only while the process forks, and the child, a copy-on-write image of that moment,
pickles and writes while the runtime serves on); a crash (SIGKILL) loses what happened since the last one, and
since moto and the simulator go back together storesync does that work again (its cursors are in the snapshot).

Not kept: the simulator's fault settings, quota buckets, call counts and notifications still being delivered.
A report or feed asked for before the restart is known after it (a report's document is written when it is
downloaded, from the world as it is then). Had Amazon forgotten one (getReport, getFeed or a document answering
404), storesync counts that report or feed as failed and asks again, never as "nothing" (the product import,
the catch-up and the inventory push: tests/integration/test_amazon_forgets.py).
"""

from __future__ import annotations

import contextlib
import copyreg
import fcntl
import io
import logging
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

from cryptography.hazmat.primitives import serialization

from .template import REPO_ROOT

log = logging.getLogger("storesync_local.state")

STATE_ENV = "STORESYNC_STATE_DIR"
DEFAULT_STATE_DIR = REPO_ROOT / ".storesync-state"
SNAPSHOT_FILE = "state.pickle"
LOCK_FILE = "lock"
FORMAT = 1
SLOW_SNAPSHOT_SECONDS = 1.0  # a snapshot that holds requests back longer than this is logged as a warning
# The moto services whose state storesync needs (kms: its keys, so what was encrypted can still be decrypted).
MOTO_SERVICES = ("dynamodb", "sqs", "secretsmanager", "kms", "events")
# Requests that change nothing: they do not make a new snapshot necessary (everything else does).
READ_ONLY_ACTIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "DescribeTable",
        "ListTables",
        "DescribeTimeToLive",
        "TransactGetItems",
        "GetQueueUrl",
        "GetQueueAttributes",
        "ListQueues",
        "GetSecretValue",
        "DescribeSecret",
        "ListSecrets",
        "DescribeKey",
        "Decrypt",
        "ListKeys",
        "ListAliases",
        "DescribeEventBus",
        "ListEventBuses",
        "ListRules",
        "DescribeRule",
        "ListTargetsByRule",
    }
)


def default_state_dir(environ: dict[str, str] | None = None) -> Path:
    """`STORESYNC_STATE_DIR`, or `.storesync-state/` in the checkout."""
    env = os.environ if environ is None else environ
    value = env.get(STATE_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else DEFAULT_STATE_DIR


# -- pickling moto and the simulator ---------------------------------------------------------------------------
def _new_lock() -> Any:
    return threading.Lock()


def _new_rlock() -> Any:
    return threading.RLock()


def _reduce_lock(_lock: Any) -> tuple[Any, tuple[()]]:
    return _new_lock, ()


def _reduce_rlock(_lock: Any) -> tuple[Any, tuple[()]]:
    return _new_rlock, ()


def _load_private_key(der: bytes) -> Any:
    return serialization.load_der_private_key(der, password=None)


def _reduce_private_key(key: Any) -> tuple[Any, tuple[bytes]]:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _load_private_key, (der,)


def _dispatch_table() -> dict[type, Any]:
    """Per-type reducers, looked up by the C pickler (a Python hook called for every object, as
    `reducer_override` is, makes a snapshot several times slower): locks become new empty locks, the private
    keys of moto's asymmetric KMS keys travel as DER bytes."""
    table: dict[type, Any] = dict(copyreg.dispatch_table)
    table[type(threading.Lock())] = _reduce_lock
    table[type(threading.RLock())] = _reduce_rlock
    from cryptography.hazmat.bindings._rust import openssl as rust_openssl

    for kind in (
        "rsa.RSAPrivateKey",
        "ec.ECPrivateKey",
        "ed25519.Ed25519PrivateKey",
        "ed448.Ed448PrivateKey",
    ):
        module, name = kind.split(".")
        key_type = getattr(getattr(rust_openssl, module, None), name, None)
        if isinstance(key_type, type):
            table[key_type] = _reduce_private_key
    return table


_DISPATCH_TABLE: dict[type, Any] = {}


def _dispatch() -> dict[type, Any]:
    if not _DISPATCH_TABLE:
        _DISPATCH_TABLE.update(_dispatch_table())
    return _DISPATCH_TABLE


def dumps(value: Any) -> bytes:
    """Pickle what moto or the simulator holds (see `_dispatch_table`)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch()
    pickler.dump(value)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    return pickle.loads(data)  # noqa: S301 - our own snapshot, in the user's own state folder


def moto_state(account_id: str, region: str, services: Iterable[str] = MOTO_SERVICES) -> dict[str, Any]:
    """moto's backends of `services` in one account and region (the objects themselves: pickle them at once)."""
    from moto.backends import get_backend

    return {service: get_backend(service)[account_id][region] for service in services}  # type: ignore[call-overload]


def restore_moto_state(account_id: str, region: str, saved: dict[str, Any]) -> None:
    """Put saved backends in place of moto's in that account and region (other accounts and regions, e.g.
    of tests sharing the process, stay as they are)."""
    from moto.backends import get_backend

    for service, backend in saved.items():
        get_backend(service)[account_id][region] = backend  # type: ignore[call-overload]


# -- a consistent moment -----------------------------------------------------------------------------------------
class SnapshotGate:
    """A readers-writer gate for one WSGI app: requests pass together, a snapshot waits until the requests in
    flight are done and holds new ones back until it is taken. Counts the requests that may change state."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._cond = threading.Condition()
        self._active = 0
        self._closed = False
        self.changes = 0

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        with self._cond:
            while self._closed:
                self._cond.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                if self._active == 0:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def closed(self, timeout: float = 30.0) -> Iterator[None]:
        """No request in flight while inside (raises TimeoutError if requests do not end within `timeout`)."""
        with self._cond:
            if self._closed:
                raise RuntimeError(f"{self.name}: a snapshot is already being taken")
            self._closed = True
            if not self._cond.wait_for(lambda: self._active == 0, timeout):
                self._closed = False
                self._cond.notify_all()
                raise TimeoutError(f"{self.name}: requests still running after {timeout:g} s")
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()

    def wrap(
        self, app: Callable[..., Any], changes: Callable[[dict[str, Any], list[bytes]], bool]
    ) -> Callable[..., Any]:
        """The WSGI app behind this gate; `changes(environ, body)` says whether a request changed state."""

        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self.request():
                # the body is produced inside the gate (a streamed document reads the world as it goes)
                result = app(environ, start_response)
                try:
                    body = list(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
                if changes(environ, body):
                    self.changes += 1
                return body

        return gated


def moto_request_changes(environ: dict[str, Any], body: list[bytes]) -> bool:
    """False for requests known to change nothing (reads, and an SQS receive that got no message)."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    action = target.rsplit(".", 1)[-1] if target else ""
    if not action:
        query = str(environ.get("QUERY_STRING", ""))
        action = next((p[7:] for p in query.split("&") if p.startswith("Action=")), "")
    if action == "ReceiveMessage":  # a message received has its receive count and visibility changed
        return any(b"ReceiptHandle" in chunk for chunk in body)
    return action not in READ_ONLY_ACTIONS


def simulator_request_changes(environ: dict[str, Any], _body: list[bytes]) -> bool:
    return str(environ.get("REQUEST_METHOD", "GET")).upper() != "GET"


# -- the folder ------------------------------------------------------------------------------------------------
@dataclass
class Snapshot:
    moto: dict[str, Any]
    simulator: dict[str, Any] | None
    runtime: dict[str, Any] = field(default_factory=dict)


class StateDir:
    """One state folder, locked while a runtime uses it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock_file: IO[str] | None = None

    @property
    def snapshot_path(self) -> Path:
        return self.path / SNAPSHOT_FILE

    def open(self) -> StateDir:
        self.path.mkdir(parents=True, exist_ok=True)
        handle = (self.path / LOCK_FILE).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise RuntimeError(
                f"{STATE_ENV}: {self.path} is in use by another storesync local runtime "
                "(give this one its own folder)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle
        return self

    def close(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def clear(self) -> None:
        """Forget the saved state (the lock stays)."""
        self.snapshot_path.unlink(missing_ok=True)

    def exists(self) -> bool:
        return self.snapshot_path.exists()

    def write(self, data: bytes) -> None:
        temporary = self.path / f".{SNAPSHOT_FILE}.{os.getpid()}.tmp"
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.snapshot_path)
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def read(self) -> bytes:
        return self.snapshot_path.read_bytes()


def reset(path: Path) -> bool:
    """Remove a state folder (`make reset`); refuses while a runtime uses it. True when there was one."""
    if not path.exists():
        return False
    state = StateDir(path).open()  # raises while in use
    try:
        shutil.rmtree(path)
    finally:
        state.close()
    return True


# -- snapshots of a running system ---------------------------------------------------------------------------------
class Persistence:
    """Takes and restores snapshots of one runtime: moto (one account and region) and the simulator if any.

    `simulator` is a spapi_simulator.SimulatorState (or None with an external SP-API)."""

    def __init__(self, state_dir: StateDir, account_id: str, region: str) -> None:
        self.state_dir = state_dir
        self.account_id = account_id
        self.region = region
        self.moto_gate = SnapshotGate("moto")
        self.simulator_gate = SnapshotGate("simulator")
        self.simulator: Any = None
        self.runtime_state: dict[str, Any] = {}
        self.snapshots = 0
        self.last_seconds = 0.0  # how long the last snapshot held requests back
        self.last_bytes = 0
        self._taken_at_changes = (-1, -1)
        self._lock = threading.Lock()

    # restore ---------------------------------------------------------------------------------------------------
    def load(self) -> Snapshot | None:
        """The saved snapshot, or None when there is none."""
        if not self.state_dir.exists():
            return None
        raw = loads(self.state_dir.read())
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise RuntimeError(
                f"{self.state_dir.snapshot_path}: not a snapshot this version can read "
                "(start with --fresh, or `make reset`)"
            )
        return Snapshot(raw["moto"], raw.get("simulator"), raw.get("runtime", {}))

    def restore_moto(self, snapshot: Snapshot) -> None:
        restore_moto_state(self.account_id, self.region, loads(snapshot.moto["data"]))

    def restore_simulator(self, snapshot: Snapshot, simulator: Any) -> None:
        if snapshot.simulator is None:
            return
        simulator.load_saved_state(loads(snapshot.simulator["data"]))

    # save ------------------------------------------------------------------------------------------------------
    def changed(self) -> bool:
        return (self.moto_gate.changes, self.simulator_gate.changes) != self._taken_at_changes

    def take(self, *, only_if_changed: bool = False, in_background: bool = False) -> bool:
        """Write a snapshot now (False when nothing changed since the last one and `only_if_changed`).

        `in_background` (the periodic snapshots): requests are held back only while the process forks; the
        child, a copy of this moment, pickles and writes while the parent serves on (as Redis's BGSAVE)."""
        with self._lock:
            if only_if_changed and not self.changed():
                return False
            fork = in_background and hasattr(os, "fork")
            if fork:
                _dispatch()  # built (and its imports done) before the fork: the child imports nothing
            started = time.monotonic()
            child, data = 0, b""
            with self.simulator_gate.closed(), self.moto_gate.closed():
                changes = (self.moto_gate.changes, self.simulator_gate.changes)
                if fork:
                    child = os.fork()
                    if child == 0:
                        self._write_and_exit()
                else:
                    data = self._serialize()
            held = time.monotonic() - started
            if child:
                _, status = os.waitpid(child, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise RuntimeError(f"the snapshot process failed ({os.waitstatus_to_exitcode(status)})")
                size = self.state_dir.snapshot_path.stat().st_size
            else:
                self.state_dir.write(data)
                size = len(data)
            self._taken_at_changes = changes
            self.snapshots += 1
            self.last_seconds, self.last_bytes = held, size
            (log.warning if held > SLOW_SNAPSHOT_SECONDS else log.info)(
                "state snapshot: %d bytes in %.3f s, requests held back %.3f s",
                size,
                time.monotonic() - started,
                held,
            )
            return True

    def _serialize(self) -> bytes:
        moto = dumps(moto_state(self.account_id, self.region))
        simulator = None if self.simulator is None else dumps(self.simulator.saved_state())
        body = {
            "format": FORMAT,
            "saved_at": time.time(),
            "moto": {"account_id": self.account_id, "region": self.region, "data": moto},
            "simulator": None if simulator is None else {"data": simulator},
            "runtime": self.runtime_state,
        }
        return dumps(body)

    def _write_and_exit(self) -> NoReturn:
        """In the forked child: write the snapshot and leave without running anything of the parent's."""
        code = 1
        try:
            self.state_dir.write(self._serialize())
            code = 0
        finally:
            os._exit(code)


class Snapshotter:
    """Takes a snapshot every `interval` seconds when something changed."""

    def __init__(self, persistence: Persistence, interval: float) -> None:
        self.persistence = persistence
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Snapshotter:
        if self.interval > 0:
            self._thread = threading.Thread(target=self._run, name="storesync-snapshots", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.persistence.take(only_if_changed=True, in_background=True)
            except Exception:  # keep going: the next one may succeed, and the stop takes one anyway
                log.exception("state snapshot failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def main(argv: list[str] | None = None) -> int:
    """`python -m storesync_local.state reset` (`make reset`): remove the state folder."""
    import argparse

    parser = argparse.ArgumentParser(prog="storesync_local.state", description="The local runtime's state.")
    parser.add_argument("command", choices=["reset"], help="reset: remove the state folder")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help=f"default: {STATE_ENV} or .storesync-state/"
    )
    args = parser.parse_args(argv)
    path = args.state_dir or default_state_dir()
    try:
        removed = reset(path)
    except RuntimeError as exc:
        print(f"make reset: {exc}; stop it first")
        return 1
    print(f"removed {path}" if removed else f"nothing to remove: {path} does not exist")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
