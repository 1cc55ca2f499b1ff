"""`python -m spapi_simulator --port 8100 --seed 1 --skus 20 --orders 40 --quota-scale 1`."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from .sellers import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET
from .simulator import Simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="spapi_simulator", description="A local Amazon SP-API simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skus", type=int, default=20, help="listings per seller and marketplace")
    parser.add_argument("--orders", type=int, default=40, help="generated orders per seller")
    parser.add_argument("--quota-scale", type=float, default=1.0, help="60 = every bucket refills 60x faster")
    parser.add_argument("--token-ttl", type=float, default=3600)
    parser.add_argument("--report-seconds", type=float, default=2.0)
    parser.add_argument("--feed-seconds", type=float, default=2.0)
    parser.add_argument("--listing-delay", type=float, default=0.0)
    parser.add_argument("--pending-release-seconds", type=float, default=None)
    parser.add_argument("--sqs-endpoint-url", default=None)
    settings = vars(parser.parse_args(argv))  # the options after --port are Simulator's parameters
    host, port = settings.pop("host"), settings.pop("port")
    sim = Simulator(**settings).start(host, port)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"SP-API simulator listening on {sim.url}", flush=True)
    print(f"  SPAPI_ENDPOINT={sim.url}", flush=True)
    print(f"  SPAPI_LWA_URL={sim.url}/auth/o2/token", flush=True)
    print(f"  SPAPI_CONSENT_URL={sim.url}", flush=True)
    print(
        f"  client id {CLIENT_ID}  client secret {CLIENT_SECRET}  application id {APPLICATION_ID}", flush=True
    )
    try:
        stop.wait()
    finally:
        sim.stop()
        print("SP-API simulator stopped", flush=True)


if __name__ == "__main__":
    main()
