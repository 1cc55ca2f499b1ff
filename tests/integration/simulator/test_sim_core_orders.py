"""Orders v2026-01-01 (searchOrders, getOrder) and v0 confirmShipment over HTTP, checked against the models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from spapi_simulator import Simulator
from spapi_simulator.clock import iso
from spapi_simulator.schemas import load_model, operation, response_errors, validate_response
from spapi_simulator.testing import Authorized, admin, authorize

MODEL, MODEL_V0 = "orders_2026-01-01.json", "ordersV0.json"
SEARCH, ALL_DATA = "/orders/2026-01-01/orders", "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES"
US = "ATVPDKIKX0DER"


def get(sim: Simulator, auth: Authorized, path: str, **params: Any) -> requests.Response:
    return requests.get(sim.url + path, params=params, headers=auth.headers, timeout=10)


def confirm(sim: Simulator, auth: Authorized, order_id: str, body: dict[str, Any]) -> requests.Response:
    url = f"{sim.url}/orders/v0/orders/{order_id}/shipmentConfirmation"
    return requests.post(url, json=body, headers=auth.headers, timeout=10)


def package(items: list[dict[str, Any]], reference: str = "1", marketplace: str = US) -> dict[str, Any]:
    return {
        "marketplaceId": marketplace,
        "packageDetail": {"packageReferenceId": reference, "carrierCode": "UPS", "shippingMethod": "Ground",
                          "trackingNumber": f"1Z{reference}", "shipDate": "2026-01-02T10:00:00Z", "orderItems": items},
    }  # fmt: skip


def all_pages(sim: Simulator, auth: Authorized, **params: Any) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    answer = get(sim, auth, SEARCH, **params).json()
    while True:
        validate_response(MODEL, "searchOrders", 200, answer)
        orders.extend(answer["orders"])
        token = answer.get("pagination", {}).get("nextToken")
        if not token:
            return orders
        answer = get(sim, auth, SEARCH, paginationToken=token).json()


def test_search_pages_cover_every_order_once_and_match_the_schema(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    orders = all_pages(spapi_sim, auth, lastUpdatedAfter="2000-01-01T00:00:00Z", maxResultsPerPage=7,
                       includedData=ALL_DATA)  # fmt: skip
    truth = admin(spapi_sim, "GET", "orders", seller_id="A1NASELLER0001")
    assert sorted(o["orderId"] for o in orders) == sorted(o["order_id"] for o in truth)
    assert len(truth) == 40
    updated = [o["lastUpdatedTime"] for o in orders]
    assert updated == sorted(updated)
    for order in orders:
        status = order["fulfillment"]["fulfillmentStatus"]
        assert ("recipient" in order) == (status not in ("PENDING", "CANCELLED"))


def test_search_filters(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    since = "2000-01-01T00:00:00Z"
    fba = all_pages(spapi_sim, auth, lastUpdatedAfter=since, fulfilledBy="AMAZON", includedData="FULFILLMENT")
    assert fba and {o["fulfillment"]["fulfilledBy"] for o in fba} == {"AMAZON"}
    open_orders = all_pages(spapi_sim, auth, createdAfter=since, fulfillmentStatuses="UNSHIPPED,PARTIALLY_SHIPPED",
                            includedData="FULFILLMENT")  # fmt: skip
    assert open_orders
    assert {o["fulfillment"]["fulfillmentStatus"] for o in open_orders} <= {"UNSHIPPED", "PARTIALLY_SHIPPED"}
    canada = all_pages(spapi_sim, auth, lastUpdatedAfter=since, marketplaceIds="A2EUQ1WTGCTBG2")
    truth = admin(spapi_sim, "GET", "orders", seller_id="A1NASELLER0001", marketplace_id="A2EUQ1WTGCTBG2")
    assert sorted(o["orderId"] for o in canada) == sorted(o["order_id"] for o in truth)


def test_search_input_rules_answer_400_invalid_input(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    just_now = iso(spapi_sim.clock.time() - 60)
    cases = [
        ({}, "lastUpdatedAfter"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedAfter": "2026-01-01T00:00:00Z"}, "exactly one"),
        ({"lastUpdatedAfter": "2026-01-01T00:00:00Z", "lastUpdatedBefore": just_now}, "two minutes"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "createdBefore": just_now}, "two minutes"),
        (
            {"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedBefore": "2026-01-02T00:00:00Z"},
            "lastUpdatedBefore",
        ),
        ({"createdAfter": "yesterday"}, "createdAfter"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "fulfillmentStatuses": "SHIPPING"}, "fulfillmentStatuses"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "fulfilledBy": "SELLER"}, "fulfilledBy"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "101"}, "maxResultsPerPage"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "ten"}, "maxResultsPerPage"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "includedData": "EVERYTHING"}, "includedData"),
        ({"paginationToken": "not-a-token"}, "paginationToken"),
    ]
    for params, field in cases:
        answer = get(spapi_sim, auth, SEARCH, **params)
        assert answer.status_code == 400, params
        error = answer.json()["errors"][0]
        assert error["code"] == "InvalidInput" and field in error["message"], (params, error)
        assert response_errors(MODEL, "searchOrders", 400, answer.json()) == []
    ok = get(spapi_sim, auth, SEARCH, lastUpdatedAfter="2026-01-01T00:00:00Z",
             lastUpdatedBefore=iso(spapi_sim.clock.time() - 121), MarketplaceId=US, marketplace_ids=US)  # fmt: skip
    assert ok.status_code == 200


def test_get_order_matches_the_schema_and_hides_other_sellers_orders(spapi_sim: Simulator) -> None:
    auth, other = authorize(spapi_sim), authorize(spapi_sim, "A2NASELLER0002")
    order_id = admin(spapi_sim, "GET", "orders", seller_id="A1NASELLER0001", status="UNSHIPPED")[0][
        "order_id"
    ]
    answer = get(spapi_sim, auth, f"{SEARCH}/{order_id}", includedData=ALL_DATA)
    assert answer.status_code == 200 and answer.headers["x-amzn-RateLimit-Limit"]
    validate_response(MODEL, "getOrder", 200, answer.json())
    assert answer.json()["order"]["recipient"]["deliveryAddress"]["countryCode"]
    assert "recipient" not in get(spapi_sim, auth, f"{SEARCH}/{order_id}").json()["order"]
    hidden = get(spapi_sim, other, f"{SEARCH}/{order_id}")
    assert hidden.status_code == 404 and hidden.json()["errors"][0]["code"] == "NotFound"
    assert get(spapi_sim, auth, f"{SEARCH}/123-0000000-0000000").status_code == 404


def test_pending_order_is_released_after_the_delay_and_only_then_shows_its_address(
    spapi_sim_factory: Callable[..., Simulator],
) -> None:
    sim = spapi_sim_factory(pending_release_seconds=600)
    auth = authorize(sim)
    created = admin(sim, "POST", "orders", {"seller_id": "A1NASELLER0001", "marketplace_id": US, "status": "PENDING",
                                           "items": [{"sku": "SKU-00001", "quantity": 2}]})  # fmt: skip
    path = f"{SEARCH}/{created['order_id']}"
    pending = get(sim, auth, path, includedData="RECIPIENT,FULFILLMENT").json()["order"]
    assert pending["fulfillment"]["fulfillmentStatus"] == "PENDING" and "recipient" not in pending
    admin(sim, "POST", "clock/advance", {"seconds": 599})
    assert (
        get(sim, auth, path, includedData="FULFILLMENT").json()["order"]["fulfillment"]["fulfillmentStatus"]
        == "PENDING"
    )
    admin(sim, "POST", "clock/advance", {"seconds": 2})
    released = get(sim, auth, path, includedData="RECIPIENT,FULFILLMENT").json()["order"]
    assert released["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert released["recipient"]["deliveryAddress"]["postalCode"]
    assert released["lastUpdatedTime"] > pending["lastUpdatedTime"]
    admin(sim, "POST", "clock/advance", {"seconds": 121})
    changed = all_pages(sim, auth, lastUpdatedAfter=released["lastUpdatedTime"])
    assert [o["orderId"] for o in changed] == [created["order_id"]]


def _new_order(sim: Simulator, **fields: Any) -> dict[str, Any]:
    body = {"seller_id": "A1NASELLER0001", "marketplace_id": US, "items": [{"sku": "SKU-00001", "quantity": 3},
            {"sku": "SKU-00002", "quantity": 1}], **fields}  # fmt: skip
    return admin(sim, "POST", "orders", body)  # type: ignore[no-any-return]


def test_confirm_shipment_partial_then_complete(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    order = _new_order(spapi_sim)
    first, second = (i["order_item_id"] for i in order["items"])
    answer = confirm(spapi_sim, auth, order["order_id"], package([{"orderItemId": first, "quantity": 2}]))
    assert answer.status_code == 204 and answer.text == ""
    assert response_errors(MODEL_V0, "confirmShipment", 204, None) == []
    assert admin(spapi_sim, "GET", f"orders/{order['order_id']}")["status"] == "PARTIALLY_SHIPPED"
    again = confirm(spapi_sim, auth, order["order_id"], package([{"orderItemId": first, "quantity": 2}]))
    assert again.status_code == 204  # the same package again ships nothing twice
    rest = [{"orderItemId": first, "quantity": 1}, {"orderItemId": second, "quantity": 1}]
    assert confirm(spapi_sim, auth, order["order_id"], package(rest, reference="2")).status_code == 204
    truth = admin(spapi_sim, "GET", f"orders/{order['order_id']}")
    assert truth["status"] == "SHIPPED" and [i["shipped"] for i in truth["items"]] == [3, 1]
    shipments = admin(spapi_sim, "GET", "shipments", order_id=order["order_id"])
    assert [(s["package_reference_id"], s["tracking_number"]) for s in shipments] == [
        ("1", "1Z1"),
        ("2", "1Z2"),
    ]
    seen = get(spapi_sim, auth, f"{SEARCH}/{order['order_id']}", includedData="PACKAGES").json()
    validate_response(MODEL, "getOrder", 200, seen)
    assert [p["trackingNumber"] for p in seen["order"]["packages"]] == ["1Z1", "1Z2"]


def test_confirm_shipment_refusals(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    order = _new_order(spapi_sim)
    item = order["items"][0]["order_item_id"]
    cancelled = _new_order(spapi_sim)
    admin(spapi_sim, "POST", f"orders/{cancelled['order_id']}/cancel")
    listings = admin(spapi_sim, "GET", "listings", seller_id="A1NASELLER0001", marketplace_id=US)["listings"]
    fba_sku = next(x["sku"] for x in listings if x["fulfillment_channel"] != "DEFAULT")
    fba = _new_order(spapi_sim, fulfilled_by="AMAZON", items=[{"sku": fba_sku, "quantity": 1}])
    pending = _new_order(spapi_sim, status="PENDING")
    other_body = package([{"orderItemId": item, "quantity": 1}])
    other_body["packageDetail"]["carrierCode"] = "Other"
    cases = [
        (order["order_id"], package([{"orderItemId": "99999999999999", "quantity": 1}]), "orderItemId"),
        (order["order_id"], package([{"orderItemId": item, "quantity": 4}]), "quantity"),
        (order["order_id"], package([{"orderItemId": item, "quantity": 0}]), "quantity"),
        (
            order["order_id"],
            package([{"orderItemId": item, "quantity": 1}], reference="A1"),
            "packageReferenceId",
        ),
        (
            order["order_id"],
            package([{"orderItemId": item, "quantity": 1}], marketplace="A2EUQ1WTGCTBG2"),
            "marketplaceId",
        ),
        (order["order_id"], other_body, "carrierName"),
        (order["order_id"], {"marketplaceId": US}, "packageDetail"),
        (
            cancelled["order_id"],
            package([{"orderItemId": cancelled["items"][0]["order_item_id"], "quantity": 1}]),
            "cancelled",
        ),
        (
            fba["order_id"],
            package([{"orderItemId": fba["items"][0]["order_item_id"], "quantity": 1}]),
            "Amazon",
        ),
        (
            pending["order_id"],
            package([{"orderItemId": pending["items"][0]["order_item_id"], "quantity": 1}]),
            "pending",
        ),
    ]
    for order_id, body, words in cases:
        answer = confirm(spapi_sim, auth, order_id, body)
        assert answer.status_code == 400, (body, answer.text)
        assert (
            answer.json()["errors"][0]["code"] == "InvalidInput"
            and words in answer.json()["errors"][0]["message"]
        )
        assert response_errors(MODEL_V0, "confirmShipment", 400, answer.json()) == []
    assert admin(spapi_sim, "GET", f"orders/{order['order_id']}")["status"] == "UNSHIPPED"
    assert admin(spapi_sim, "GET", "shipments", order_id=order["order_id"]) == []
    missing = confirm(spapi_sim, auth, "123-0000000-0000000", package([{"orderItemId": item, "quantity": 1}]))
    assert missing.status_code == 404


def _sandbox(model: str, operation_id: str) -> dict[str, list[dict[str, Any]]]:
    responses = operation(model, operation_id).spec["responses"]
    return {
        status: r["x-amzn-api-sandbox"]["static"]
        for status, r in responses.items()
        if "x-amzn-api-sandbox" in r
    }


def _params(case: dict[str, Any]) -> dict[str, Any]:
    return {name: (",".join(p["value"]) if isinstance(p["value"], list) else p["value"])
            for name, p in case["request"]["parameters"].items()}  # fmt: skip


def test_sandbox_examples_replayed(spapi_sim: Simulator) -> None:
    assert load_model(MODEL)["swagger"] == "2.0"
    seller_jp = authorize(spapi_sim, "A4FESELLER0004")
    replayed_orders = 0
    for status, cases in _sandbox(MODEL, "searchOrders").items():
        for case in cases:
            assert response_errors(MODEL, "searchOrders", int(status), case["response"]) == []
            if "paginationToken" in case["request"]["parameters"]:
                continue  # a token of Amazon's sandbox, not one this simulator issued
            answer = get(spapi_sim, seller_jp, SEARCH, **_params(case))
            assert answer.status_code == int(status), answer.text
            assert response_errors(MODEL, "searchOrders", int(status), answer.json()) == []
            if status == "200":
                ours = answer.json()["orders"]
                wanted = set(_params(case)["marketplaceIds"].split(","))
                assert {o["salesChannel"]["marketplaceId"] for o in ours} == wanted & {
                    "A1VC38T7YXB528",
                    "A39IBJ37TRP1C6",
                }
                replayed_orders += len(ours)
                allowed = {key for example in case["response"]["orders"] for key in example} | {"packages"}
                assert all(set(o) <= allowed for o in ours)
    assert replayed_orders > 0
    for status, cases in _sandbox(MODEL, "getOrder").items():
        for case in cases:
            params = _params(case)
            answer = get(spapi_sim, seller_jp, f"{SEARCH}/{params.pop('orderId')}", **params)
            assert answer.status_code == (
                404 if status == "200" else int(status)
            )  # the example's order is not ours
    us = authorize(spapi_sim)
    for status, cases in _sandbox(MODEL_V0, "confirmShipment").items():
        for case in cases:
            body = case["request"]["parameters"]["body"]["value"]
            order_id = case["request"]["parameters"]["orderId"]["value"]
            lines = [{"sku": "SKU-00001", "quantity": 1, "order_item_id": i["orderItemId"]}
                     for i in body["packageDetail"]["orderItems"]]  # fmt: skip
            if requests.get(f"{spapi_sim.url}/_sim/orders/{order_id}", timeout=10).status_code == 404:
                admin(spapi_sim, "POST", "orders", {"seller_id": "A1NASELLER0001", "marketplace_id": US,
                                                    "order_id": order_id, "items": lines})  # fmt: skip
            answer = confirm(spapi_sim, us, order_id, body)
            assert answer.status_code == int(status), answer.text
    participations = _sandbox("sellers.json", "getMarketplaceParticipations")["200"][0]["response"]
    ours = get(spapi_sim, us, "/sellers/v1/marketplaceParticipations").json()
    validate_response("sellers.json", "getMarketplaceParticipations", 200, ours)
    validate_response("sellers.json", "getMarketplaceParticipations", 200, participations)
    assert set(ours["payload"][0]) == set(participations["payload"][0])
    assert set(ours["payload"][0]["marketplace"]) == set(participations["payload"][0]["marketplace"])
