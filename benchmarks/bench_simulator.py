"""Prints the SP-API simulator's own figures: world generation time, page cost small vs large, requests/s.

Bounded: a few seconds of load per phase, then the simulator stops itself.
"""

from __future__ import annotations

import threading
import time

import requests
from spapi_simulator import Simulator
from spapi_simulator.testing import authorize

SECONDS_PER_PHASE = 3.0
THREADS = 4
SEARCH = "/orders/2026-01-01/orders"


def generation(orders_per_seller: int) -> Simulator:
    started = time.perf_counter()
    sim = Simulator(seed=1, skus=200, orders=orders_per_seller, quota_scale=1e9)
    total = len(sim.world.orders.by_id)
    print(
        f"generate {total:,} orders ({orders_per_seller:,} per seller): {time.perf_counter() - started:.2f} s"
    )
    return sim


def page_cost(sim: Simulator, label: str, pages: int = 30) -> None:
    auth = authorize(sim)
    params = {
        "lastUpdatedAfter": "2000-01-01T00:00:00Z",
        "maxResultsPerPage": "100",
        "includedData": "FULFILLMENT",
    }
    started = time.perf_counter()
    done = 0
    while done < pages:  # the first page again and again for a small world, successive pages for a big one
        answer = requests.get(sim.url + SEARCH, params=params, headers=auth.headers, timeout=30).json()
        done += 1
        while done < pages and answer.get("pagination"):
            token = answer["pagination"]["nextToken"]
            answer = requests.get(sim.url + SEARCH, params={"paginationToken": token}, headers=auth.headers,
                                  timeout=30).json()  # fmt: skip
            done += 1
    print(f"searchOrders page of 100 ({label}): {(time.perf_counter() - started) / done * 1000:.1f} ms")


def throughput(sim: Simulator, path: str, params: dict[str, str], label: str) -> None:
    auth = authorize(sim)
    deadline = time.perf_counter() + SECONDS_PER_PHASE
    counts = [0] * THREADS
    failures = [0] * THREADS

    def worker(slot: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                answer = session.get(sim.url + path, params=params, headers=auth.headers, timeout=30)
                counts[slot] += 1
                failures[slot] += answer.status_code != 200

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(f"{label}: {sum(counts) / elapsed:,.0f} requests/s with {THREADS} client threads "
          f"({sum(counts):,} requests, {sum(failures)} not 200)")  # fmt: skip


def main() -> None:
    small = generation(40).start()
    big = generation(12_500).start()
    try:
        page_cost(small, "160 orders")
        page_cost(big, "50,000 orders")
        order_id = next(iter(big.world.orders.by_id))
        throughput(big, "/sellers/v1/marketplaceParticipations", {}, "getMarketplaceParticipations")
        throughput(big, f"{SEARCH}/{order_id}", {"includedData": "RECIPIENT,FULFILLMENT"}, "getOrder")
        throughput(big, SEARCH, {"lastUpdatedAfter": "2000-01-01T00:00:00Z", "maxResultsPerPage": "20"},
                   "searchOrders (20 per page)")  # fmt: skip
    finally:
        small.stop()
        big.stop()


if __name__ == "__main__":
    main()
