"""The generated world, the CLI, strictness of the HTTP core and the admin API's order controls."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable

import requests
from spapi_simulator import Simulator
from spapi_simulator.testing import admin, authorize


def fingerprint(sim: Simulator) -> list[tuple[str, str, str, tuple[tuple[str, int], ...]]]:
    return [
        (o.order_id, o.status, o.fulfilled_by, tuple((i.sku, i.quantity) for i in o.items))
        for o in sim.world.orders.by_id.values()
    ]


def test_generation_is_seeded_and_has_every_kind_of_order() -> None:
    first, again, other = (
        Simulator(seed=5, orders=300),
        Simulator(seed=5, orders=300),
        Simulator(seed=6, orders=300),
    )
    assert fingerprint(first) == fingerprint(again) and fingerprint(first) != fingerprint(other)
    orders = list(first.world.orders.by_id.values())
    assert len(orders) == 1200 and len({o.seller_id for o in orders}) == 4
    kinds = Counter((o.status, o.fulfilled_by) for o in orders)
    for kind in [("PENDING", "MERCHANT"), ("UNSHIPPED", "MERCHANT"), ("PARTIALLY_SHIPPED", "MERCHANT"),
                 ("CANCELLED", "MERCHANT"), ("SHIPPED", "AMAZON"), ("SHIPPED", "MERCHANT")]:  # fmt: skip
        assert kinds[kind] > 10, kind
    assert any(o.shipped_outside for o in orders)
    assert {o.marketplace_id for o in orders if o.seller_id == "A3EUSELLER0003"} >= {
        "A1F83G8C2ARO7P",
        "A1PA6795UKMFR9",
    }


def test_a_large_world_pages_like_a_small_one(spapi_sim_factory: Callable[..., Simulator]) -> None:
    sim = spapi_sim_factory(orders=12_500, quota_scale=1e6)
    assert len(sim.world.orders.by_id) == 50_000
    auth = authorize(sim)
    url = sim.url + "/orders/2026-01-01/orders"
    answer = requests.get(
        url, params={"lastUpdatedAfter": "2000-01-01T00:00:00Z"}, headers=auth.headers
    ).json()
    assert len(answer["orders"]) == 100 and answer["pagination"]["nextToken"]
    second = requests.get(
        url, params={"paginationToken": answer["pagination"]["nextToken"]}, headers=auth.headers
    )
    assert len(second.json()["orders"]) == 100
    assert answer["orders"][-1]["lastUpdatedTime"] <= second.json()["orders"][0]["lastUpdatedTime"]
    assert not {o["orderId"] for o in answer["orders"]} & {o["orderId"] for o in second.json()["orders"]}


def test_strict_core_answers(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    url = f"{spapi_sim.url}/orders/v0/orders/123-1234567-1234567/shipmentConfirmation"
    not_json = requests.post(url, data="{nope", headers={**auth.headers, "Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["errors"][0]["code"] == "InvalidInput"
    wrong_type = requests.post(url, json={"marketplaceId": 5, "packageDetail": {}}, headers=auth.headers)
    assert wrong_type.status_code == 400 and "body" in wrong_type.json()["errors"][0]["message"]
    unknown = requests.get(f"{spapi_sim.url}/nothing/here", headers=auth.headers)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "NotFound"
    answer = requests.get(f"{spapi_sim.url}/sellers/v1/marketplaceParticipations", headers={**auth.headers,
                          "Host": "27.0.0.1:1"})  # fmt: skip
    assert answer.status_code == 200 and answer.headers["x-amzn-RequestId"]


def test_admin_order_controls(spapi_sim: Simulator) -> None:
    bad = requests.post(f"{spapi_sim.url}/_sim/orders", json={"seller_id": "A1NASELLER0001",
                        "items": [{"sku": "NO-SUCH-SKU", "quantity": 1}]})  # fmt: skip
    assert bad.status_code == 400 and "items[0].sku" in bad.json()["errors"][0]["message"]
    bad = requests.post(f"{spapi_sim.url}/_sim/orders", json={"seller_id": "A1NASELLER0001",
                        "items": [{"sku": "SKU-00001", "quantity": 0}]})  # fmt: skip
    assert bad.status_code == 400 and "items[0].quantity" in bad.json()["errors"][0]["message"]
    order = admin(spapi_sim, "POST", "orders", {"seller_id": "A2NASELLER0002", "status": "PENDING",
                                                "items": [{"sku": "SKU-00002", "quantity": 1}]})  # fmt: skip
    assert order["marketplace_id"] == "ATVPDKIKX0DER" and order["status"] == "PENDING"
    assert admin(spapi_sim, "POST", f"orders/{order['order_id']}/release")["status"] == "UNSHIPPED"
    shipped = admin(spapi_sim, "POST", f"orders/{order['order_id']}/ship")
    assert (
        shipped["status"] == "SHIPPED" and shipped["shipped_outside"] and shipped["items"][0]["shipped"] == 1
    )
    refused = requests.post(f"{spapi_sim.url}/_sim/orders/{order['order_id']}/cancel")
    assert refused.status_code == 400
    assert requests.post(f"{spapi_sim.url}/_sim/grants/NOBODY/revoke").status_code == 404


def test_cli_prints_its_url_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "spapi_simulator", "--port", "0", "--orders", "5", "--skus", "3"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        assert len(requests.get(f"{url}/_sim/sellers", timeout=10).json()) == 4
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
