"""`make run` keeps its state: the local system as a merchant runs it (`python -m storesync_local`, its own process,
its own state folder), stopped with SIGTERM or killed with SIGKILL, then started again with the same folder.

After the restart the store is still active, products, orders, stock and the buyer's (encrypted) address are
unchanged, Amazon's side (the simulator: orders, shipments, the grant) is unchanged, and a new order created on
Amazon's side arrives through its ORDER_CHANGE notification (the subscription, the queue, the grant and storesync's
encrypted refresh token all came back). A process of its own each time: moto's state lives in the process, so a
restart inside the test process would prove nothing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from storesync_local.client import StoresyncClient
from storesync_local.template import REPO_ROOT
from storesync_local.waiting import wait_for

pytestmark = pytest.mark.e2e

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"
DEADLINE = 120.0  # any one step on a loaded 2-core machine (a bound, not a pace)
ADDRESS = {"name": "Ada Restart", "addressLine1": "1 Restart Road", "city": "Seattle", "stateOrRegion": "WA",
           "postalCode": "98101", "countryCode": "US"}  # fmt: skip


class System:
    """One `python -m storesync_local` process on free ports, its output in a file."""

    def __init__(self, state_dir: Path, log_path: Path, *extra: str) -> None:
        self.log_path = log_path
        args = [sys.executable, "-m", "storesync_local", "--api-port", "0", "--spapi-port", "0"]
        args += ["--moto-port", "0", "--speed", "3600", "--quota-scale", "1000", "--no-schedules"]
        args += ["--pending-release-minutes", "0", "--skus", "8", "--orders", "6", *extra]
        env = {**os.environ, "STORESYNC_STATE_DIR": str(state_dir)}
        for name in ("AWS_ENDPOINT_URL", "SPAPI_ENDPOINT", "SPAPI_LWA_URL", "SPAPI_CONSENT_URL"):
            env.pop(name, None)
        with log_path.open("w") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env
            )
        banner = wait_for(self._banner, f"the local runtime started ({log_path})", DEADLINE)
        self.api_url = re.search(r"API \(HTTP API gateway\)\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        self.spapi_url = re.search(r"SP-API simulator\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        self.state_line = re.search(r"state\s+(.*)", banner).group(1)  # type: ignore[union-attr]

    def _banner(self) -> str | None:
        text = self.log_path.read_text()
        if self.process.poll() is not None:
            raise AssertionError(f"the local runtime exited ({self.process.returncode}):\n{text[-3000:]}")
        return text if "Ctrl-C stops everything." in text else None

    def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        self.process.send_signal(how)
        return self.process.wait(timeout=DEADLINE)

    def sim(self, method: str, path: str, body: dict[str, Any] | None = None, **params: str) -> Any:
        answer = requests.request(method, self.spapi_url + path, json=body, params=params or None, timeout=30)
        assert answer.status_code < 300, f"simulator {method} {path}: {answer.status_code} {answer.text}"
        return answer.json()


@pytest.fixture
def start_system(tmp_path: Path) -> Iterator[Callable[..., System]]:
    started: list[System] = []

    def start(state_dir: Path, *extra: str) -> System:
        system = System(state_dir, tmp_path / f"run-{len(started) + 1}.log", *extra)
        started.append(system)
        return system

    yield start
    for system in started:  # a failed test must not leave a runtime behind
        if system.process.poll() is None:
            system.process.kill()
            system.process.wait(timeout=30)


class Merchant:
    def __init__(self, system: System, client: StoresyncClient | None = None) -> None:
        self.system = system
        self.client = client or StoresyncClient.signed_in(system.api_url, f"restart-{uuid.uuid4().hex[:6]}")
        self.store_id = ""

    def again(self, system: System) -> Merchant:
        """The same merchant (the same development token) on the restarted system."""
        merchant = Merchant(
            system, StoresyncClient(system.api_url, self.client.merchant_id, self.client.token)
        )
        merchant.store_id = self.store_id
        return merchant

    def connect(self) -> None:
        self.store_id, landing = self.client.connect_store(
            SELLER, US, "Restart US", download_products_and_orders=True, starting_inventory="match_amazon"
        )
        assert "outcome=connected" in landing, landing
        # schedules are off: "Sync now", as the merchant would; products first (orders need their SKUs)
        listings = self.system.sim("GET", "/_sim/listings", seller_id=SELLER, marketplace_id=US)["listings"]
        self.client.post(f"/stores/{self.store_id}/sync", {"job": "products"})
        wait_for(
            lambda: len(self.client.get("/inventory")["inventory"]) >= len(listings), "products", DEADLINE
        )
        self.client.post(f"/stores/{self.store_id}/sync", {"job": "orders"})
        wait_for(lambda: self.ok_run("orders"), "an orders run", DEADLINE)

    def ok_run(self, job: str) -> bool:
        return any(run.get("result") == "ok" for run in self.runs(job))

    def orders(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        token = None
        while True:
            params = {"store_id": self.store_id, "limit": "200", **({"next_token": token} if token else {})}
            page = self.client.get("/orders", params=params)
            found.update({o["amazon_order_id"]: o for o in page["orders"]})
            token = page.get("next_token")
            if not token:
                return found

    def order(self, amazon_order_id: str) -> dict[str, Any] | None:
        answer = self.client.request("GET", f"/orders/{self.store_id}.{amazon_order_id}", expect=(200, 404))
        return None if answer is None or "error" in answer else dict(answer)

    def facts(self) -> dict[str, Any]:
        """What must be the same after a restart (no time-dependent fields)."""
        stores = {
            s["store_id"]: (s["name"], s["status"], s["selling_partner_id"])
            for s in self.client.get("/stores")["stores"]
        }
        orders = {
            oid: (o["status"], o["amazon_status"], o["channel"], o["holds"], o["has_address"],
                  [(i["sku"], i["quantity"], i["quantity_shipped"], i["allocations"]) for i in o["items"]])
            for oid, o in self.orders().items()
        }  # fmt: skip
        stock = {
            x["sku"]: {k: v for k, v in x.items() if k not in ("updated_at",)}
            for x in self.client.get("/inventory")["inventory"]
        }
        return {"stores": stores, "orders": orders, "stock": stock}

    def runs(self, job: str) -> list[dict[str, Any]]:
        return list(self.client.get(f"/stores/{self.store_id}/runs", params={"job": job})["runs"])

    def imported(self) -> dict[str, Any] | None:
        """The first import is done: a products and an orders run ended well, and the stock is there."""
        if not (self.ok_run("products") and self.ok_run("orders")):
            return None
        facts = self.facts()
        return facts if facts["orders"] and facts["stock"] else None

    def settled(self) -> dict[str, Any]:
        """The facts once they stop changing (two reads a few seconds apart agree)."""
        first = wait_for(self.imported, "the first import", DEADLINE)
        while True:
            time.sleep(3)
            again = self.facts()
            if again == first:
                return dict(again)
            first = again

    def new_amazon_order(self) -> str:
        body = {"seller_id": SELLER, "marketplace_id": US, "status": "UNSHIPPED", "fulfilled_by": "MERCHANT",
                "items": [{"sku": self.fbm_sku(), "quantity": 1}], "address": ADDRESS}  # fmt: skip
        return str(self.system.sim("POST", "/_sim/orders", body)["order_id"])

    def fbm_sku(self) -> str:
        listings = self.system.sim("GET", "/_sim/listings", seller_id=SELLER, marketplace_id=US)["listings"]
        return str(next(x["sku"] for x in listings if x["fulfillment_channel"] == "DEFAULT"))

    def wait_order(self, amazon_order_id: str) -> dict[str, Any]:
        return dict(wait_for(lambda: self.order(amazon_order_id), f"order {amazon_order_id}", DEADLINE))


def _amazon_side(system: System) -> dict[str, Any]:
    orders = system.sim("GET", "/_sim/orders", seller_id=SELLER, marketplace_id=US)
    shipments = system.sim("GET", "/_sim/shipments", seller_id=SELLER)
    return {"orders": {o["order_id"]: o for o in orders}, "shipments": shipments}


def test_sigterm_saves_everything_and_the_next_start_carries_on(
    start_system: Callable[..., System], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = start_system(state)
    assert first.state_line.startswith("new, kept in")
    merchant = Merchant(first)
    merchant.connect()
    # an order with an address storesync keeps encrypted (KMS) before the restart
    with_address = merchant.new_amazon_order()
    before_order = merchant.wait_order(with_address)
    assert before_order["address"]["name"] == "Ada Restart"
    before = merchant.settled()
    amazon_before = _amazon_side(first)

    assert first.stop(signal.SIGTERM) == 0
    assert (state / "state.pickle").exists()
    assert "stopped" in first.log_path.read_text()

    second = start_system(state)
    assert second.state_line.startswith("restored from")
    assert second.api_url != "" and second.spapi_url
    again = merchant.again(second)
    assert again.facts() == before  # stores active, orders, stock: all as they were
    assert again.order(with_address) == before_order  # the address decrypts with the restored KMS key
    assert _amazon_side(second) == amazon_before  # Amazon's side: orders, shipments
    # Amazon goes on: a new order arrives through the restored subscription, queue, grant and refresh token
    new_id = again.new_amazon_order()
    arrived = again.wait_order(new_id)
    assert arrived["address"]["name"] == "Ada Restart" and arrived["items"][0]["quantity"] == 1
    assert second.stop(signal.SIGTERM) == 0

    # --fresh starts empty and says so
    third = start_system(state, "--fresh")
    assert third.state_line.startswith("new, kept in")
    fresh = StoresyncClient.signed_in(third.api_url, merchant.client.merchant_id)
    assert fresh.get("/stores")["stores"] == []
    assert third.stop(signal.SIGTERM) == 0


def test_sigkill_loses_at_most_the_work_since_the_last_snapshot(
    start_system: Callable[..., System], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = start_system(state, "--snapshot-seconds", "1")
    merchant = Merchant(first)
    merchant.connect()
    before = merchant.settled()
    # snapshots come every second while something changes: none for 3 s means the last one has it all
    snapshot = state / "state.pickle"
    wait_for(
        lambda: snapshot.exists() and time.time() - snapshot.stat().st_mtime > 3,
        "a periodic snapshot after the last change",
        DEADLINE,
        interval=0.5,
    )

    assert first.stop(signal.SIGKILL) == -signal.SIGKILL  # no chance to save anything more

    second = start_system(state, "--snapshot-seconds", "1")
    assert second.state_line.startswith("restored from")
    again = merchant.again(second)
    assert again.facts() == before
    new_id = again.new_amazon_order()
    assert again.wait_order(new_id)["amazon_status"].upper() == "UNSHIPPED"
    assert second.stop(signal.SIGTERM) == 0


def test_two_runs_never_share_one_state_folder(start_system: Callable[..., System], tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = start_system(state)
    second = subprocess.run(
        [sys.executable, "-m", "storesync_local", "--api-port", "0", "--spapi-port", "0", "--moto-port", "0"],
        env={**os.environ, "STORESYNC_STATE_DIR": str(state)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert second.returncode != 0
    assert "is in use by another storesync local runtime" in second.stderr
    assert first.stop(signal.SIGTERM) == 0
