"""GET /products after an import: the merchant's products, one store's listings, filters, pagination."""

from __future__ import annotations

from fixtures_stores import DEFAULT_MERCHANT, connect_api, connected_store
from product_import_support import ProductImportDriver, amazon_listings
from storesync.api.params import encode_token

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"


def test_products_and_store_listings_page_through_with_a_token(
    make_stack, spapi_sim, load_function, lambda_context
):
    api = connect_api(make_stack, spapi_sim, load_function, lambda_context)
    store = connected_store(spapi_sim, api.stack, SELLER, US)
    ProductImportDriver(spapi_sim, api.stack, load_function, lambda_context).deliver(store, "full")
    amazon = amazon_listings(spapi_sim, store)

    seen: list[str] = []
    token = None
    while True:
        query = {"store_id": store.store_id, "limit": "7", **({"next_token": token} if token else {})}
        answer = api("GET", "/products", merchant=DEFAULT_MERCHANT, query=query)
        assert answer.status == 200, answer.text
        page = answer.json()
        assert len(page["listings"]) <= 7
        seen += [item["sku"] for item in page["listings"]]
        token = page["next_token"]
        if not token:
            break
    assert seen == sorted(amazon)
    fba = api(
        "GET", "/products", merchant=DEFAULT_MERCHANT, query={"store_id": store.store_id, "channel": "FBA"}
    )
    fba_listings = fba.json()["listings"]
    assert {i["sku"] for i in fba_listings} == {
        s for s, i in amazon.items() if i["fulfillment_channel"] != "DEFAULT"
    }
    assert all(i["amazon_quantity"] == amazon[i["sku"]]["quantity"] for i in fba_listings)

    products = api("GET", "/products", merchant=DEFAULT_MERCHANT, query={"limit": "200"}).json()
    assert {p["sku"] for p in products["products"]} == set(amazon) and products["next_token"] is None

    # Another merchant sees neither the store nor the products; bad input names the field.
    assert api("GET", "/products", merchant="someone-else", query={"store_id": store.store_id}).status == 404
    assert api("GET", "/products", merchant="someone-else").json()["products"] == []
    for query, field in (
        ({"limit": "0"}, "limit"),
        ({"store_id": store.store_id, "channel": "XYZ"}, "channel"),
        ({"store_id": store.store_id, "status": "gone"}, "status"),
        ({"next_token": "not-a-token!"}, "next_token"),
        ({"store_id": store.store_id, "next_token": token_of_other_partition()}, "next_token"),
    ):
        answer = api("GET", "/products", merchant=DEFAULT_MERCHANT, query=query)
        assert answer.status == 400 and answer.json()["error"]["field"] == field, (query, answer.text)


def token_of_other_partition() -> str:
    return encode_token({"store_id": {"S": "another-store"}, "sku": {"S": "X"}}) or ""
