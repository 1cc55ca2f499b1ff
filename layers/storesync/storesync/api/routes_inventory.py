"""WMS stock API: set on hand (a stock count), relative adjustments with a reason (atomic), and the stock view
(per SKU and warehouse: on hand, allocated, available; per store: what was last pushed, what Amazon shows).

Quantities are whole numbers from 0 to 1,000,000 (deltas: -1,000,000 to 1,000,000); anything else, unknown warehouses and
SKUs that are not the merchant's products are a 4xx naming the field. Every committed change goes through
stock_watch.after_stock_change, so a stock-out reaches Amazon within a minute.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from storesync.api.auth import merchant_id
from storesync.api.deps import api_services
from storesync.api.errors import BadRequest, NotFound
from storesync.api.params import MAX_SKU_LENGTH, SkuPath, SkuQuery, WarehouseIdPath
from storesync.clock import iso
from storesync.dal.product_queries import store_listings, unknown_skus
from storesync.dal.stock_ledger import apply_adjustments, set_on_hand, stock_levels
from storesync.dal.store_queries import merchant_stores
from storesync.dal.warehouses import list_warehouses, warehouse_exists
from storesync.domain.allocation import Adjustment, AdjustmentRefused
from storesync.domain.stores import MAX_QUANTITY_LIMIT, WAREHOUSE_ID_MAX
from storesync.usecases.stock_watch import after_stock_change

router = Router()
MAX_ADJUSTMENTS = 100


class OnHandBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on_hand: StrictInt = Field(ge=0, le=MAX_QUANTITY_LIMIT)


class AdjustmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse_id: str = Field(min_length=1, max_length=WAREHOUSE_ID_MAX)
    sku: str = Field(min_length=1, max_length=MAX_SKU_LENGTH)
    delta: StrictInt = Field(ge=-MAX_QUANTITY_LIMIT, le=MAX_QUANTITY_LIMIT)
    reason: str = Field(min_length=1, max_length=200)


class AdjustmentsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adjustments: list[AdjustmentLine] = Field(min_length=1, max_length=MAX_ADJUSTMENTS)


@router.put(
    "/inventory/<warehouse_id>/<sku>", summary="Set the stock on hand of a SKU in a warehouse (a count)"
)
def put_on_hand(
    warehouse_id: WarehouseIdPath, sku: SkuPath, body: Annotated[OnHandBody, Body()]
) -> dict[str, Any]:
    merchant = merchant_id(router)
    if not warehouse_exists(merchant, warehouse_id):
        raise NotFound(f"warehouse_id: no warehouse {warehouse_id!r}", "warehouse_id")
    if unknown_skus(merchant, [sku]):
        raise NotFound(f"sku: {sku!r} is not one of your products", "sku")
    level = set_on_hand(merchant, warehouse_id, sku, body.on_hand)
    after_stock_change(merchant, [sku], api_services().queue)
    return {
        "warehouse_id": warehouse_id,
        "sku": sku,
        "on_hand": level.on_hand,
        "allocated": level.allocated,
        "available": level.available,
    }


@router.post("/inventory/adjustments", summary="Adjust stock by deltas with a reason (all or nothing)")
def post_adjustments(body: Annotated[AdjustmentsBody, Body()]) -> dict[str, Any]:
    merchant = merchant_id(router)
    known: dict[str, bool] = {}
    for index, line in enumerate(body.adjustments):
        if line.warehouse_id not in known:
            known[line.warehouse_id] = warehouse_exists(merchant, line.warehouse_id)
        if not known[line.warehouse_id]:
            field = f"adjustments[{index}].warehouse_id"
            raise BadRequest(f"{field}: no warehouse {line.warehouse_id!r}", field, code="unknown_warehouse")
    unknown = unknown_skus(merchant, [line.sku for line in body.adjustments])
    for index, line in enumerate(body.adjustments):
        if line.sku in unknown:
            field = f"adjustments[{index}].sku"
            raise BadRequest(f"{field}: {line.sku!r} is not one of your products", field, code="unknown_sku")
    lines = [Adjustment(a.warehouse_id, a.sku, a.delta, a.reason) for a in body.adjustments]
    try:
        levels = apply_adjustments(merchant, lines)
    except AdjustmentRefused as exc:
        # the index is into the merged lines (one per warehouse and SKU): it names a request line only when
        # no two lines touched the same stock row
        distinct = len({(a.warehouse_id, a.sku) for a in lines}) == len(lines)
        field = f"adjustments[{exc.index}].delta" if exc.index is not None and distinct else "adjustments"
        raise BadRequest(f"{field}: {exc}", field, code="insufficient_stock") from None
    after_stock_change(merchant, [line.sku for line in lines], api_services().queue)
    return {
        "applied": [
            {"warehouse_id": warehouse_id, "sku": sku, "on_hand": lv.on_hand,
             "allocated": lv.allocated, "available": lv.available}
            for (warehouse_id, sku), lv in levels.items()
        ]
    }  # fmt: skip


@router.get("/inventory", summary="Stock per SKU and warehouse, and what each store was last sent")
def get_inventory(sku: SkuQuery = None) -> dict[str, Any]:
    merchant = merchant_id(router)
    only = sku or None
    warehouses = [w.warehouse_id for w in list_warehouses(merchant)]
    skus: dict[str, dict[str, Any]] = {}
    for (warehouse_id, sku), level in stock_levels(
        merchant, warehouses, None if only is None else [only]
    ).items():
        entry = skus.setdefault(sku, {"sku": sku, "warehouses": [], "stores": []})
        entry["warehouses"].append(
            {"warehouse_id": warehouse_id, "on_hand": level.on_hand,
             "allocated": level.allocated, "available": level.available}
        )  # fmt: skip
    for store in merchant_stores(merchant):
        for listing in store_listings(store.store_id, only):
            entry = skus.setdefault(listing.sku, {"sku": listing.sku, "warehouses": [], "stores": []})
            entry["stores"].append(
                {
                    "store_id": store.store_id,
                    "channel": listing.channel,
                    "last_pushed_quantity": _num(listing.last_pushed_quantity),
                    "last_push_status": listing.last_push_status,
                    "last_push_message": listing.last_push_message,
                    "last_push_at": iso(listing.last_push_at) if listing.last_push_at else None,
                    "amazon_quantity": _num(listing.amazon_quantity),
                }
            )
    for entry in skus.values():
        entry["available"] = sum(w["available"] for w in entry["warehouses"])
    return {"inventory": [skus[s] for s in sorted(skus)]}


def _num(value: Any) -> int | None:
    return None if value is None else int(value)
