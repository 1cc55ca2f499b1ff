"""Shipment rules: request parsing, what can ship, package reference ids, the order status after confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from storesync.domain.carriers import CarrierChoice
from storesync.domain.orders import Hold, OrderLine, OrderSnapshot, OrderStatus, ship_in_wms
from storesync.domain.shipments import (
    ShipmentProblem,
    confirmed_quantities,
    is_package_reference_id,
    next_package_reference_id,
    parse_shipment_request,
    plan_shipment,
    retry_delay,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
US = "ATVPDKIKX0DER"


def order(channel: str = "FBM", status: str = "open", holds: tuple[str, ...] = ()) -> OrderSnapshot:
    return snapshot(
        channel,
        status,
        holds,
        (OrderLine("OI-1", "SKU-A", 3), OrderLine("OI-2", "SKU-B", 1), OrderLine("OI-3", "SKU-A", 2)),
        "111-0000001-0000001",
    )


def snapshot(
    channel: str,
    status: str,
    holds: tuple[str, ...],
    lines: tuple[OrderLine, ...],
    amazon_order_id: str = "o",
) -> OrderSnapshot:
    return OrderSnapshot(
        amazon_order_id=amazon_order_id,
        marketplace_id=US,
        channel=channel,
        status=OrderStatus(status),
        amazon_status="UNSHIPPED",
        amazon_last_updated="2026-11-28T09:00:00Z",
        holds=tuple(Hold(h) for h in holds),
        lines=lines,
    )


def body(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "carrier": "UPS",
        "shipping_method": "Ground",
        "tracking_number": "1Z999",
        "ship_date": "2026-11-28T10:00:00Z",
        "items": [{"order_item_id": "OI-1", "quantity": 2}],
    }
    base.update(over)
    return base


def problem(fn, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(ShipmentProblem) as info:
        fn(*args)
    return info.value


def test_a_partial_package_takes_what_was_asked() -> None:
    plan = plan_shipment(order(), parse_shipment_request(body(), NOW), {}, [])
    assert plan.package_reference_id == "1"
    assert plan.choice == CarrierChoice("UPS")
    assert [(line.order_item_id, line.sku, line.quantity) for line in plan.lines] == [("OI-1", "SKU-A", 2)]
    assert plan.ship_date == datetime(2026, 11, 28, 10, tzinfo=UTC)


def test_a_sku_spreads_over_the_lines_that_still_have_units() -> None:
    request = parse_shipment_request(body(items=[{"sku": "SKU-A", "quantity": 3}]), NOW)
    plan = plan_shipment(order(), request, {"OI-1": 2}, ["1"])
    assert [(line.order_item_id, line.quantity) for line in plan.lines] == [("OI-1", 1), ("OI-3", 2)]
    assert plan.package_reference_id == "2"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"tracking_number": "  "}, "tracking_number"),
        ({"tracking_number": None}, "tracking_number"),
        ({"carrier": ""}, "carrier"),
        ({"carrier": "other"}, "carrier"),
        ({"items": []}, "items"),
        ({"items": [{"quantity": 1}]}, "items[0]"),
        ({"items": [{"sku": "SKU-A", "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{"sku": "SKU-A", "quantity": "2"}]}, "items[0].quantity"),
        ({"ship_date": "yesterday"}, "ship_date"),
        ({"ship_date": (NOW + timedelta(days=5)).isoformat()}, "ship_date"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_the_field(over: dict[str, object], field: str) -> None:
    def run() -> None:
        plan_shipment(order(), parse_shipment_request(body(**over), NOW), {}, [])

    assert problem(run).field == field


def test_a_missing_ship_date_is_now_and_a_date_alone_is_midnight_utc() -> None:
    assert parse_shipment_request(body(ship_date=None), NOW).ship_date == NOW
    assert parse_shipment_request(body(ship_date="2026-11-27"), NOW).ship_date == datetime(
        2026, 11, 27, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("view", "code"),
    [
        (order(channel="FBA"), "fba_order"),
        (order(status="cancelled"), "order_cancelled"),
        (order(status="pending", holds=("payment_hold",)), "order_on_hold"),
        (order(status="shipped"), "order_shipped"),
        (order(status="shipped_externally"), "order_shipped"),
    ],
)
def test_orders_that_cannot_ship_are_refused_with_409(view: OrderSnapshot, code: str) -> None:
    found = problem(plan_shipment, view, parse_shipment_request(body(), NOW), {}, [])
    assert (found.code, found.status) == (code, 409)
    assert view.amazon_order_id in found.message


def test_unknown_items_are_refused() -> None:
    for items, field, message in (
        (
            [{"order_item_id": "OI-9", "quantity": 1}],
            "items[0].order_item_id",
            "items[0].order_item_id: OI-9 is not an item of order 111-0000001-0000001",
        ),
        (
            [{"sku": "SKU-Z", "quantity": 1}],
            "items[0].sku",
            "items[0].sku: SKU-Z is not in order 111-0000001-0000001",
        ),
        (
            [{"order_item_id": "OI-2", "sku": "SKU-A", "quantity": 1}],
            "items[0].sku",
            "items[0].sku: item OI-2 is SKU-B, not SKU-A",
        ),
    ):
        found = problem(plan_shipment, order(), parse_shipment_request(body(items=items), NOW), {}, [])
        assert (found.code, found.field, found.message) == ("unknown_item", field, message)


def test_more_than_is_left_to_ship_is_refused() -> None:
    # 3 ordered, 2 already in a WMS shipment: 1 left.
    request = parse_shipment_request(body(items=[{"order_item_id": "OI-1", "quantity": 2}]), NOW)
    found = problem(plan_shipment, order(), request, {"OI-1": 2}, ["1"])
    assert found.code == "quantity_exceeds_unshipped"
    assert "only 1 left" in found.message
    # Shipped on Amazon already counts too (confirmed quantity higher than the WMS's shipments).
    shipped = snapshot("FBM", "partially_shipped", (), (OrderLine("OI-1", "SKU-A", 3, 3),))
    assert problem(plan_shipment, shipped, request, {}, []).code == "quantity_exceeds_unshipped"
    # Two lines of one request cannot take the same units twice.
    twice = [{"order_item_id": "OI-2", "quantity": 1}, {"sku": "SKU-B", "quantity": 1}]
    found = problem(plan_shipment, order(), parse_shipment_request(body(items=twice), NOW), {}, [])
    assert found.field == "items[1].quantity"


def test_package_reference_ids_are_positive_numbers_unique_per_order() -> None:
    assert next_package_reference_id([]) == "1"
    assert next_package_reference_id(["1", "3", "2"]) == "4"
    assert next_package_reference_id(["x", "0"]) == "1"
    assert is_package_reference_id("12")
    for bad in ("0", "-1", "1.5", "abc", "", "١"):
        assert not is_package_reference_id(bad)


def test_the_order_follows_the_confirmed_quantities() -> None:
    lines = (OrderLine("OI-1", "A", 3), OrderLine("OI-2", "B", 1))
    assert ship_in_wms(snapshot("FBM", "open", (), lines), {"OI-1": 0, "OI-2": 0}).status == "open"
    assert (
        ship_in_wms(snapshot("FBM", "open", (), lines), {"OI-1": 2, "OI-2": 0}).status == "partially_shipped"
    )
    done = {"OI-1": 3, "OI-2": 1}
    assert ship_in_wms(snapshot("FBM", "partially_shipped", (), lines), done).status == "shipped"


def test_confirmed_quantities_never_count_a_package_twice_or_go_down() -> None:
    current = {"OI-1": 0, "OI-2": 1}
    packages = [{"OI-1": 2}, {"OI-1": 1}]
    assert confirmed_quantities(current, packages) == {"OI-1": 3, "OI-2": 1}
    assert confirmed_quantities({"OI-1": 3, "OI-2": 1}, packages) == {"OI-1": 3, "OI-2": 1}


def test_transient_failures_back_off_up_to_six_hours() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert retry_delay(30) == timedelta(hours=6)
