"""python-amazon-sp-api clients against the simulator: endpoint and LWA URL configured, no monkeypatching."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sp_api.api import Notifications, Orders, Sellers
from sp_api.auth import AccessTokenClient
from sp_api.base import SellingApiForbiddenException, SellingApiRequestThrottledException
from sp_api.base.exceptions import SellingApiBadRequestException
from spapi_simulator import Simulator
from spapi_simulator.schemas import validate_response
from spapi_simulator.sellers import CLIENT_ID, CLIENT_SECRET
from spapi_simulator.testing import Authorized, admin, authorize

US = "ATVPDKIKX0DER"


@dataclass(frozen=True)
class SimMarketplace:
    """What the library reads from a marketplace: endpoint, marketplace_id, region."""

    endpoint: str
    marketplace_id: str
    region: str


def token_client_for(sim: Simulator) -> type[AccessTokenClient]:
    parts = urlsplit(sim.url)
    return type(
        "SimAccessTokenClient", (AccessTokenClient,), {"scheme": f"{parts.scheme}://", "host": parts.netloc}
    )


def client_kwargs(sim: Simulator, auth: Authorized, marketplace_id: str = US) -> dict[str, Any]:
    return {
        "marketplace": SimMarketplace(sim.url, marketplace_id, "us-east-1"),
        "refresh_token": auth.refresh_token,
        "credentials": {"lwa_app_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET},
        "auth_token_client_class": token_client_for(sim),
    }


def test_the_library_builds_a_garbage_host_for_http_and_the_simulator_does_not_care(
    spapi_sim: Simulator,
) -> None:
    auth = authorize(spapi_sim)
    client = Sellers(**client_kwargs(spapi_sim, auth))
    assert client.headers["host"] == spapi_sim.url[8:]  # "27.0.0.1:PORT": the library assumes https://
    answer = client.get_marketplace_participation()
    validate_response("sellers.json", "getMarketplaceParticipations", 200, {"payload": answer.payload})
    assert [p["marketplace"]["id"] for p in answer.payload] == [US, "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8"]
    assert answer.headers["x-amzn-RateLimit-Limit"]


def test_orders_2026_search_and_get_and_v0_confirm_shipment(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    kwargs = client_kwargs(spapi_sim, auth)
    orders = Orders(version="2026-01-01", **kwargs)
    since = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    seen: list[str] = []
    page = orders.search_orders(
        lastUpdatedAfter=since, maxResultsPerPage=15, includedData=["FULFILLMENT", "RECIPIENT"]
    )
    while True:
        body = {**page.payload, **({"pagination": {"nextToken": page.next_token}} if page.next_token else {})}
        validate_response("orders_2026-01-01.json", "searchOrders", 200, body)
        seen.extend(o["orderId"] for o in page.payload["orders"])
        token = page.next_token  # the library moves pagination.nextToken there
        if not token:
            break
        page = orders.search_orders(paginationToken=token)
    # the library adds marketplaceIds=[its marketplace] to every GET: only the US orders come back
    truth = admin(spapi_sim, "GET", "orders", seller_id=auth.seller_id, marketplace_id=US)
    assert sorted(seen) == sorted(o["order_id"] for o in truth) and len(seen) > 15
    target = admin(spapi_sim, "POST", "orders", {"seller_id": auth.seller_id, "marketplace_id": US,
                                                 "items": [{"sku": "SKU-00003", "quantity": 2}]})  # fmt: skip
    got = orders.get_order(target["order_id"], includedData=["RECIPIENT", "FULFILLMENT"])
    validate_response("orders_2026-01-01.json", "getOrder", 200, got.payload)
    assert got.payload["order"]["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    item = got.payload["order"]["orderItems"][0]["orderItemId"]
    shipped = Orders(**kwargs).confirm_shipment(
        order_id=target["order_id"],
        marketplaceId=US,
        packageDetail={"packageReferenceId": "1", "carrierCode": "DHL", "trackingNumber": "JD0001",
                       "shipDate": "2026-01-02T10:00:00Z", "orderItems": [{"orderItemId": item, "quantity": 2}]},
    )  # fmt: skip
    assert shipped is not None
    assert admin(spapi_sim, "GET", f"orders/{target['order_id']}")["status"] == "SHIPPED"
    assert admin(spapi_sim, "GET", "shipments", order_id=target["order_id"])[0]["tracking_number"] == "JD0001"
    with pytest.raises(SellingApiBadRequestException) as refused:
        Orders(**kwargs).confirm_shipment(
            order_id=target["order_id"], marketplaceId=US,
            packageDetail={"packageReferenceId": "2", "carrierCode": "DHL", "trackingNumber": "JD0002",
                           "shipDate": "2026-01-02T10:00:00Z", "orderItems": [{"orderItemId": item, "quantity": 1}]},
        )  # fmt: skip
    assert refused.value.code == 400 and "exceeds" in refused.value.message


def test_notifications_grantless_and_seller_operations(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    notifications = Notifications(**client_kwargs(spapi_sim, auth))
    arn = "arn:aws:sqs:us-east-1:123456789012:storesync-order-change"
    created = notifications.create_destination(name="storesync", arn=arn)
    validate_response("notifications.json", "createDestination", 200, {"payload": created.payload})
    destinations = notifications.get_destinations()
    assert [d["resource"]["sqs"]["arn"] for d in destinations.payload] == [arn]
    subscribed = notifications.create_subscription(
        "ORDER_CHANGE", destination_id=created.payload["destinationId"]
    )
    assert subscribed.payload["destinationId"] == created.payload["destinationId"]
    assert notifications.get_subscription("ORDER_CHANGE").payload == subscribed.payload


def test_library_sees_throttling_and_early_expiry(spapi_sim_factory: Callable[..., Simulator]) -> None:
    sim = spapi_sim_factory(quota_scale=1.0)
    auth = authorize(sim)
    sellers = Sellers(**client_kwargs(sim, auth))
    for _ in range(15):
        sellers.get_marketplace_participation()
    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        sellers.get_marketplace_participation()
    assert throttled.value.code == 429
    admin(sim, "POST", "faults", {"token_ttl_seconds": 10})
    admin(sim, "POST", "clock/advance", {"seconds": 11})
    with pytest.raises(SellingApiForbiddenException):
        Sellers(**client_kwargs(sim, auth)).get_marketplace_participation()  # the cached token expired early
