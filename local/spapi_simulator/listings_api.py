"""Listings Items API 2021-08-01: searchListingsItems, getListingsItem, patchListingsItem; admin /_sim/listings.

searchListingsItems walks one of the table's sorted indexes (sku, createdDate, lastUpdatedDate) from the
page token's key, so a page costs the same whatever the number of listings; pageSize is at most 20 and a
search stops giving a nextToken after 1,000 items (Amazon's cap: split by lastUpdatedAfter windows).
patchListingsItem answers ACCEPTED (queued: the quantity changes after `listing_delay` seconds of the
simulator clock), or INVALID with issues for an unknown SKU, an FBA listing's quantity or a bad value.

Admin: GET /_sim/listings?seller_id=&marketplace_id=[&sku=][&limit=&offset=] -> {"listings": [...], "count"};
POST /_sim/listings {"seller_id","marketplace_id","sku", "asin"?, "title"?, "price"?, "quantity"?,
"fulfillment_channel"?, "product_type"?, "status"?} adds or modifies a listing and answers it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flask import Response, request

from . import listing_patches, page_tokens
from .catalog import ACTIVE, INACTIVE, INCOMPLETE, Catalog, Listing, ListingTable, currency
from .clock import iso, parse_iso
from .documents import catalog_of
from .errors import sp_error
from .server import Call, json_response, sim_route, sp_api_route

if TYPE_CHECKING:
    from .state import SimulatorState

MODEL = "listingsItems_2021-08-01.json"
SEARCH_CAP = 1000
INCOMPLETE_ISSUE = {
    "code": "90220",
    "message": "'item_type_keyword' is required but not supplied.",
    "severity": "ERROR",
    "attributeNames": ["item_type_keyword"],
    "categories": ["MISSING_ATTRIBUTE"],
}


def statuses(listing: Listing) -> list[str]:
    if listing.status == ACTIVE:
        return ["BUYABLE", "DISCOVERABLE"]
    return ["DISCOVERABLE"] if listing.status == INACTIVE else []


def item_json(listing: Listing, marketplace_id: str, included: list[str]) -> dict[str, Any]:
    """A listing as the Listings Items API's Item with the includedData sections asked for."""
    item: dict[str, Any] = {"sku": listing.sku}
    if "summaries" in included:
        summary: dict[str, Any] = {
            "marketplaceId": marketplace_id,
            "asin": listing.asin,
            "productType": listing.product_type,
            "conditionType": "new_new",
            "status": statuses(listing),
            "itemName": listing.title,
            "createdDate": iso(listing.created),
            "lastUpdatedDate": iso(listing.last_updated),
        }
        if listing.fba is not None:
            summary["fnSku"] = listing.fba.fnsku
        item["summaries"] = [summary]
    if "attributes" in included:
        attributes: dict[str, Any] = {
            "item_name": [{"value": listing.title, "marketplace_id": marketplace_id}],
            "condition_type": [{"value": "new_new", "marketplace_id": marketplace_id}],
            "purchasable_offer": [
                {
                    "marketplace_id": marketplace_id,
                    "currency": currency(marketplace_id),
                    "our_price": [{"schedule": [{"value_with_tax": listing.price}]}],
                }
            ],
            "fulfillment_availability": [_availability_attribute(listing, marketplace_id)],
        }
        attributes.update(listing.attributes or {})
        item["attributes"] = attributes
    if "issues" in included:
        item["issues"] = (
            [dict(INCOMPLETE_ISSUE, marketplaceIds=[marketplace_id])] if listing.status == INCOMPLETE else []
        )
    if "offers" in included:
        money = {"currencyCode": currency(marketplace_id), "amount": f"{listing.price:.2f}"}
        item["offers"] = [{"marketplaceId": marketplace_id, "offerType": "B2C", "price": money}]
    if "fulfillmentAvailability" in included:
        item["fulfillmentAvailability"] = [
            {"fulfillmentChannelCode": listing.fulfillment_channel, "quantity": listing.quantity}
        ]
    if "procurement" in included:
        item["procurement"] = []
    if "relationships" in included:
        item["relationships"] = [{"marketplaceId": marketplace_id, "relationships": []}]
    if "productTypes" in included:
        item["productTypes"] = [{"marketplaceId": marketplace_id, "productType": listing.product_type}]
    return item


def _availability_attribute(listing: Listing, marketplace_id: str) -> dict[str, Any]:
    return {"fulfillment_channel_code": listing.fulfillment_channel, "quantity": listing.quantity,
            "marketplace_id": marketplace_id}  # fmt: skip


def _check_seller(call: Call, seller_id: str) -> str:
    if seller_id != call.seller_id:
        raise sp_error(403, "Unauthorized", "Access to requested resource is denied.")
    marketplace_ids = list(dict.fromkeys(call.query["marketplaceIds"]))
    if len(marketplace_ids) != 1:
        raise sp_error(400, "InvalidInput", "marketplaceIds: exactly one marketplace is supported")
    if marketplace_ids[0] not in call.world.sellers[seller_id].marketplace_ids:
        message = f"marketplaceIds: the seller is not registered in marketplace {marketplace_ids[0]}"
        raise sp_error(400, "InvalidInput", message)
    return str(marketplace_ids[0])


# search --------------------------------------------------------------------------------------------------
def _time_param(query: dict[str, Any], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        return int(parse_iso(str(value)) * 1_000_000)
    except ValueError:
        raise sp_error(400, "InvalidInput", f"{name}: {value!r} is not an ISO 8601 date-time") from None


class _Search:
    def __init__(self, table: ListingTable, query: dict[str, Any]) -> None:
        self.table = table
        self.sort_by = query.get("sortBy", "lastUpdatedDate")
        self.descending = query.get("sortOrder", "DESC") == "DESC"
        self.ranges = {
            "created": (_time_param(query, "createdAfter"), _time_param(query, "createdBefore")),
            "updated": (_time_param(query, "lastUpdatedAfter"), _time_param(query, "lastUpdatedBefore")),
        }
        self.with_status = set(query.get("withStatus", []))
        self.without_status = set(query.get("withoutStatus", []))
        self.with_severity = set(query.get("withIssueSeverity", []))
        self.no_match = bool(query.get("variationParentSku") or query.get("packageHierarchySku"))
        fingerprint = {k: v for k, v in query.items() if k not in ("pageSize", "pageToken", "includedData")}
        text = json.dumps(fingerprint, sort_keys=True, default=str)
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]

    def matches(self, listing: Listing) -> bool:
        for name, stamp in (("created", listing.created_stamp), ("updated", listing.updated_stamp)):
            after, before = self.ranges[name]
            if (after is not None and stamp < after) or (before is not None and stamp >= before):
                return False
        shown = set(statuses(listing))
        if self.with_status and not self.with_status <= shown:
            return False
        if self.without_status & shown:
            return False
        return not (
            self.with_severity and not ("ERROR" in self.with_severity and listing.status == INCOMPLETE)
        )

    def _index(self) -> tuple[list[Any], Callable[[int], Listing], int, int]:
        """Keys, row lookup and the [lo, hi) range the index's own time filter allows."""
        table = self.table
        if self.sort_by == "sku":
            return table.sorted_skus, lambda i: table.by_sku[table.sorted_skus[i]], 0, len(table.sorted_skus)
        name = "created" if self.sort_by == "createdDate" else "updated"
        stamps = table.created_stamps if name == "created" else table.updated_stamps
        rows = table.created_rows if name == "created" else table.updated_rows
        after, before = self.ranges[name]
        lo = bisect.bisect_left(stamps, after) if after is not None else 0
        hi = bisect.bisect_left(stamps, before) if before is not None else len(stamps)
        return stamps, rows.__getitem__, lo, hi  # type: ignore[return-value]

    def key(self, listing: Listing) -> Any:
        if self.sort_by == "sku":
            return listing.sku
        return listing.created_stamp if self.sort_by == "createdDate" else listing.updated_stamp

    def walk(self, after_key: Any) -> Iterator[Listing]:
        if self.no_match:
            return
        keys, row, lo, hi = self._index()
        if self.descending:
            start = hi - 1 if after_key is None else min(hi - 1, bisect.bisect_left(keys, after_key) - 1)
            positions: range = range(start, lo - 1, -1)
        else:
            start = lo if after_key is None else max(lo, bisect.bisect_right(keys, after_key))
            positions = range(start, hi)
        for position in positions:
            listing = row(position)
            if self.matches(listing):
                yield listing

    def count(self) -> int:
        return sum(1 for _ in self.walk(None))


def _token(call: Call, search: _Search, key: Any, served: int) -> str:
    raw = json.dumps({"k": key, "n": served, "q": search.fingerprint}).encode()
    return page_tokens.make(call, raw, padded=False)


def _read_token(call: Call, search: _Search, token: str) -> tuple[Any, int]:
    try:
        data = json.loads(page_tokens.read(call, token, "pageToken"))
        key, served, fingerprint = data["k"], int(data["n"]), data["q"]
    except (ValueError, KeyError, TypeError):
        raise sp_error(400, "InvalidInput", "pageToken: the token is not valid") from None
    if fingerprint != search.fingerprint:
        raise sp_error(400, "InvalidInput", "pageToken: the token belongs to a search with other parameters")
    return key, served


def _identified(table: ListingTable, query: dict[str, Any]) -> list[Listing]:
    kind = query.get("identifiersType")
    if kind is None:
        raise sp_error(400, "InvalidInput", "identifiersType: required when identifiers are given")
    wanted = set(query["identifiers"])
    if kind == "SKU":
        return [table.by_sku[sku] for sku in sorted(wanted) if sku in table.by_sku]
    if kind == "ASIN":
        return [item for item in table.by_sku.values() if item.asin in wanted]
    if kind == "FNSKU":
        return [item for item in table.by_sku.values() if item.fba is not None and item.fba.fnsku in wanted]
    return []


@sp_api_route("GET", "/listings/2021-08-01/items/<sellerId>", operation_id="searchListingsItems", model=MODEL)
def search_listings_items(call: Call, sellerId: str) -> tuple[int, dict[str, Any]]:
    marketplace_id = _check_seller(call, sellerId)
    catalog = catalog_of(call.sim)
    included = call.query.get("includedData", ["summaries"])
    page_size = int(call.query.get("pageSize", 10))
    with catalog.lock:
        table = catalog.table(sellerId, marketplace_id)
        search = _Search(table, call.query)
        if call.query.get("identifiers"):
            found = [item for item in _identified(table, call.query) if search.matches(item)]
            items = [item_json(item, marketplace_id, included) for item in found]
            return 200, {"numberOfResults": len(items), "items": items}
        after_key, served = None, 0
        if call.query.get("pageToken"):
            after_key, served = _read_token(call, search, call.query["pageToken"])
        page: list[Listing] = []
        more = False
        limit = min(page_size, max(0, SEARCH_CAP - served))
        for listing in search.walk(after_key):
            if len(page) == limit:
                more = True
                break
            page.append(listing)
        body: dict[str, Any] = {
            "numberOfResults": search.count(),
            "items": [item_json(item, marketplace_id, included) for item in page],
        }
        if more and page and served + len(page) < SEARCH_CAP:
            resume = page_tokens.resume_index(call, len(page))
            token = _token(call, search, search.key(page[resume]), served + resume + 1)
            body["pagination"] = {"nextToken": token}
    return 200, body


@sp_api_route(
    "GET", "/listings/2021-08-01/items/<sellerId>/<path:sku>", operation_id="getListingsItem", model=MODEL
)
def get_listings_item(call: Call, sellerId: str, sku: str) -> tuple[int, dict[str, Any]]:
    marketplace_id = _check_seller(call, sellerId)
    listing = catalog_of(call.sim).get(sellerId, marketplace_id, sku)
    if listing is None:
        raise sp_error(404, "NotFound", f"sku: SKU '{sku}' was not found in marketplace {marketplace_id}")
    return 200, item_json(listing, marketplace_id, call.query.get("includedData", ["summaries"]))


@sp_api_route(
    "PATCH", "/listings/2021-08-01/items/<sellerId>/<path:sku>", operation_id="patchListingsItem", model=MODEL
)
def patch_listings_item(call: Call, sellerId: str, sku: str) -> tuple[int, dict[str, Any]]:
    marketplace_id = _check_seller(call, sellerId)
    catalog = catalog_of(call.sim)
    listing = catalog.get(sellerId, marketplace_id, sku)
    outcome = listing_patches.evaluate(
        listing, sku, marketplace_id, call.body["productType"], call.body["patches"]
    )
    preview = call.query.get("mode") == "VALIDATION_PREVIEW"
    submission_id = uuid.uuid4().hex
    body: dict[str, Any] = {"sku": sku, "submissionId": submission_id, "issues": outcome.issues}
    if not outcome.valid:
        body["status"] = "INVALID"
    elif preview:
        body["status"] = "VALID"
    else:
        body["status"] = "ACCEPTED"
        listing_patches.apply(
            catalog, sellerId, marketplace_id, sku, outcome, float(call.sim.config.listing_delay)
        )
    if "identifiers" in call.query.get("includedData", []):  # none for an unknown SKU (the sandbox's [])
        body["identifiers"] = (
            [] if listing is None else [{"marketplaceId": marketplace_id, "asin": listing.asin}]
        )
    return 200, body


# admin -------------------------------------------------------------------------------------------------
def _admin_table(
    sim: SimulatorState, seller_id: str | None, marketplace_id: str | None
) -> tuple[Catalog, str, str]:
    if not seller_id or seller_id not in sim.world.sellers:
        raise sp_error(400, "InvalidInput", f"seller_id: unknown seller {seller_id!r}")
    if not marketplace_id or marketplace_id not in sim.world.sellers[seller_id].marketplace_ids:
        raise sp_error(
            400, "InvalidInput", f"marketplace_id: {marketplace_id!r} is not a marketplace of {seller_id}"
        )
    return catalog_of(sim), seller_id, marketplace_id


@sim_route("GET", "/_sim/listings")
def admin_listings(sim: SimulatorState) -> Response:
    catalog, seller_id, marketplace_id = _admin_table(
        sim, request.args.get("seller_id"), request.args.get("marketplace_id")
    )
    sku = request.args.get("sku")
    if sku is not None:
        listing = catalog.get(seller_id, marketplace_id, sku)
        found = [listing] if listing is not None else []
        return json_response(
            200, {"listings": [x.to_json(seller_id, marketplace_id) for x in found], "count": len(found)}
        )
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 1_000_000))
    except ValueError:
        raise sp_error(400, "InvalidInput", "offset/limit: must be integers") from None
    listings = catalog.listings(seller_id, marketplace_id)
    chosen = listings[offset : offset + limit]
    return json_response(
        200, {"listings": [x.to_json(seller_id, marketplace_id) for x in chosen], "count": len(listings)}
    )


@sim_route("POST", "/_sim/listings")
def admin_upsert_listing(sim: SimulatorState) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise sp_error(400, "InvalidInput", "body: a JSON object is required")
    fields = dict(body)
    catalog, seller_id, marketplace_id = _admin_table(
        sim, fields.pop("seller_id", None), fields.pop("marketplace_id", None)
    )
    sku = fields.pop("sku", None)
    if not isinstance(sku, str) or not sku:
        raise sp_error(400, "InvalidInput", "sku: a non-empty string is required")
    try:
        listing = catalog.upsert(seller_id, marketplace_id, sku, fields)
    except ValueError as exc:
        raise sp_error(400, "InvalidInput", str(exc)) from None
    return json_response(200, listing.to_json(seller_id, marketplace_id))
