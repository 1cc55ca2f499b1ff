"""FBA Inventory API v1: getInventorySummaries (granularity Marketplace, details, sellerSkus, nextToken).

Summaries of the seller's FBA listings in the marketplace, in SKU order, PAGE_SIZE a page; nextToken holds
the last SKU and expires after TOKEN_SECONDS of the simulator clock (Amazon: 30 s), then 400 InvalidInput.
fulfillableQuantity is the quantity Amazon shows for the listing (GET /_sim/listings).

When Amazon ships an FBA order (status SHIPPED, fulfilledBy AMAZON: POST /_sim/orders/{id}/ship), the
fulfillable quantity of each item's FBA listing drops by the units shipped (an order listener, see
`ship_fba_stock`); generated orders are history and change nothing.
"""

from __future__ import annotations

import bisect
import json
from typing import TYPE_CHECKING, Any

from . import page_tokens
from .catalog import Catalog, Listing
from .clock import iso, parse_iso
from .documents import catalog_of
from .errors import sp_error
from .server import Call, sp_api_route
from .simulator import on_create
from .world import SHIPPED, Order

if TYPE_CHECKING:
    from .state import SimulatorState

MODEL = "fbaInventory.json"
PAGE_SIZE = 50
TOKEN_SECONDS = 30.0


def summary_json(listing: Listing, details: bool) -> dict[str, Any]:
    stock = listing.fba
    assert stock is not None
    inbound = stock.inbound_working + stock.inbound_shipped + stock.inbound_receiving
    summary: dict[str, Any] = {
        "asin": listing.asin,
        "fnSku": stock.fnsku,
        "sellerSku": listing.sku,
        "condition": "NewItem",
        "lastUpdatedTime": iso(listing.last_updated),
        "productName": listing.title,
        "totalQuantity": listing.quantity
        + inbound
        + stock.reserved
        + stock.researching
        + stock.unfulfillable,
    }
    if details:
        summary["inventoryDetails"] = {
            "fulfillableQuantity": listing.quantity,
            "inboundWorkingQuantity": stock.inbound_working,
            "inboundShippedQuantity": stock.inbound_shipped,
            "inboundReceivingQuantity": stock.inbound_receiving,
            "reservedQuantity": {
                "totalReservedQuantity": stock.reserved,
                "pendingCustomerOrderQuantity": stock.reserved,
                "pendingTransshipmentQuantity": 0,
                "fcProcessingQuantity": 0,
            },
            "researchingQuantity": {
                "totalResearchingQuantity": stock.researching,
                "researchingQuantityBreakdown": [],
            },
            "unfulfillableQuantity": {
                "totalUnfulfillableQuantity": stock.unfulfillable,
                "customerDamagedQuantity": stock.unfulfillable,
                "warehouseDamagedQuantity": 0,
                "distributorDamagedQuantity": 0,
                "carrierDamagedQuantity": 0,
                "defectiveQuantity": 0,
                "expiredQuantity": 0,
            },
        }
    return summary


def _read_token(call: Call, token: str, now: float) -> str:
    try:
        data = json.loads(page_tokens.read(call, token, "nextToken"))
        after, expires = str(data["after"]), float(data["exp"])
    except (ValueError, KeyError, TypeError):
        raise sp_error(400, "InvalidInput", "nextToken: the token is not valid") from None
    if now > expires:
        raise page_tokens.expired("nextToken", "it is valid for 30 seconds")
    return after


@sp_api_route("GET", "/fba/inventory/v1/summaries", operation_id="getInventorySummaries", model=MODEL)
def get_inventory_summaries(call: Call) -> tuple[int, dict[str, Any]]:
    query, seller_id = call.query, str(call.seller_id)
    marketplace_id = query["granularityId"]
    if query["marketplaceIds"] != [marketplace_id]:
        raise sp_error(
            400, "InvalidInput", "marketplaceIds: must be the one marketplace given as granularityId"
        )
    if marketplace_id not in call.world.sellers[seller_id].marketplace_ids:
        message = f"granularityId: the seller is not registered in marketplace {marketplace_id}"
        raise sp_error(400, "InvalidInput", message)
    start = None
    if "startDateTime" in query:
        try:
            start = parse_iso(query["startDateTime"])
        except ValueError:
            raise sp_error(400, "InvalidInput", "startDateTime: not an ISO 8601 date-time") from None
    # Amazon: startDateTime wins over sellerSkus, which wins over sellerSku
    wanted: set[str] = set()
    if start is None:
        wanted = set(query.get("sellerSkus", [])) or ({query["sellerSku"]} if "sellerSku" in query else set())
    now = call.clock.time()
    after = _read_token(call, query["nextToken"], now) if "nextToken" in query else None
    catalog = catalog_of(call.sim)
    page: list[Listing] = []
    more = False
    with catalog.lock:
        table = catalog.table(seller_id, marketplace_id)
        skus = sorted(s for s in wanted if s in table.by_sku) if wanted else table.fba_skus
        position = bisect.bisect_right(skus, after) if after is not None else 0
        for sku in skus[position:]:
            listing = table.by_sku[sku]
            if listing.fba is None or not listing.is_fba:
                continue
            if start is not None and listing.last_updated < start:
                continue
            if len(page) == PAGE_SIZE:
                more = True
                break
            page.append(listing)
        summaries = [summary_json(listing, bool(query.get("details", False))) for listing in page]
    body: dict[str, Any] = {
        "payload": {
            "granularity": {"granularityType": "Marketplace", "granularityId": marketplace_id},
            "inventorySummaries": summaries,
        }
    }
    if more:
        resume = page[page_tokens.resume_index(call, len(page))]
        raw = json.dumps({"after": resume.sku, "exp": now + TOKEN_SECONDS}).encode()
        body["pagination"] = {"nextToken": page_tokens.make(call, raw, padded=False)}
    return 200, body


@on_create
def _follow_fba_shipments(sim: SimulatorState) -> None:
    def listener(order: Order, previous: str) -> None:
        if isinstance(sim.world.catalog, Catalog):
            ship_fba_stock(sim.world.catalog, order, previous)

    sim.world.order_listeners.append(listener)


def ship_fba_stock(catalog: Catalog, order: Order, previous: str) -> None:
    """An FBA order just became SHIPPED: Amazon's fulfillable units of its listings drop."""
    if order.fulfilled_by != "AMAZON" or order.status != SHIPPED or previous == SHIPPED:
        return
    for item in order.items:
        catalog.ship_fba_units(order.seller_id, order.marketplace_id, item.sku, item.shipped)
