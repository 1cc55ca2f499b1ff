"""WMS stock API: set on hand (a stock count), relative adjustments with a reason (atomic), and the stock view
(per SKU and warehouse: on hand, allocated, available; per store: what was last pushed, what Amazon shows).

Quantities are whole numbers of 0 or more (deltas: any whole number); anything else, unknown warehouses and
SKUs that are not the merchant's products are a 4xx naming the field. Every committed change goes through
stock_watch.after_stock_change, so a stock-out reaches Amazon within a minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from storesync.api.auth import merchant_id
from storesync.api.deps import api_services
from storesync.api.errors import BadRequest, NotFound, json_body
from storesync.clock import iso
from storesync.dal.products import Listing, Product
from storesync.dal.stock_ledger import apply_adjustments, set_on_hand, stock_levels
from storesync.dal.stores import Store
from storesync.dal.warehouses import list_warehouses, warehouse_exists
from storesync.domain.allocation import Adjustment, AdjustmentRefused
from storesync.usecases.stock_watch import after_stock_change

router = Router()
MAX_ADJUSTMENTS = 100


class OnHandBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on_hand: StrictInt = Field(ge=0)


class AdjustmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    delta: StrictInt
    reason: str = Field(min_length=1, max_length=200)


class AdjustmentsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adjustments: list[AdjustmentLine] = Field(min_length=1, max_length=MAX_ADJUSTMENTS)


def _field_path(loc: Iterable[Any]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _parse[M: BaseModel](model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(first.get("loc", ()))
        kind = first.get("type", "")
        if kind in ("int_type", "int_from_float", "int_parsing"):
            message = "must be a whole number"
        elif kind == "greater_than_equal":
            message = "must not be negative"
        elif kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            message = "is not a known field"
        else:
            message = str(first.get("msg", "is invalid"))
        raise BadRequest(f"{field}: {message}", field or None, code="invalid_field") from None


def _unknown_skus(merchant: str, skus: Iterable[str]) -> set[str]:
    wanted = sorted(set(skus))
    found = {p.sku for p in Product.batch_get([(merchant, s) for s in wanted])}
    return set(wanted) - found


@router.put("/inventory/<warehouse_id>/<sku>")
def put_on_hand(warehouse_id: str, sku: str) -> dict[str, Any]:
    merchant = merchant_id(router)
    body = _parse(OnHandBody, json_body(router))
    if not warehouse_exists(merchant, warehouse_id):
        raise NotFound(f"warehouse_id: no warehouse {warehouse_id!r}", "warehouse_id")
    if _unknown_skus(merchant, [sku]):
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


@router.post("/inventory/adjustments")
def post_adjustments() -> dict[str, Any]:
    merchant = merchant_id(router)
    body = _parse(AdjustmentsBody, json_body(router))
    known: dict[str, bool] = {}
    for index, line in enumerate(body.adjustments):
        if line.warehouse_id not in known:
            known[line.warehouse_id] = warehouse_exists(merchant, line.warehouse_id)
        if not known[line.warehouse_id]:
            field = f"adjustments[{index}].warehouse_id"
            raise BadRequest(f"{field}: no warehouse {line.warehouse_id!r}", field, code="unknown_warehouse")
    unknown = _unknown_skus(merchant, [line.sku for line in body.adjustments])
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


@router.get("/inventory")
def get_inventory() -> dict[str, Any]:
    merchant = merchant_id(router)
    only = router.current_event.get_query_string_value("sku")
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
    for store in Store.query(merchant):
        listings = (
            Listing.query(store.store_id, Listing.sku == only) if only else Listing.query(store.store_id)
        )
        for listing in listings:
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
