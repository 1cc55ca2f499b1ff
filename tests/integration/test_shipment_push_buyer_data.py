"""The buyer's address leaves 30 days after the order closes, whichever way it closes: shipped through the WMS
(the shipment push confirms the last package), shipped outside the WMS, or cancelled (both seen by the order
import). DynamoDB's TTL attribute `expires_at` of the OrderAddress carries the date."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from order_import_support import (
    MERCHANT,
    OrderImportHarness,
    admin,
    make_harness,
    new_order,
    sim_skus,
    stock,
    store_of,
    stored,
)
from shipment_push_support import push_event, ship
from storesync.clock import utcnow
from storesync.dal.order_queries import get_address
from storesync.dal.stores import Store

RETENTION_SECONDS = 30 * 86400


def expiry_of(store_id: str, order_id: str) -> datetime | None:
    address = get_address(store_id, order_id)
    assert address is not None, "the buyer's address was stored on import"
    return address.expires_at


def assert_expires_30_days_after(expires_at: datetime | None, closed_at: datetime) -> None:
    assert expires_at is not None
    assert abs((expires_at - closed_at).total_seconds() - RETENTION_SECONDS) < 120


def imported_order(h: OrderImportHarness, quantity: int) -> tuple[Store, str]:
    """A stocked store and one FBM order of `quantity` imported: its buyer's address stored, with no expiry yet."""
    fbm, _ = sim_skus(h.sim)
    store = store_of(h)
    stock(MERCHANT, fbm[0], 10)
    order_id = new_order(h.sim, {fbm[0]: quantity})
    h.advance()
    h.poll(store)
    assert stored(store, order_id).has_address and expiry_of(store.store_id, order_id) is None
    return store, order_id


def test_an_order_shipped_through_the_wms_gets_its_address_expiry(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any, lambda_context: Any
) -> None:
    h = make_harness(make_stack, spapi_sim_factory(orders=0), load_function, subscribe=False)
    store, order_id = imported_order(h, 2)
    item_id = stored(store, order_id).items[0].order_item_id
    push = load_function("ShipmentPushFunction")

    ship(store, order_id, [{"order_item_id": item_id, "quantity": 1}], tracking="P1")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    assert stored(store, order_id).status == "partially_shipped"
    assert expiry_of(store.store_id, order_id) is None  # still open: the buyer's data stays

    ship(store, order_id, [{"order_item_id": item_id, "quantity": 1}], tracking="P2")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    order = stored(store, order_id)
    assert order.status == "shipped" and order.shipped_at is not None
    assert_expires_30_days_after(expiry_of(store.store_id, order_id), order.shipped_at)

    # Amazon's SHIPPED reaches the import afterwards: the order stays shipped and the expiry stays.
    first_expiry = expiry_of(store.store_id, order_id)
    h.advance()
    h.poll(store)
    assert stored(store, order_id).status == "shipped"
    assert expiry_of(store.store_id, order_id) == first_expiry


@pytest.mark.parametrize(
    ("amazon_action", "closed_status"), [("ship", "shipped_externally"), ("cancel", "cancelled")]
)
def test_an_order_shipped_outside_the_wms_or_cancelled_gets_its_address_expiry(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any, amazon_action: str, closed_status: str
) -> None:
    h = make_harness(make_stack, spapi_sim_factory(orders=0), load_function, subscribe=False)
    store, order_id = imported_order(h, 1)

    admin(h.sim, "POST", f"orders/{order_id}/{amazon_action}")
    h.advance()
    h.poll(store)
    order = stored(store, order_id)
    assert order.status == closed_status
    if amazon_action == "ship":
        assert order.shipped_at is not None
        closed_at = order.shipped_at
    else:
        assert order.shipped_at is None
        closed_at = utcnow()
    assert_expires_30_days_after(expiry_of(store.store_id, order_id), closed_at)
