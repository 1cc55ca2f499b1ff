"""The order state machine (storesync.domain.orders): one test per transition, plus the statuses and holds as
they are stored. Plain Python."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from storesync.domain.orders import (
    CLOSED_STATUSES,
    CREATE,
    HOLD_RULES,
    HOLDS,
    IGNORE,
    UPDATE,
    WMS_STATUSES,
    AmazonItem,
    AmazonOrder,
    Hold,
    ImportRules,
    Move,
    OrderLine,
    OrderSnapshot,
    OrderStatus,
    amazon_move,
    automation_blocked,
    buyer_data_expiry,
    cancel,
    follow_amazon,
    follow_status,
    import_new,
    release,
    ship_in_wms,
    ship_outside,
    shipping_refusal,
    skus_known,
)

ORDER_ID = "111-0000001-0000001"
ADDRESS = {"name": "A Buyer", "city": "Seattle"}


def incoming(status: str = "UNSHIPPED", channel: str = "FBM", updated: str = "2026-07-01T10:00:00Z",
             address: bool = True) -> AmazonOrder:  # fmt: skip
    return AmazonOrder(
        order_id=ORDER_ID,
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        channel=channel,
        created="2026-07-01T09:00:00Z",
        last_updated=updated,
        items=(AmazonItem("OI-1", "SKU-1", 2), AmazonItem("OI-2", "SKU-2", 1)),
        address=ADDRESS if address and status not in ("PENDING", "PENDING_AVAILABILITY") else None,
    )


def stored(status: OrderStatus = OrderStatus.OPEN, **kw: Any) -> OrderSnapshot:
    values: dict[str, Any] = {
        "amazon_order_id": ORDER_ID,
        "marketplace_id": "ATVPDKIKX0DER",
        "channel": "FBM",
        "status": status,
        "amazon_status": "UNSHIPPED",
        "amazon_last_updated": "2026-07-01T10:00:00Z",
        "lines": (OrderLine("OI-1", "SKU-1", 2), OrderLine("OI-2", "SKU-2", 1)),
        "has_address": True,
    }
    values.update(kw)
    return OrderSnapshot(**values)


# --- statuses and holds ---


def test_statuses_and_holds_are_stored_as_the_same_strings() -> None:
    assert [str(s) for s in WMS_STATUSES] == [
        "pending", "open", "partially_shipped", "shipped", "shipped_externally", "cancelled", "unfulfillable",
    ]  # fmt: skip
    assert [str(h) for h in HOLDS] == ["payment_hold", "unknown_sku", "buyer_requested_cancellation"]
    assert OrderStatus("shipped") is OrderStatus.SHIPPED and Hold("payment_hold") is Hold.PAYMENT
    assert sorted(CLOSED_STATUSES) == ["cancelled", "shipped", "shipped_externally"]


def test_every_hold_has_its_rule() -> None:
    assert set(HOLD_RULES) == set(Hold)
    assert automation_blocked([Hold.PAYMENT]) and not automation_blocked([Hold.UNKNOWN_SKU])
    assert not automation_blocked([])


def test_buyer_data_expires_30_days_after_the_close() -> None:
    closed = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert buyer_data_expiry(closed) == closed + timedelta(days=30)


# --- import of a new order ---


def test_import_a_released_fbm_order_opens_and_allocates() -> None:
    d = import_new(incoming(), ImportRules())
    assert (d.action, d.status, d.holds, d.allocate, d.store_address) == (CREATE, "open", (), True, True)
    assert not (d.closes or d.ships or d.remove_stock or d.release_allocation or d.automation_blocked)
    assert not d.expire_buyer_data


@pytest.mark.parametrize(
    ("amazon", "status", "closes"),
    [("PENDING", "pending", False), ("UNSHIPPED", "open", False), ("SHIPPED", "shipped", True),
     ("UNFULFILLABLE", "unfulfillable", False)],
)  # fmt: skip
def test_import_an_fba_order_whatever_its_status_takes_no_stock(
    amazon: str, status: str, closes: bool
) -> None:
    d = import_new(incoming(amazon, channel="FBA"), ImportRules())
    assert (d.action, d.status, d.closes, d.ships) == (CREATE, status, closes, closes)
    assert not (d.allocate or d.remove_stock or d.release_allocation)


def test_import_a_pending_order_only_with_the_setting_and_with_a_payment_hold() -> None:
    assert import_new(incoming("PENDING"), ImportRules()).action == IGNORE
    d = import_new(incoming("PENDING"), ImportRules(import_pending=True))
    assert (d.action, d.status, d.holds, d.automation_blocked, d.allocate) == (
        CREATE, "pending", (Hold.PAYMENT,), True, True,
    )  # fmt: skip
    assert not d.store_address  # Amazon gives no address before release


@pytest.mark.parametrize("remove", [False, True])
def test_import_a_first_seen_shipped_order_closes_as_shipped_externally(remove: bool) -> None:
    d = import_new(incoming("SHIPPED"), ImportRules(remove_stock_for_external=remove))
    assert (d.action, d.status, d.closes, d.ships) == (CREATE, "shipped_externally", True, True)
    assert d.store_address and d.expire_buyer_data  # the address arrives with its expiry
    assert (d.allocate, d.remove_stock, d.release_allocation) == (False, remove, False)


def test_import_never_creates_a_first_seen_cancelled_or_unfulfillable_fbm_order() -> None:
    assert import_new(incoming("CANCELLED"), ImportRules()).action == IGNORE
    assert import_new(incoming("CANCELLED", channel="FBA"), ImportRules()).action == IGNORE
    assert import_new(incoming("UNFULFILLABLE"), ImportRules()).action == IGNORE
    assert import_new(incoming(), ImportRules(download_orders=False)).action == IGNORE


def test_import_with_an_unknown_sku_adds_its_hold_without_blocking_automation() -> None:
    d = import_new(incoming(), ImportRules(), ["SKU-2", "SKU-2"])
    assert (d.holds, d.unknown_skus, d.automation_blocked) == ((Hold.UNKNOWN_SKU,), ("SKU-2",), False)
    pending = import_new(incoming("PENDING"), ImportRules(import_pending=True), ["SKU-2"])
    assert pending.holds == (Hold.PAYMENT, Hold.UNKNOWN_SKU) and pending.automation_blocked


# --- Amazon's changes of a stored order ---


def test_release_lifts_only_the_holds_that_wait_for_it() -> None:
    assert release((Hold.PAYMENT, Hold.UNKNOWN_SKU)) == (Hold.UNKNOWN_SKU,)
    assert release(()) == ()
    d = follow_amazon(
        stored(OrderStatus.PENDING, amazon_status="PENDING", holds=(Hold.PAYMENT,), has_address=False),
        incoming(updated="2026-07-01T11:00:00Z"),
        ImportRules(),
    )
    assert (d.action, d.status, d.holds, d.automation_blocked, d.store_address) == (
        UPDATE,
        "open",
        (),
        False,
        True,
    )
    assert not (d.closes or d.release_allocation or d.remove_stock)


def test_cancel_closes_and_gives_a_merchant_orders_allocation_back() -> None:
    assert cancel(stored()) == Move(OrderStatus.CANCELLED, closes=True, release_allocation=True)
    assert cancel(stored(channel="FBA")) == Move(OrderStatus.CANCELLED, closes=True)
    assert cancel(stored(OrderStatus.PENDING)).closes
    for closed in CLOSED_STATUSES:
        assert cancel(stored(closed)) == Move(closed)  # a closed order stays as it is


def test_ship_outside_the_wms_with_and_without_removing_stock() -> None:
    released = ship_outside(stored(), remove_stock=False)
    assert released == Move(OrderStatus.SHIPPED_EXTERNALLY, closes=True, ships=True, release_allocation=True)
    removed = ship_outside(stored(OrderStatus.PARTIALLY_SHIPPED), remove_stock=True)
    assert removed == Move(OrderStatus.SHIPPED_EXTERNALLY, closes=True, ships=True, remove_stock=True)
    # the units leave on hand once only
    assert not ship_outside(stored(stock_removed_externally=True), remove_stock=True).remove_stock
    assert ship_outside(stored(OrderStatus.CANCELLED), remove_stock=True) == Move(OrderStatus.CANCELLED)


def test_follow_status_never_goes_back_to_pending_and_moves_no_stock() -> None:
    assert follow_status(stored(), OrderStatus.PENDING) == Move(OrderStatus.OPEN)
    assert follow_status(stored(OrderStatus.PENDING), OrderStatus.OPEN) == Move(OrderStatus.OPEN)
    assert follow_status(stored(), OrderStatus.PARTIALLY_SHIPPED) == Move(OrderStatus.PARTIALLY_SHIPPED)
    assert follow_status(stored(), OrderStatus.UNFULFILLABLE) == Move(OrderStatus.UNFULFILLABLE)
    shipped = follow_status(stored(channel="FBA"), OrderStatus.SHIPPED)  # FBA: Amazon shipped it
    assert shipped == Move(OrderStatus.SHIPPED, closes=True, ships=True)
    assert follow_status(stored(OrderStatus.SHIPPED), OrderStatus.OPEN) == Move(OrderStatus.SHIPPED)


def test_amazon_move_picks_the_transition_from_amazons_status() -> None:
    rules = ImportRules(remove_stock_for_external=True)
    assert amazon_move(stored(), "CANCELLED", rules) == cancel(stored())
    assert amazon_move(stored(), "SHIPPED", rules) == ship_outside(stored(), remove_stock=True)
    with_shipment = stored(OrderStatus.PARTIALLY_SHIPPED, has_wms_shipment=True)
    assert amazon_move(with_shipment, "SHIPPED", rules) == Move(OrderStatus.SHIPPED, closes=True, ships=True)
    fba = stored(channel="FBA")
    assert amazon_move(fba, "SHIPPED", rules) == Move(OrderStatus.SHIPPED, closes=True, ships=True)
    assert amazon_move(stored(), "PENDING", rules) == Move(OrderStatus.OPEN)


def test_a_closed_order_keeps_its_status_but_takes_a_late_address() -> None:
    later = incoming("SHIPPED", updated="2026-07-02T00:00:00Z")
    cancelled = stored(OrderStatus.CANCELLED, amazon_status="CANCELLED", has_address=False)
    d = follow_amazon(cancelled, later, ImportRules())
    assert (d.action, d.reason, d.status, d.store_address, d.closes) == (
        UPDATE, "closed order", "cancelled", True, False,
    )  # fmt: skip
    assert d.expire_buyer_data  # a closed order's late address arrives with its expiry
    same = replace(
        cancelled, amazon_status="SHIPPED", amazon_last_updated=later.last_updated, has_address=True
    )
    assert follow_amazon(same, later, ImportRules()).action == IGNORE


def test_closing_on_amazon_starts_the_buyer_datas_expiry_once() -> None:
    later = incoming("CANCELLED", updated="2026-07-02T00:00:00Z")
    d = follow_amazon(stored(), later, ImportRules())
    assert (d.status, d.closes, d.ships, d.expire_buyer_data, d.store_address) == (
        "cancelled", True, False, True, False,
    )  # fmt: skip
    again = follow_amazon(stored(OrderStatus.CANCELLED, amazon_status="CANCELLED"), later, ImportRules())
    assert again.action == UPDATE and not (again.closes or again.expire_buyer_data)


def test_an_older_amazon_update_is_ignored() -> None:
    newer = stored(amazon_last_updated="2026-07-05T00:00:00Z")
    assert follow_amazon(newer, incoming("CANCELLED"), ImportRules()).action == IGNORE


# --- the SKUs an order waited for became known ---


def test_skus_known_lifts_the_hold_and_allocates_the_lines_that_waited() -> None:
    held = stored(holds=(Hold.UNKNOWN_SKU,))
    d = skus_known(held, ["SKU-2"], [])
    assert (d.action, d.status, d.holds, d.allocate, d.allocate_skus) == (
        UPDATE, "open", (), True, ("SKU-2",),
    )  # fmt: skip
    assert not (d.closes or d.ships or d.release_allocation or d.remove_stock or d.store_address)
    pending = stored(OrderStatus.PENDING, amazon_status="PENDING", holds=(Hold.PAYMENT, Hold.UNKNOWN_SKU))
    d = skus_known(pending, ["SKU-2"], [])
    assert (d.status, d.holds, d.automation_blocked, d.allocate) == ("pending", (Hold.PAYMENT,), True, True)


def test_skus_known_keeps_the_hold_while_one_is_unknown_and_narrows_the_list() -> None:
    held = stored(holds=(Hold.UNKNOWN_SKU,))
    same = skus_known(held, ["SKU-1", "SKU-2"], ["SKU-2", "SKU-1"])
    assert (same.action, same.holds, same.allocate) == (IGNORE, (Hold.UNKNOWN_SKU,), False)
    narrowed = skus_known(held, ["SKU-1", "SKU-2"], ["SKU-2"])
    assert (narrowed.action, narrowed.holds, narrowed.unknown_skus, narrowed.allocate) == (
        UPDATE, (Hold.UNKNOWN_SKU,), ("SKU-2",), False,
    )  # fmt: skip


def test_skus_known_on_a_closed_fba_or_unheld_order_allocates_nothing() -> None:
    cancelled = stored(OrderStatus.CANCELLED, amazon_status="CANCELLED", holds=(Hold.UNKNOWN_SKU,))
    d = skus_known(cancelled, ["SKU-2"], ["SKU-2"])  # even still unknown: nothing waits for it any more
    assert (d.action, d.status, d.holds, d.allocate, d.closes) == (UPDATE, "cancelled", (), False, False)
    fba = skus_known(stored(channel="FBA", holds=(Hold.UNKNOWN_SKU,)), ["SKU-2"], [])
    assert (fba.action, fba.holds, fba.allocate) == (UPDATE, (), False)
    assert skus_known(stored(), ["SKU-2"], []).action == IGNORE
    # an order stored before the SKUs it waited for were recorded: every line is planned (the writer
    # allocates only what a line does not hold yet)
    legacy = skus_known(stored(holds=(Hold.UNKNOWN_SKU,)), [], [])
    assert legacy.allocate_skus == ("SKU-1", "SKU-2")


# --- shipment in the WMS ---


def test_ship_in_wms_partially_then_fully() -> None:
    order = stored()
    assert ship_in_wms(order, {"OI-1": 0, "OI-2": 0}) == Move(OrderStatus.OPEN)
    assert ship_in_wms(order, {"OI-1": 1, "OI-2": 0}) == Move(OrderStatus.PARTIALLY_SHIPPED)
    partial = stored(
        OrderStatus.PARTIALLY_SHIPPED, lines=(OrderLine("OI-1", "SKU-1", 2, 1), OrderLine("OI-2", "SKU-2", 1))
    )
    assert ship_in_wms(partial, {"OI-1": 1}) == Move(OrderStatus.PARTIALLY_SHIPPED)  # what is known stays
    full = ship_in_wms(partial, {"OI-1": 2, "OI-2": 1})
    assert full == Move(OrderStatus.SHIPPED, closes=True, ships=True)


def test_ship_in_wms_leaves_a_closed_order_as_it_is() -> None:
    for closed in CLOSED_STATUSES:
        assert ship_in_wms(stored(closed), {"OI-1": 2, "OI-2": 1}) == Move(closed)


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (stored(channel="FBA"), "fba_order"),
        (stored(OrderStatus.CANCELLED), "order_cancelled"),
        (stored(OrderStatus.PENDING, holds=(Hold.PAYMENT,)), "order_on_hold"),
        (stored(OrderStatus.PENDING), "order_on_hold"),
        (stored(holds=(Hold.PAYMENT,)), "order_on_hold"),
        (stored(OrderStatus.SHIPPED), "order_shipped"),
        (stored(OrderStatus.SHIPPED_EXTERNALLY), "order_shipped"),
    ],
)
def test_shipping_refusal_names_why(order: OrderSnapshot, code: str) -> None:
    refusal = shipping_refusal(order)
    assert refusal is not None and refusal[0] == code and ORDER_ID in refusal[1]


def test_an_open_order_may_ship_even_with_an_unknown_sku() -> None:
    assert shipping_refusal(stored()) is None
    assert shipping_refusal(stored(OrderStatus.PARTIALLY_SHIPPED, holds=(Hold.UNKNOWN_SKU,))) is None
    on_hold = shipping_refusal(stored(OrderStatus.PENDING))
    assert (
        on_hold is not None
        and on_hold[1] == f"order {ORDER_ID} is pending on Amazon (payment hold): it cannot ship yet"
    )
