"""`python -m storesync_local` (`make run`): start all of storesync locally and run until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from .runtime import LocalRuntime, RuntimeConfig
from .state import STATE_ENV, default_state_dir


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="storesync_local",
        description="Run storesync locally: moto, the SP-API simulator, the API gateway, schedules and queues.",
        epilog="Ports also come from API_PORT, SPAPI_PORT and MOTO_PORT. With SPAPI_ENDPOINT, SPAPI_LWA_URL and "
        "SPAPI_CONSENT_URL set (and SPAPI_CLIENT_ID / SPAPI_CLIENT_SECRET), no simulator is started.",
    )
    parser.add_argument("--api-port", type=int, default=None, help="the API gateway (default 3000, API_PORT)")
    parser.add_argument(
        "--spapi-port", type=int, default=None, help="the simulator (default 8100, SPAPI_PORT)"
    )
    parser.add_argument("--moto-port", type=int, default=None, help="moto (default 5000, MOTO_PORT)")
    parser.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per real second (default 60: 1 s = 1 min)",
    )
    parser.add_argument("--stack-name", default="storesync-local")
    parser.add_argument("--seed", type=int, default=1, help="the simulator's world seed")
    parser.add_argument("--skus", type=int, default=20, help="listings per demo seller and marketplace")
    parser.add_argument("--orders", type=int, default=40, help="generated orders per demo seller")
    parser.add_argument(
        "--quota-scale", type=float, default=None, help="the simulator's quotas (default: speed)"
    )
    parser.add_argument(
        "--pending-release-minutes",
        type=float,
        default=60.0,
        help="simulated minutes until the simulator releases a pending order (default 60; 0 = never)",
    )
    parser.add_argument("--no-schedules", action="store_true", help="do not fire the template's schedules")
    parser.add_argument("--log-level", default="WARNING", help="the runtime's own log level")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help=f"where the state is kept between runs (default {STATE_ENV}, else .storesync-state/ in the checkout)",
    )
    parser.add_argument("--fresh", action="store_true", help="forget the saved state and start empty")
    parser.add_argument(
        "--no-state", action="store_true", help="keep nothing: everything is gone at the stop"
    )
    parser.add_argument(
        "--snapshot-seconds",
        type=float,
        default=30.0,
        help="save the state this often while it changes (default 30; 0: only at the stop). A crash (SIGKILL) "
        "loses at most this much work, which the next start does again",
    )
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> RuntimeConfig:
    overrides = {
        "speed": args.speed,
        "stack_name": args.stack_name,
        "seed": args.seed,
        "skus": args.skus,
        "orders": args.orders,
        "quota_scale": args.quota_scale,
        "pending_release_minutes": args.pending_release_minutes or None,
        "run_schedules": not args.no_schedules,
        "state_dir": None if args.no_state else (args.state_dir or default_state_dir()),
        "fresh": args.fresh,
        "snapshot_seconds": args.snapshot_seconds,
    }
    for name in ("api_port", "spapi_port", "moto_port"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    return RuntimeConfig.from_env(**overrides)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runtime = LocalRuntime(config_from_args(args))
        runtime.start()
    except (RuntimeError, ValueError) as exc:  # a port in use, half an external SP-API configuration, ...
        raise SystemExit(f"storesync local runtime: {exc}") from None
    try:
        _say(runtime.banner())
        stop.wait()
    finally:
        _say(
            "stopping storesync local runtime (saving its state)..." if runtime.persistence else "stopping..."
        )
        runtime.stop()
        _say("stopped")


def _say(text: str) -> None:
    """Print, unless nobody reads any more (a closed pipe must not keep the state from being saved)."""
    with contextlib.suppress(OSError):
        print(text, flush=True)


if __name__ == "__main__":
    main()
