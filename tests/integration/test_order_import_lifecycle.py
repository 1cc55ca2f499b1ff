"""Order import against the simulator + moto, through the real OrderImportFunction handler: the order lifecycle
(pending, released, cancelled, shipped outside the WMS, FBA), holds, backorder and the sync log."""

from __future__ import annotations

import order_import_support as support
import pytest
from storesync.dal.order_queries import get_address


def test_pending_then_released_lifts_the_hold_and_fills_the_address(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 10, import_pending_orders=True)
    order_id = support.new_order(h.sim, {fbm[0]: 2}, status="PENDING")
    h.advance()
    h.poll(store)

    order = support.stored(store, order_id)
    assert (order.status, order.amazon_status, order.channel) == ("pending", "PENDING", "FBM")
    assert order.holds == ["payment_hold"] and order.automation_blocked and not order.has_address
    assert support.level(support.MERCHANT, fbm[0]) == (10, 2)  # allocated while pending (B7)

    support.admin(h.sim, "POST", f"orders/{order_id}/release")
    _, answer = h.deliver_notifications()  # near-real-time path
    assert answer == {"batchItemFailures": []}
    order = support.stored(store, order_id)
    assert (order.status, order.holds, order.automation_blocked, order.has_address) == (
        "open",
        [],
        False,
        True,
    )
    address = support.decrypt_address(h, store, order_id)
    assert address == support.admin(h.sim, "GET", f"orders/{order_id}")["address"]
    assert support.level(support.MERCHANT, fbm[0]) == (10, 2)  # the release allocates nothing more

    h.advance()
    h.poll(store)  # the polling backstop sees the same change: nothing moves
    assert support.level(support.MERCHANT, fbm[0]) == (10, 2)
    assert support.stored(store, order_id).version == order.version


def test_pending_orders_wait_for_release_without_the_setting(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[0]: 1}, status="PENDING")
    h.advance()
    h.poll(store)
    h.deliver_notifications()
    assert support.orders_of(store) == [] and support.level(support.MERCHANT, fbm[0]) == (5, 0)
    support.admin(h.sim, "POST", f"orders/{order_id}/release")
    h.advance()
    h.poll(store)
    order = support.stored(store, order_id)
    assert (order.status, order.holds, order.has_address) == ("open", [], True)
    assert support.level(support.MERCHANT, fbm[0]) == (5, 1)


def test_pending_then_cancelled_releases_the_allocation(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 4, import_pending_orders=True)
    order_id = support.new_order(h.sim, {fbm[0]: 3}, status="PENDING")
    h.deliver_notifications()
    assert support.level(support.MERCHANT, fbm[0]) == (4, 3)
    support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
    h.deliver_notifications()
    order = support.stored(store, order_id)
    assert order.status == "cancelled" and all(not i.allocations for i in order.items)
    assert support.level(support.MERCHANT, fbm[0]) == (4, 0)
    h.advance()
    h.poll(store)  # the poll sees the cancellation too: released once only
    assert support.level(support.MERCHANT, fbm[0]) == (4, 0)


def test_fba_orders_take_no_stock(h: support.OrderImportHarness):
    _, fba = support.sim_skus(h.sim)
    store = support.store_of(h)
    support.stock(support.MERCHANT, fba[0], 7)
    order_id = support.new_order(h.sim, {fba[0]: 2}, fulfilled_by="AMAZON")
    h.advance()
    h.poll(store)
    order = support.stored(store, order_id)
    assert (order.channel, order.status) == ("FBA", "open")
    assert support.level(support.MERCHANT, fba[0]) == (7, 0)
    support.admin(h.sim, "POST", f"orders/{order_id}/ship")  # Amazon ships it
    h.deliver_notifications()
    assert support.stored(store, order_id).status == "shipped" and support.level(
        support.MERCHANT, fba[0]
    ) == (7, 0)


@pytest.mark.parametrize("remove", [True, False])
def test_shipped_outside_the_wms(h: support.OrderImportHarness, remove: bool):
    store, fbm = support.stocked_store(h, 10, remove_stock_for_external_fulfillments=remove)
    order_id = support.new_order(h.sim, {fbm[0]: 2})
    h.deliver_notifications()
    assert support.level(support.MERCHANT, fbm[0]) == (10, 2)

    support.admin(h.sim, "POST", f"orders/{order_id}/ship")
    bodies, _ = h.deliver_notifications()
    h.handler(h.notification_event(bodies), h.context)  # the same notifications again (SQS redelivery)
    h.advance()
    h.poll(store)  # and the poll sees it too
    h.poll(store, mode="catchup")

    order = support.stored(store, order_id)
    assert order.status == "shipped_externally" and order.stock_removed_externally is remove
    assert support.level(support.MERCHANT, fbm[0]) == (
        (8, 0) if remove else (10, 0)
    )  # removed once, or only released
    assert order.shipped_at is not None
    address = get_address(store.store_id, order_id)  # buyer data leaves 30 days after shipment (TTL)
    assert address is not None and address.expires_at is not None
    assert abs((address.expires_at - order.shipped_at).total_seconds() - 30 * 86400) < 120


def test_first_seen_shipped_order_is_shipped_externally(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 3, remove_stock_for_external_fulfillments=True)
    order_id = support.new_order(h.sim, {fbm[0]: 2})
    support.admin(h.sim, "POST", f"orders/{order_id}/ship")
    h.drain("OrderNotificationsQueue")  # notifications lost: the poll is the backstop
    h.advance()
    h.poll(store)
    assert support.stored(store, order_id).status == "shipped_externally"
    assert support.level(support.MERCHANT, fbm[0]) == (1, 0)


def test_downloads_off_creates_nothing_new_but_changes_flow(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 10)
    kept = support.new_order(h.sim, {fbm[0]: 2})
    shipped = support.new_order(h.sim, {fbm[0]: 1})
    h.deliver_notifications()
    assert support.level(support.MERCHANT, fbm[0]) == (10, 3)

    store.update(actions=[store.__class__.settings.download_products_and_orders.set(False)])
    store.update(actions=[store.__class__.settings.remove_stock_for_external_fulfillments.set(True)])
    fresh = support.new_order(h.sim, {fbm[0]: 1})
    support.admin(h.sim, "POST", f"orders/{kept}/cancel")
    support.admin(h.sim, "POST", f"orders/{shipped}/ship")
    h.deliver_notifications()
    h.advance()
    h.poll(store)

    assert {o.amazon_order_id for o in support.orders_of(store)} == {kept, shipped}  # `fresh` was not created
    assert fresh not in {o.amazon_order_id for o in support.orders_of(store)}
    assert support.stored(store, kept).status == "cancelled"
    assert support.stored(store, shipped).status == "shipped_externally"
    assert support.level(support.MERCHANT, fbm[0]) == (9, 0)


def test_unknown_sku_gets_a_hold_and_shows_in_the_sync_log(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[0]: 1, fbm[1]: 2})  # fbm[1] is unknown to the WMS
    h.advance()
    h.poll(store)
    order = support.stored(store, order_id)
    assert order.holds == ["unknown_sku"] and order.status == "open"
    lines = {i.sku: i for i in order.items}
    assert lines[fbm[1]].backorder == 2 and not lines[fbm[1]].allocations
    assert support.level(support.MERCHANT, fbm[0]) == (5, 1)
    errors = [e.message for run in h.runs(store) for e in run.errors]
    assert any(order_id in e and fbm[1] in e and "unknown_sku" in e for e in errors)


def test_demand_beyond_stock_is_backorder_and_available_never_negative(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 1)
    first = support.new_order(h.sim, {fbm[0]: 3})
    second = support.new_order(h.sim, {fbm[0]: 1})
    h.advance()
    h.poll(store)
    assert [i.backorder for i in support.stored(store, first).items] == [2]
    assert [i.backorder for i in support.stored(store, second).items] == [1]
    assert support.level(support.MERCHANT, fbm[0]) == (1, 1)
    run = h.runs(store)[-1]
    assert run.result == "ok" and run.counts["units_backordered"] == 3


def test_a_revoked_grant_moves_the_store_to_needs_reauthorization(h: support.OrderImportHarness):
    store = support.store_of(h)
    support.admin(h.sim, "POST", f"grants/{store.selling_partner_id}/revoke")
    h.poll(store)
    store.refresh()
    assert store.status == "needs_reauthorization"
