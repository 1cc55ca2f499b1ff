"""The backfill of Orders v2026's fulfilment fields (issue 16): an open merchant order stored before storesync kept
them is stored again from Amazon's next answer though nothing else changed, and the catch-up's reconciliation
counts it as differing so that getOrder brings them; closed and FBA orders, and orders stored with the fields,
are left alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from storesync.domain.events import order_transition_events
from storesync.domain.orders import (
    IGNORE,
    UPDATE,
    AmazonItem,
    AmazonOrder,
    ImportRules,
    OrderLine,
    OrderSnapshot,
    OrderStatus,
    decide,
    lacks_fulfilment_fields,
)
from storesync.domain.reconciliation import HeldOrder, ReportedOrder, difference

UPDATED = "2026-12-01T10:00:00Z"


def stored(status: str = "open", channel: str = "FBM", fields: bool = False) -> OrderSnapshot:
    return OrderSnapshot(
        amazon_order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        channel=channel,
        status=OrderStatus(status),
        amazon_status="UNSHIPPED" if status == "open" else "SHIPPED",
        amazon_last_updated=UPDATED,
        lines=(OrderLine("OI-1", "SKU-1", 1),),
        has_fulfilment_fields=fields,
    )


def amazon(order: OrderSnapshot) -> AmazonOrder:
    return AmazonOrder(
        order_id=order.amazon_order_id,
        marketplace_id=order.marketplace_id,
        status=order.amazon_status,
        channel=order.channel,
        created=UPDATED,
        last_updated=UPDATED,
        items=(AmazonItem("OI-1", "SKU-1", 1, 1 if order.status == "shipped" else 0),),
    )


RULES = ImportRules(download_orders=True, import_pending=False, remove_stock_for_external=False)


def test_an_open_merchant_order_without_the_fields_is_stored_again_unchanged_otherwise() -> None:
    before = stored()
    assert lacks_fulfilment_fields(before)
    decision = decide(before, amazon(before), RULES)
    assert decision.action == UPDATE and decision.status == before.status
    assert not (decision.allocate or decision.release_allocation or decision.remove_stock)  # no stock moves
    after = replace(before, has_fulfilment_fields=True)
    assert order_transition_events("m", "s", before, after, 2, datetime.now(UTC)) == []  # nothing to tell
    assert decide(after, amazon(after), RULES).action == IGNORE  # once they are stored: nothing more


@pytest.mark.parametrize("order", [stored(fields=True), stored("shipped"), stored(channel="FBA")])
def test_orders_with_the_fields_closed_or_fba_are_left_alone(order: OrderSnapshot) -> None:
    assert not lacks_fulfilment_fields(order)
    assert decide(order, amazon(order), RULES).action == IGNORE


def test_the_catchup_counts_an_order_without_the_fields_as_differing() -> None:
    reported = ReportedOrder("111-0000001-0000001", "UNSHIPPED", "Unshipped", "FBM", UPDATED, (("SKU-1", 1),))
    held = HeldOrder("111-0000001-0000001", "UNSHIPPED", UPDATED, (("SKU-1", 1),))
    assert difference(reported, held, import_pending=False) is None
    why = difference(reported, replace(held, fields_missing=True), import_pending=False)
    assert why is not None and "fulfilment fields" in why
    newer = replace(held, amazon_last_updated="2026-12-02T00:00:00Z", fields_missing=True)
    assert difference(reported, newer, import_pending=False) is not None  # fetched though storesync is newer
