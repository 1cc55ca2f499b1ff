"""Helpers for the inventory push integration tests: listings mirrored from the simulator into DynamoDB,
stock rows, one SQS delivery to the real InventoryPushFunction handler, Amazon's ground truth."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fakes import sqs_record
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import admin
from storesync.clock import utcnow
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.products import Listing, Product
from storesync.dal.stores import Store
from storesync.jobs import JobMessage

US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
SELLER = "A1NASELLER0001"


def sim_listings(sim: Simulator, seller_id: str, marketplace_id: str) -> list[dict[str, Any]]:
    return list(admin(sim, "GET", "listings", seller_id=seller_id, marketplace_id=marketplace_id)["listings"])


def fbm_skus(sim: Simulator, seller_id: str, marketplace_id: str) -> list[str]:
    return [
        x["sku"]
        for x in sim_listings(sim, seller_id, marketplace_id)
        if x["fulfillment_channel"] == "DEFAULT" and x["status"] != "INCOMPLETE"
    ]


def mirror_listings(sim: Simulator, store: Store, skus: Sequence[str] | None = None) -> list[Listing]:
    """What the product import leaves: Product + Listing rows for the store (Amazon's quantity as last pushed)."""
    now = utcnow()
    made = []
    wanted = None if skus is None else set(skus)
    for item in sim_listings(sim, str(store.selling_partner_id), store.marketplace_id):
        if wanted is not None and item["sku"] not in wanted:
            continue
        Product(store.merchant_id, item["sku"], title=item["title"], created_at=now, updated_at=now).save()
        listing = Listing(
            store.store_id,
            item["sku"],
            merchant_id=store.merchant_id,
            asin=item["asin"],
            title=item["title"],
            channel="FBM" if item["fulfillment_channel"] == "DEFAULT" else "FBA",
            amazon_quantity=item["quantity"],
            product_type=item["product_type"],
            last_pushed_quantity=item["quantity"],
            updated_at=now,
        )
        listing.save()
        made.append(listing)
    return made


def set_stock(
    merchant_id: str, sku: str, on_hand: int, allocated: int = 0, warehouse_id: str = "primary"
) -> None:
    InventoryItem(
        warehouse_key(merchant_id, warehouse_id),
        sku,
        merchant_id=merchant_id,
        warehouse_id=warehouse_id,
        on_hand=on_hand,
        allocated=allocated,
        updated_at=utcnow(),
    ).save()


def sqs_event(*messages: JobMessage) -> dict[str, Any]:
    return {"Records": [sqs_record(m.model_dump_json(), "inventory") for m in messages]}


def push_message(
    store: Store, mode: str = "incremental", skus: Sequence[str] = (), trigger: str = "schedule"
) -> JobMessage:
    return JobMessage(
        job="inventory",
        mode=mode,
        merchant_id=store.merchant_id,
        store_id=store.store_id,
        trigger=trigger,  # type: ignore[arg-type]
        skus=tuple(skus),
    )


def amazon_quantity(sim: Simulator, store: Store, sku: str) -> int:
    found = admin(
        sim,
        "GET",
        "listings",
        seller_id=store.selling_partner_id,
        marketplace_id=store.marketplace_id,
        sku=sku,
    )
    return int(found["listings"][0]["quantity"])


def sim_calls(sim: Simulator) -> dict[str, int]:
    return dict(admin(sim, "GET", "stats")["calls"])


def reset_stats(sim: Simulator) -> None:
    admin(sim, "POST", "stats/reset")


def advance(sim: Simulator, seconds: float) -> None:
    admin(sim, "POST", "clock/advance", json={"seconds": seconds})


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def deliver(handler: Handler, context: Any, *messages: JobMessage) -> dict[str, Any]:
    return handler(sqs_event(*messages), context)


def listing(store: Store, sku: str) -> Listing:
    return Listing.get(store.store_id, sku, consistent_read=True)


def last_run(store: Store) -> Any:
    from storesync.dal.job_state import latest_runs

    return latest_runs(store.store_id, limit=1, job="inventory")[0]
