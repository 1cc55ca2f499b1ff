"""Orders v2026 fulfilment fields: read from Amazon's JSON (a bad field is an error naming it), the late-shipment
risk, and what the stored order keeps (storesync.dal.order_queries) - plain Python, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from storesync.amazon.orders import INCLUDED_DATA, OrderDataError, parse_amazon_order
from storesync.dal import order_queries
from storesync.dal.orders import Order
from storesync.domain.orders import (
    AT_RISK,
    LATE,
    AssociatedOrder,
    CancellationRequest,
    GiftOption,
    awaiting_shipment,
    late_shipment_risk,
)

NOW = datetime(2026, 7, 2, 12, 0, tzinfo=UTC)


def full_json() -> dict[str, Any]:
    return {
        "orderId": "111-0000001-0000001",
        "createdTime": "2026-07-01T09:00:00Z",
        "lastUpdatedTime": "2026-07-01T10:00:00Z",
        "programs": ["PRIME", "AMAZON_BUSINESS"],
        "associatedOrders": [{"orderId": "111-0000000-0000009", "associationType": "EXCHANGE_ORIGINAL_ID"}],
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
        "buyer": {
            "buyerName": "Ada Buyer",
            "buyerEmail": "x@marketplace.amazon.com",
            "buyerCompanyName": "Acme",
            "buyerPurchaseOrderNumber": "PO-1",
        },
        "fulfillment": {
            "fulfillmentStatus": "UNSHIPPED",
            "fulfilledBy": "MERCHANT",
            "fulfillmentServiceLevel": "SECOND_DAY",
            "shipByWindow": {
                "earliestDateTime": "2026-07-01T12:00:00Z",
                "latestDateTime": "2026-07-03T00:00:00Z",
            },
            "deliverByWindow": {
                "earliestDateTime": "2026-07-04T00:00:00Z",
                "latestDateTime": "2026-07-05T00:00:00Z",
            },
        },
        "orderItems": [
            {
                "orderItemId": "OI1",
                "quantityOrdered": 1,
                "programs": ["TRANSPARENCY"],
                "product": {
                    "sellerSku": "SKU-1",
                    "customization": {"customizedUrl": "https://c.example/1.zip"},
                },
                "cancellation": {
                    "cancellationRequest": {"requester": "BUYER", "cancelReason": "found cheaper"}
                },
                "fulfillment": {
                    "quantityFulfilled": 0,
                    "packing": {"giftOption": {"giftMessage": "Enjoy!", "giftWrapLevel": "PREMIUM"}},
                    "shipping": {
                        "shippingConstraints": {"cashOnDelivery": "MANDATORY", "palletDelivery": "MANDATORY"}
                    },
                },
            },
            {"orderItemId": "OI2", "quantityOrdered": 1, "product": {"sellerSku": "SKU-2"}},
        ],
    }


def test_every_fulfilment_field_is_read():
    order = parse_amazon_order(full_json())
    assert order.programs == ("PRIME", "AMAZON_BUSINESS")
    assert order.service_level == "SECOND_DAY"
    assert (order.ship_by_start, order.ship_by) == ("2026-07-01T12:00:00Z", "2026-07-03T00:00:00Z")
    assert (order.deliver_by_start, order.deliver_by) == ("2026-07-04T00:00:00Z", "2026-07-05T00:00:00Z")
    assert (order.buyer_company, order.buyer_po_number) == ("Acme", "PO-1")
    assert order.associated_orders == (AssociatedOrder("111-0000000-0000009", "EXCHANGE_ORIGINAL_ID"),)
    first, second = order.items
    assert first.programs == ("TRANSPARENCY",) and first.customized_url == "https://c.example/1.zip"
    assert first.gift == GiftOption("Enjoy!", "PREMIUM")
    assert first.shipping_constraints == ("palletDelivery", "cashOnDelivery")  # the model's order
    assert first.cancellation_request == CancellationRequest("BUYER", "found cheaper")
    assert order.buyer_cancellation == CancellationRequest("BUYER", "found cheaper")
    assert order.gift_options == {"OI1": GiftOption("Enjoy!", "PREMIUM")}
    assert second.programs == () and second.gift is None and second.cancellation_request is None
    assert "BUYER" in INCLUDED_DATA and "CANCELLATION" in INCLUDED_DATA


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.update(programs="PRIME"), "programs"),
        (lambda o: o.update(programs=[1]), "programs"),
        (lambda o: o.update(associatedOrders={"orderId": "1"}), "associatedOrders"),
        (lambda o: o["associatedOrders"][0].pop("orderId"), "associatedOrders[0].orderId"),
        (lambda o: o.update(buyer="Acme"), "buyer"),
        (lambda o: o["buyer"].update(buyerPurchaseOrderNumber=17), "buyer.buyerPurchaseOrderNumber"),
        (lambda o: o["fulfillment"].update(fulfillmentServiceLevel=2), "fulfillment.fulfillmentServiceLevel"),
        (
            lambda o: o["fulfillment"]["shipByWindow"].update(latestDateTime="soon"),
            "fulfillment.shipByWindow.latestDateTime",
        ),
        (lambda o: o["orderItems"][0].update(programs="X"), "orderItems[0].programs"),
        (
            lambda o: o["orderItems"][0]["product"].update(customization=[]),
            "orderItems[0].product.customization",
        ),
        (
            lambda o: o["orderItems"][0]["fulfillment"]["packing"]["giftOption"].update(giftMessage=1),
            "orderItems[0].fulfillment.packing.giftOption.giftMessage",
        ),
        (
            lambda o: o["orderItems"][0]["fulfillment"]["shipping"].update(shippingConstraints="all"),
            "orderItems[0].fulfillment.shipping.shippingConstraints",
        ),
        (
            lambda o: o["orderItems"][0]["cancellation"].update(cancellationRequest=True),
            "orderItems[0].cancellation.cancellationRequest",
        ),
    ],
)
def test_a_bad_fulfilment_field_is_an_error_naming_it(mutate, field):
    data = full_json()
    mutate(data)
    with pytest.raises(OrderDataError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_amazon_order(data)


def test_late_shipment_risk():
    ship_by = "2026-07-03T00:00:00Z"  # 12 hours after NOW
    risk = late_shipment_risk("FBM", "open", ship_by, NOW)
    assert risk is not None and risk.level == AT_RISK and "12 h" in risk.message
    assert late_shipment_risk("FBM", "partially_shipped", ship_by, NOW + timedelta(hours=12)).level == LATE  # type: ignore[union-attr]
    assert late_shipment_risk("FBM", "open", ship_by, NOW - timedelta(hours=13)) is None  # 25 h left
    assert late_shipment_risk("FBA", "open", ship_by, NOW) is None  # Amazon ships it
    assert late_shipment_risk("FBM", "pending", ship_by, NOW) is None  # not released: cannot ship yet
    assert late_shipment_risk("FBM", "shipped", ship_by, NOW + timedelta(days=3)) is None
    assert late_shipment_risk("FBM", "open", None, NOW) is None


def test_awaiting_shipment():
    assert awaiting_shipment("FBM", "open") and awaiting_shipment("FBM", "pending")
    assert not awaiting_shipment("FBA", "open") and not awaiting_shipment("FBM", "cancelled")


def stored_order(status: str = "open", channel: str = "FBM") -> Order:
    order = Order("st1", "111-0000001-0000001", merchant_id="m1", channel=channel, status=status)
    order.items = [order_queries.order_item(i) for i in parse_amazon_order(full_json()).items]
    return order


def test_the_stored_order_keeps_the_fields_but_never_the_gift_message_or_buyer_name():
    order = stored_order()
    incoming = parse_amazon_order(full_json())
    order_queries.apply_order_fields(order, incoming)
    order_queries.index_awaiting_shipment(order)
    assert order.programs == ["PRIME", "AMAZON_BUSINESS"] and order.service_level == "SECOND_DAY"
    assert (order.buyer_company, order.buyer_po_number) == ("Acme", "PO-1")
    assert order.associated_orders[0].amazon_order_id == "111-0000000-0000009"
    item = order.items[0]
    assert item.gift is True and item.cancellation_reason == "found cheaper"
    assert item.shipping_constraints == ["palletDelivery", "cashOnDelivery"]
    stored = str(order.serialize(null_check=False))
    assert "Enjoy!" not in stored and "Ada" not in stored and "x@marketplace" not in stored
    assert order.awaiting_merchant == "m1"
    assert order.ship_by_key == "2026-07-03T00:00:00Z#st1#111-0000001-0000001"


def test_a_later_answer_without_windows_or_buyer_keeps_them_and_a_copied_item_keeps_its_fields():
    order = stored_order()
    order_queries.apply_order_fields(order, parse_amazon_order(full_json()))
    bare = full_json()
    bare.pop("buyer")
    bare["fulfillment"].pop("shipByWindow")
    order_queries.apply_order_fields(order, parse_amazon_order(bare))
    assert order.ship_by == "2026-07-03T00:00:00Z" and order.buyer_po_number == "PO-1"
    copy = order_queries.order_item(order.items[0], [("wh", 1)])
    assert copy.programs == ["TRANSPARENCY"] and copy.customized_url == "https://c.example/1.zip"
    assert copy.cancellation_requester == "BUYER" and copy.gift is True


@pytest.mark.parametrize(("status", "channel"), [("shipped", "FBM"), ("cancelled", "FBM"), ("open", "FBA")])
def test_an_order_not_to_ship_leaves_the_awaiting_index(status, channel):
    order = stored_order(status, channel)
    order_queries.apply_order_fields(order, parse_amazon_order(full_json()))
    order_queries.index_awaiting_shipment(order)
    assert order.awaiting_merchant is None and order.ship_by_key is not None


# --- the buyer-requested-cancellation hold (storesync.domain.orders) ---


def _amazon(
    status: str = "UNSHIPPED", request: CancellationRequest | None = None, minute: int = 0, **kw: Any
):
    from storesync.domain.orders import AmazonItem, AmazonOrder

    return AmazonOrder(
        order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        channel=kw.pop("channel", "FBM"),
        created="2026-07-01T09:00:00Z",
        last_updated=f"2026-07-01T10:{minute:02d}:00Z",
        items=(AmazonItem("OI1", "SKU-1", 2, cancellation_request=request),),
        address={"city": "Seattle"},
        **kw,
    )


def _snapshot(status: str = "open", holds: tuple[Any, ...] = (), channel: str = "FBM"):
    from storesync.domain.orders import OrderLine, OrderSnapshot, OrderStatus

    return OrderSnapshot(
        amazon_order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        channel=channel,
        status=OrderStatus(status),
        amazon_status="UNSHIPPED",
        amazon_last_updated="2026-07-01T10:00:00Z",
        holds=holds,
        lines=(OrderLine("OI1", "SKU-1", 2),),
        has_address=True,
    )


BUYER = CancellationRequest("BUYER", "ordered by mistake")


def test_a_buyer_request_puts_an_open_order_on_the_hold_and_keeps_its_stock():
    from storesync.domain.orders import HOLD_RULES, UPDATE, Hold, ImportRules, decide, shipping_refusal

    d = decide(_snapshot(), _amazon(request=BUYER, minute=5), ImportRules())
    assert d.action == UPDATE and d.status == "open" and d.holds == (Hold.BUYER_CANCELLATION,)
    assert d.holds_added == (Hold.BUYER_CANCELLATION,) and d.holds_lifted == ()
    assert d.buyer_cancel_reason == "ordered by mistake"
    assert not d.release_allocation and not d.allocate  # its stock stays allocated
    assert d.automation_blocked
    assert Hold.BUYER_CANCELLATION.value == "buyer_requested_cancellation"
    assert HOLD_RULES[Hold.BUYER_CANCELLATION].blocks_shipping is None  # the merchant may ship it anyway
    assert shipping_refusal(_snapshot(holds=(Hold.BUYER_CANCELLATION,))) is None


def test_the_request_seen_again_adds_no_second_hold_and_a_notification_request_counts():
    from storesync.domain.orders import IGNORE, Hold, ImportRules, decide

    held = _snapshot(holds=(Hold.BUYER_CANCELLATION,))
    d = decide(held, _amazon(request=BUYER), ImportRules())
    assert d.action == IGNORE and d.holds == (Hold.BUYER_CANCELLATION,) and d.holds_added == ()
    told = _amazon(minute=5, buyer_cancel_request=CancellationRequest("BUYER", None))
    assert decide(_snapshot(), told, ImportRules()).holds == (Hold.BUYER_CANCELLATION,)


def test_amazon_cancelling_ends_the_hold_and_releases_the_stock():
    from storesync.domain.orders import Hold, ImportRules, decide

    held = _snapshot(holds=(Hold.PAYMENT, Hold.BUYER_CANCELLATION))
    d = decide(held, _amazon("CANCELLED", request=BUYER, minute=9), ImportRules())
    assert d.status == "cancelled" and d.release_allocation and d.closes
    assert Hold.BUYER_CANCELLATION not in d.holds and d.holds_lifted == (
        Hold.PAYMENT,
        Hold.BUYER_CANCELLATION,
    )


def test_shipped_anyway_ends_the_hold_but_a_partial_shipment_keeps_it():
    from storesync.domain.orders import Hold, OrderStatus, close_holds

    holds = (Hold.UNKNOWN_SKU, Hold.BUYER_CANCELLATION)
    assert close_holds(holds, OrderStatus.SHIPPED) == (Hold.UNKNOWN_SKU,)
    assert close_holds(holds, OrderStatus.SHIPPED_EXTERNALLY) == (Hold.UNKNOWN_SKU,)
    assert close_holds(holds, OrderStatus.PARTIALLY_SHIPPED) == holds


def test_no_hold_for_fba_closed_or_unrequested_orders_and_a_new_order_can_arrive_held():
    from storesync.domain.orders import (
        CREATE,
        Hold,
        ImportRules,
        OrderStatus,
        buyer_requests_cancellation,
        decide,
    )

    assert buyer_requests_cancellation((), "FBA", OrderStatus.OPEN, BUYER) == ()
    assert buyer_requests_cancellation((), "FBM", OrderStatus.CANCELLED, BUYER) == ()
    assert buyer_requests_cancellation((), "FBM", OrderStatus.OPEN, None) == ()
    d = decide(None, _amazon(request=BUYER), ImportRules())
    assert d.action == CREATE and d.allocate and d.holds == (Hold.BUYER_CANCELLATION,)
    assert d.holds_added == (Hold.BUYER_CANCELLATION,)
    assert decide(None, _amazon(request=BUYER, channel="FBA"), ImportRules()).holds == ()


def test_a_buyer_requested_change_notification_reaches_the_upsert_as_a_request():
    from storesync.dal.stores import Store
    from storesync.usecases.order_notifications import OrderChange, OrderChangeBody, OrderChangeHandler
    from storesync.usecases.order_upsert import UpsertResult

    body = OrderChangeBody.model_validate(
        {
            "NotificationType": "ORDER_CHANGE",
            "NotificationMetadata": {"NotificationId": "n1"},
            "Payload": {
                "OrderChangeNotification": {
                    "SellerId": "S",
                    "AmazonOrderId": "111-0000001-0000001",
                    "OrderChangeType": "BuyerRequestedChange",
                    "OrderChangeTrigger": {"ChangeReason": "Buyer Requested Cancel"},
                    "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": "Unshipped"},
                }
            },
        }
    )
    change = body.change()
    assert change.buyer_requested_cancellation and change.change_reason == "Buyer Requested Cancel"
    store = Store("m", "s", name="s", marketplace_id="ATVPDKIKX0DER", region="NA", status="active")
    seen: list[Any] = []

    class Upserter:
        def upsert(self, store: Store, incoming: Any) -> UpsertResult:
            seen.append(incoming)
            return UpsertResult(incoming.order_id, "update", "")

    class Amazon:
        def get_order(self, order_id: str) -> Any:
            return _amazon(minute=5)  # the order read does not show the request yet

    handler = OrderChangeHandler(Upserter(), lambda _s: Amazon(), lambda _c: [store])  # type: ignore[arg-type,return-value]
    handler.handle(change)
    assert seen[0].buyer_cancellation == CancellationRequest("BUYER", "Buyer Requested Cancel")
    status_change = OrderChange("n2", "S", "111-0000001-0000001", "ATVPDKIKX0DER", "Unshipped")
    handler.handle(status_change)
    assert seen[1].buyer_cancellation is None
