"""The backfill of Orders v2026's fulfilment fields through the catch-up (issue 16), on moto with the simulator and
the real OrderImportFunction: open merchant orders stored before storesync kept the fields count as differing in
the reconciliation, are fetched with getOrder and stored with them (no stock moved, no event: nothing happened to
the order); a closed order without them, and orders stored with them, are not fetched."""

from __future__ import annotations

import json

import order_import_support as support
from storesync.dal.orders import ORDER_FIELDS_VERSION, Order
from storesync_local.template import LOCAL_EVENTS_QUEUE


def as_stored_before_the_fields(order: Order) -> None:
    """What an order written before the v2026 fulfilment fields holds: none of them, and no marker."""
    order.update(
        actions=[
            Order.fulfilment_fields.remove(),
            Order.ship_by.remove(),
            Order.ship_by_start.remove(),
            Order.deliver_by.remove(),
            Order.deliver_by_start.remove(),
            Order.service_level.remove(),
            Order.programs.remove(),
        ]
    )


def test_the_catchup_fetches_open_merchant_orders_stored_without_the_fields(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 100)
    ids = [support.new_order(h.sim, {fbm[0]: 1}) for _ in range(4)]
    h.drain("OrderNotificationsQueue")
    h.advance()
    h.poll(store)
    held = {o.amazon_order_id: o for o in support.orders_of(store)}
    assert set(held) == set(ids)
    assert all(o.fulfilment_fields == ORDER_FIELDS_VERSION for o in held.values())
    support.admin(h.sim, "POST", f"orders/{ids[3]}/ship")
    h.drain("OrderNotificationsQueue")
    h.advance()
    h.poll(store)  # the shipped one is closed in storesync now
    assert support.stored(store, ids[3]).status == "shipped_externally"
    old = [ids[0], ids[1], ids[3]]  # two open ones and the closed one, as stored before the fields
    for order_id in old:
        as_stored_before_the_fields(support.stored(store, order_id))
    level = support.level(support.MERCHANT, fbm[0])
    versions = {i: support.stored(store, i).version for i in ids}
    h.drain(LOCAL_EVENTS_QUEUE)
    h.advance()
    support.admin(h.sim, "POST", "stats/reset")

    h.catch_up(store)

    used = dict(support.admin(h.sim, "GET", "stats")["calls"])
    assert used.get("getOrder") == 2 and "searchOrders" not in used  # the two open ones only
    for order_id in ids[:2]:
        order = support.stored(store, order_id)
        assert order.fulfilment_fields == ORDER_FIELDS_VERSION, order_id
        assert order.version == versions[order_id] + 1
    assert support.stored(store, ids[2]).version == versions[ids[2]]  # stored with the fields: untouched
    closed = support.stored(store, ids[3])
    assert closed.fulfilment_fields is None and closed.version == versions[ids[3]]  # closed: left alone
    assert support.level(support.MERCHANT, fbm[0]) == level  # no stock moved
    told = [json.loads(b) for b in h.drain(LOCAL_EVENTS_QUEUE)]
    assert [e for e in told if e["detail"].get("amazonOrderId") in ids] == []  # nothing happened to them

    support.admin(h.sim, "POST", "stats/reset")
    h.advance()
    h.catch_up(store)  # backfilled: not fetched again
    assert "getOrder" not in dict(support.admin(h.sim, "GET", "stats")["calls"])
