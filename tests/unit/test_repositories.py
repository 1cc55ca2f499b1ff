"""The repositories that use cases call instead of pynamodb: building and changing stored orders
(storesync.dal.order_queries) and the writes of the connect flow (storesync.dal.store_queries)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from storesync.dal import order_queries, store_queries
from storesync.dal.stores import OAuthState, Store
from storesync.domain.allocation import LinePlan
from storesync.domain.orders import AmazonItem, AmazonOrder, Hold, OrderDecision, OrderStatus

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


AMAZON_ORDER = AmazonOrder(
    order_id="111-0000001-0000001",
    marketplace_id="ATVPDKIKX0DER",
    status="Unshipped",
    channel="FBM",
    created="2026-03-02T11:00:00Z",
    last_updated="2026-03-02T11:30:00Z",
    items=(AmazonItem("it-1", "MUG", 3, 0, "9.99", "USD"), AmazonItem("it-2", "CAP", 1)),
    ship_by="2026-03-04T00:00:00Z",
)


def amazon_order(**changes: Any) -> AmazonOrder:
    return replace(AMAZON_ORDER, **changes)


class FakeStore:
    store_id = "st_1"
    merchant_id = "m_1"


class RecordingCommit:
    def __init__(self) -> None:
        self.saved: list[Any] = []

    def save(self, model: Any, condition: Any = None) -> None:
        self.saved.append(model)


def test_a_new_order_copies_the_amazon_order_with_nothing_allocated() -> None:
    order = order_queries.new_order(FakeStore(), amazon_order(), NOW)  # type: ignore[arg-type]
    assert (order.store_id, order.amazon_order_id, order.merchant_id) == (
        "st_1",
        "111-0000001-0000001",
        "m_1",
    )
    assert order.purchase_key == "2026-03-02T11:00:00Z#111-0000001-0000001"
    assert order.channel == "FBM" and order.created_at == NOW
    first, second = order.items
    assert (first.order_item_id, first.sku, first.quantity, first.price, first.currency) == (
        "it-1",
        "MUG",
        3,
        "9.99",
        "USD",
    )
    assert (second.price, second.currency, second.quantity_shipped) == (None, None, 0)
    assert all(item.allocations == [] and item.backorder == 0 for item in order.items)


def test_applying_a_decision_never_lowers_units_shipped_nor_forgets_dates() -> None:
    order = order_queries.new_order(FakeStore(), amazon_order(), NOW)  # type: ignore[arg-type]
    order_queries.apply_decision(
        order, amazon_order(), OrderDecision("create", "test", OrderStatus.OPEN), NOW
    )
    order.items[0].quantity_shipped = 2
    later = amazon_order(
        status="PartiallyShipped",
        last_updated="2026-03-02T13:00:00Z",
        items=(AmazonItem("it-1", "MUG", 3, 1), AmazonItem("it-2", "CAP", 1, 1)),
        ship_by=None,
    )
    decision = OrderDecision(
        "update", "test", OrderStatus.OPEN, holds=(Hold.PAYMENT,), automation_blocked=True
    )
    order_queries.apply_decision(order, later, decision, LATER)
    assert (order.status, order.amazon_status, order.amazon_last_updated) == (
        OrderStatus.OPEN,
        "PartiallyShipped",
        "2026-03-02T13:00:00Z",
    )
    assert order.holds == [Hold.PAYMENT] and order.automation_blocked
    assert order.ship_by == "2026-03-04T00:00:00Z"  # Amazon sent none this time: the known one stays
    assert [i.quantity_shipped for i in order.items] == [2, 1]
    assert order.updated_at == LATER and order.shipped_at is None
    order_queries.apply_decision(
        order, later, OrderDecision("update", "test", OrderStatus.SHIPPED, ships=True), LATER
    )
    assert order.shipped_at == LATER


def test_allocations_follow_the_plan_and_are_released_together() -> None:
    order = order_queries.new_order(FakeStore(), amazon_order(), NOW)  # type: ignore[arg-type]
    order_queries.allocate(order, [LinePlan("MUG", [("wh_a", 2), ("wh_b", 1)]), LinePlan("CAP", [], 1)])
    mug, cap = order.items
    assert [(a.warehouse_id, a.quantity) for a in mug.allocations] == [("wh_a", 2), ("wh_b", 1)]
    assert (cap.allocations, cap.backorder) == ([], 1)
    order_queries.release_allocations(order)
    assert all(i.allocations == [] and i.backorder == 0 for i in order.items)
    assert not order.stock_removed_externally
    order_queries.release_allocations(order, removed_externally=True)
    assert order.stock_removed_externally


def test_an_order_item_copy_keeps_the_fields_and_takes_the_changes() -> None:
    order = order_queries.new_order(FakeStore(), amazon_order(), NOW)  # type: ignore[arg-type]
    copy = order_queries.order_item(order.items[0], [("wh_a", 1)], 2, quantity_shipped=3)
    assert (copy.order_item_id, copy.sku, copy.quantity, copy.price, copy.currency) == (
        "it-1",
        "MUG",
        3,
        "9.99",
        "USD",
    )
    assert [(a.warehouse_id, a.quantity) for a in copy.allocations] == [("wh_a", 1)]
    assert (copy.backorder, copy.quantity_shipped) == (2, 3)
    assert order_queries.order_item(order.items[0]).quantity_shipped == 0  # the line's own when not given


def test_the_address_is_written_in_the_orders_commit() -> None:
    order = order_queries.new_order(FakeStore(), amazon_order(), NOW)  # type: ignore[arg-type]
    commit = RecordingCommit()
    order_queries.save_address(commit, order, b"sealed", LATER)  # type: ignore[arg-type]
    (address,) = commit.saved
    assert (address.store_id, address.amazon_order_id, address.merchant_id) == (
        "st_1",
        "111-0000001-0000001",
        "m_1",
    )
    assert address.address_encrypted == b"sealed" and address.expires_at == LATER
    assert order.has_address


def new_store(
    store_id: str,
    download_products_and_orders: bool = True,
    starting_inventory: str = "keep",
    created_at: datetime | None = None,
) -> Store:
    return store_queries.create_store(
        "m_1",
        store_id,
        name="US store",
        marketplace_id="ATVPDKIKX0DER",
        region="NA",
        download_products_and_orders=download_products_and_orders,
        starting_inventory=starting_inventory,
        created_at=created_at or datetime.now(UTC),
    )


def test_a_store_waiting_for_consent_expires_after_24_hours(stack) -> None:
    old = new_store("st_old", created_at=datetime.now(UTC) - timedelta(hours=24, seconds=1))
    young = new_store("st_young", created_at=datetime.now(UTC) - timedelta(hours=23, minutes=59))
    assert old.expires_at == (old.created_at + timedelta(hours=24)).replace(microsecond=0)  # TTL: seconds
    assert store_queries.get_store("m_1", "st_old") is None
    assert store_queries.get_store("m_1", "st_young") is not None
    assert [s.store_id for s in store_queries.merchant_stores("m_1")] == [young.store_id]
    assert store_queries.pending_stores("m_1") == 1


def test_a_consent_state_is_used_once(stack) -> None:
    store = new_store("st_new", download_products_and_orders=False, starting_inventory="match_amazon")
    stored = store_queries.get_store("m_1", "st_new")
    assert stored is not None and stored.status == store_queries.STATUS_PENDING
    assert (
        not stored.settings.download_products_and_orders
        and store.settings.starting_inventory == "match_amazon"
    )
    expires = datetime.now(UTC) + timedelta(minutes=10)
    store_queries.save_consent_state(
        "nonce-1",
        merchant_id="m_1",
        store_id="st_new",
        redirect_uri="https://x/cb",
        browser_digest="d" * 64,
        expires_at=expires,
    )
    state = store_queries.consume_consent_state("nonce-1")
    assert isinstance(state, OAuthState)
    assert (state.merchant_id, state.store_id, state.redirect_uri) == ("m_1", "st_new", "https://x/cb")
    assert state.browser_digest == "d" * 64
    assert store_queries.consume_consent_state("nonce-1") is None
    assert store_queries.consume_consent_state("never-issued") is None


def test_authorize_subscribe_and_disconnect(stack) -> None:
    store = new_store("st_auth")
    store_queries.set_status_reason(store, "wrong marketplace")
    store_queries.authorize(
        store, selling_partner_id="A1", seller_key="A1#NA", refresh_token_encrypted=b"tok"
    )
    stored = store_queries.get_store("m_1", "st_auth")
    assert stored is not None
    assert (stored.status, stored.status_reason, stored.seller_key) == ("active", None, "A1#NA")
    assert [s.store_id for s in store_queries.stores_of_seller("A1", "NA")] == ["st_auth"]
    assert stored.expires_at is None  # authorized: never expires
    assert store_queries.seller_authorization("A1#NA#ATVPDKIKX0DER").claimed_by_store == "st_auth"
    other = new_store("st_other")
    with pytest.raises(store_queries.SellerTaken) as taken:
        store_queries.authorize(
            other, selling_partner_id="A1", seller_key="A1#NA", refresh_token_encrypted=b"t"
        )
    assert (taken.value.merchant_id, taken.value.store_id) == ("m_1", "st_auth")
    unchanged = store_queries.get_store("m_1", "st_other")
    assert (
        unchanged is not None and unchanged.status == "pending_authorization" and unchanged.seller_key is None
    )

    fresh = store_queries.seller_authorization("A1#NA")
    assert fresh.subscription_id is None
    store_queries.save_subscription(fresh, destination_id="d-1", subscription_id="s-1", subscribed_at=NOW)
    assert store_queries.seller_authorization("A1#NA").subscription_id == "s-1"

    store_queries.disconnect(stored, "Disconnected by the merchant")
    assert store_queries.seller_authorization("A1#NA#ATVPDKIKX0DER").claimed_by_store is None  # released
    assert store_queries.seller_authorization("A1#NA").subscription_id == "s-1"  # the subscription stays
    gone = store_queries.get_store("m_1", "st_auth")
    assert gone is not None
    assert (gone.status, gone.refresh_token_encrypted, gone.seller_key) == ("disconnected", None, None)
    assert store_queries.stores_of_seller("A1", "NA") == []
