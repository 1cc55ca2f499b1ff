"""The models' x-amzn-api-sandbox static examples of the catalog APIs, replayed where they fit.

Each example's response is checked against the model; then the request is sent to the simulator (adapted
where the example names Amazon's sandbox objects: one of our marketplaces, SKUs and ids instead of theirs,
JSON_LISTINGS_FEED instead of an XML feed type) and our answer must have the example's status (or 404 where
the example's id is made up and the model declares 404) and no key path the example lacks besides the
listed extras. fbaInventory.json carries no sandbox examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import requests
from spapi_simulator import Simulator
from spapi_simulator.schemas import operation, response_errors
from spapi_simulator.testing import Authorized, admin, authorize

SELLER, US = "A1NASELLER0001", "ATVPDKIKX0DER"
REPORTS, LISTINGS, FEEDS = "reports_2021-06-30.json", "listingsItems_2021-08-01.json", "feeds_2021-06-30.json"


def sandbox(model: str, operation_id: str) -> dict[int, list[dict[str, Any]]]:
    cases = {
        int(status): answer["x-amzn-api-sandbox"]["static"]
        for status, answer in operation(model, operation_id).spec["responses"].items()
        if "x-amzn-api-sandbox" in answer
    }
    for status, examples in cases.items():
        for example in examples:
            assert response_errors(model, operation_id, status, example["response"]) == [], operation_id
    return cases


def value(case: dict[str, Any], name: str) -> Any:
    return case["request"]["parameters"].get(name, {}).get("value")


def paths(node: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value (list items merged as [])."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, child in node.items():
            found |= {f"{prefix}/{key}"} | paths(child, f"{prefix}/{key}")
    elif isinstance(node, list):
        for child in node:
            found |= paths(child, f"{prefix}[]")
    return found


def same_shape(ours: Any, example: Any, extras: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    unexpected = paths(ours) - paths(example) - extras
    assert not unexpected, f"not in the sandbox example: {sorted(unexpected)}"


def send(sim: Simulator, auth: Authorized, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, sim.url + path, headers=auth.headers, timeout=10, **kwargs)


def replay_posts(
    sim: Simulator,
    auth: Authorized,
    model: str,
    operation_id: str,
    path: str,
    created: int,
    adapt: Callable[[dict[str, Any]], dict[str, Any]] = lambda body: body,
) -> dict[str, Any]:
    """Sends each sandbox example of a POST to `path`, the `created` ones' bodies adapted to our world; each must
    be answered with the example's status. Returns our answer to the (last) `created` example."""
    ours: dict[str, Any] = {}
    for status, cases in sandbox(model, operation_id).items():
        for case in cases:
            body = dict(value(case, "body"))
            answer = send(sim, auth, "POST", path, json=adapt(body) if status == created else body)
            assert answer.status_code == status, answer.text
            assert response_errors(model, operation_id, status, answer.json()) == []
            if status == created:
                same_shape(answer.json(), case["response"])
                ours = answer.json()
    return ours


def replay_gets(
    sim: Simulator, auth: Authorized, model: str, operation_id: str, path: str, our_id: str, id_name: str
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Sends each sandbox example of a GET to `path` (`{}` for the id): our id for the 200 examples, the example's
    made-up one (parameter `id_name`) otherwise, which must be 404. Yields (example, our answer) of the 200s."""
    for status, cases in sandbox(model, operation_id).items():
        for case in cases:
            wanted = our_id if status == 200 else value(case, id_name)
            answer = send(sim, auth, "GET", path.format(wanted))
            assert answer.status_code == (200 if status == 200 else 404)
            assert response_errors(model, operation_id, answer.status_code, answer.json()) == []
            if status == 200:
                yield case, answer.json()


def check_document_examples(sim: Simulator, auth: Authorized, kind: str, document_id: str) -> None:
    """get{Report,Feed}Document's sandbox examples (`kind`: report or feed), ours answered for `document_id`."""
    model, path = (REPORTS if kind == "report" else FEEDS), f"/{kind}s/2021-06-30/documents/{{}}"
    for case, ours in replay_gets(
        sim, auth, model, f"get{kind.title()}Document", path, document_id, f"{kind}DocumentId"
    ):
        same_shape(ours, case["response"], {"/compressionAlgorithm"})


def test_reports_sandbox_examples(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(report_seconds=10.0)
    auth = authorize(sim)

    def our_marketplace(body: dict[str, Any]) -> dict[str, Any]:
        return body | {"marketplaceIds": [m for m in body["marketplaceIds"] if m == US]}

    created = replay_posts(
        sim, auth, REPORTS, "createReport", "/reports/2021-06-30/reports", 202, our_marketplace
    )
    report_id = created["reportId"]
    admin(sim, "POST", "clock/advance", {"seconds": 6})  # the example report is IN_PROGRESS
    reports = replay_gets(
        sim, auth, REPORTS, "getReport", "/reports/2021-06-30/reports/{}", report_id, "reportId"
    )
    for case, ours in reports:
        assert ours["processingStatus"] == case["response"]["processingStatus"]
        same_shape(ours, case["response"], {"/marketplaceIds"})
    admin(sim, "POST", "clock/advance", {"seconds": 6})
    document_id = send(sim, auth, "GET", f"/reports/2021-06-30/reports/{report_id}").json()[
        "reportDocumentId"
    ]
    check_document_examples(sim, auth, "report", document_id)


def test_listings_items_sandbox_examples(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    truth = admin(spapi_sim, "GET", "listings", seller_id=SELLER, marketplace_id=US)["listings"]
    merchant = [x for x in truth if x["fulfillment_channel"] == "DEFAULT" and x["status"] == "Active"][:3]
    items = f"/listings/2021-08-01/items/{SELLER}"
    for status, cases in sandbox(LISTINGS, "searchListingsItems").items():
        for case in cases:
            params = {
                name: p["value"] for name, p in case["request"]["parameters"].items() if name != "sellerId"
            }
            if status == 200:  # our SKUs; the simulator (like Amazon in production) takes one marketplace
                params |= {"identifiers": [x["sku"] for x in merchant], "marketplaceIds": [US]}
            answer = send(spapi_sim, auth, "GET", items, params=params)
            assert answer.status_code == status, answer.text
            assert response_errors(LISTINGS, "searchListingsItems", status, answer.json()) == []
            if status == 200:
                assert answer.json()["numberOfResults"] == case["response"]["numberOfResults"] == 3
                same_shape(answer.json(), case["response"])
    included = ["summaries", "offers", "fulfillmentAvailability", "issues"]
    for status, cases in sandbox(LISTINGS, "getListingsItem").items():
        for case in cases:
            sku = merchant[0]["sku"] if status == 200 else value(case, "sku")
            answer = send(
                spapi_sim,
                auth,
                "GET",
                f"{items}/{sku}",
                params={"marketplaceIds": US, "includedData": included},
            )
            assert answer.status_code == (200 if status == 200 else 404), answer.text
            assert response_errors(LISTINGS, "getListingsItem", answer.status_code, answer.json()) == []
            if status == 200:
                same_shape(answer.json(), case["response"])
    for status, cases in sandbox(LISTINGS, "patchListingsItem").items():
        for case in cases:
            mode, wanted = value(case, "mode"), case["response"].get("status")
            sku = {"INVALID": "VALIDATION_INVALID"}.get(wanted, merchant[1]["sku"])
            body = {"productType": merchant[1]["product_type"], "patches": [{"op": "merge",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 9}]}]}  # fmt: skip
            params = {"marketplaceIds": value(case, "marketplaceIds") or [US]}
            if mode:
                params |= {"mode": mode, "includedData": value(case, "includedData")}
            answer = send(spapi_sim, auth, "PATCH", f"{items}/{sku}", params=params,
                          json=body if status == 200 else None)  # fmt: skip
            assert answer.status_code == status, answer.text
            assert response_errors(LISTINGS, "patchListingsItem", status, answer.json()) == []
            if status == 200:
                assert answer.json()["status"] == wanted
                same_shape(answer.json(), case["response"], {"/issues/severity", "/issues/categories"})
                assert set(case["response"]) == set(answer.json())


def test_feeds_sandbox_examples(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    created = replay_posts(spapi_sim, auth, FEEDS, "createFeedDocument", "/feeds/2021-06-30/documents", 201)
    document_id = created.get("feedDocumentId", "")
    ours = send(
        spapi_sim, auth, "POST", "/feeds/2021-06-30/documents", json={"contentType": "application/json"}
    )
    requests.put(ours.json()["url"], data=b"{}", headers={"Content-Type": "application/json"}, timeout=10)
    assert document_id

    def our_feed(
        body: dict[str, Any],
    ) -> dict[str, Any]:  # the simulator processes JSON_LISTINGS_FEED, one marketplace
        return body | {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US],
                       "inputFeedDocumentId": ours.json()["feedDocumentId"]}  # fmt: skip

    feed_id = replay_posts(spapi_sim, auth, FEEDS, "createFeed", "/feeds/2021-06-30/feeds", 202, our_feed)[
        "feedId"
    ]
    admin(spapi_sim, "POST", "clock/advance", {"seconds": 60})
    result_id = ""
    for case, ours in replay_gets(
        spapi_sim, auth, FEEDS, "getFeed", "/feeds/2021-06-30/feeds/{}", feed_id, "feedId"
    ):
        same_shape(ours, case["response"], {"/marketplaceIds", "/resultFeedDocumentId"})
        result_id = ours["resultFeedDocumentId"]
    check_document_examples(spapi_sim, auth, "feed", result_id)
