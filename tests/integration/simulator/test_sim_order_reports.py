"""The order reports (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL / _BY_ORDER_DATE_GENERAL) over HTTP:
Amazon's columns, the orders of the window and only them, no buyer data, processing delay, faults, quotas."""

from __future__ import annotations

import csv
import io
from typing import Any

import requests
from spapi_simulator import Simulator
from spapi_simulator.clock import iso
from spapi_simulator.generator import delivery_address
from spapi_simulator.order_reports import BY_LAST_UPDATE, BY_ORDER_DATE, COLUMNS
from spapi_simulator.schemas import validate_response
from spapi_simulator.testing import Authorized, admin, authorize, fault_mode

MODEL = "reports_2021-06-30.json"
US = "ATVPDKIKX0DER"
SELLER = "A1NASELLER0001"
REPORTS = "/reports/2021-06-30/reports"


def create(
    sim: Simulator, auth: Authorized, report_type: str = BY_LAST_UPDATE, **body: Any
) -> requests.Response:
    spec = {"reportType": report_type, "marketplaceIds": [US], **body}
    return requests.post(sim.url + REPORTS, json=spec, headers=auth.headers, timeout=10)


def get_report(sim: Simulator, auth: Authorized, report_id: str) -> dict[str, Any]:
    answer = requests.get(f"{sim.url}{REPORTS}/{report_id}", headers=auth.headers, timeout=10)
    assert answer.status_code == 200, answer.text
    validate_response(MODEL, "getReport", 200, answer.json())
    return dict(answer.json())


def document_text(sim: Simulator, auth: Authorized, document_id: str) -> str:
    meta = requests.get(
        f"{sim.url}/reports/2021-06-30/documents/{document_id}", headers=auth.headers, timeout=10
    )
    assert meta.status_code == 200, meta.text
    validate_response(MODEL, "getReportDocument", 200, meta.json())
    return requests.get(meta.json()["url"], timeout=30).content.decode("utf-8")


def report_text(sim: Simulator, auth: Authorized, report_type: str = BY_LAST_UPDATE, **body: Any) -> str:
    created = create(sim, auth, report_type, **body)
    assert created.status_code == 202, created.text
    validate_response(MODEL, "createReport", 202, created.json())
    report = get_report(sim, auth, created.json()["reportId"])
    assert report["processingStatus"] == "DONE"
    return document_text(sim, auth, report["reportDocumentId"])


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def world_orders(sim: Simulator) -> list[Any]:
    return [o for o in sim.world.orders.by_id.values() if o.seller_id == SELLER and o.marketplace_id == US]


def test_by_last_update_lists_every_item_of_the_orders_updated_in_the_window_with_amazons_columns(
    spapi_sim_factory: Any,
) -> None:
    sim = spapi_sim_factory(report_seconds=0, orders=60)
    auth = authorize(sim)
    now = sim.clock.time()
    since, until = now - 5 * 86400, now - 2 * 86400
    text = report_text(sim, auth, dataStartTime=iso(since), dataEndTime=iso(until))
    assert text.split("\n", 1)[0].split("\t") == list(COLUMNS[BY_LAST_UPDATE])
    reported = rows(text)
    expected = {o.order_id: o for o in world_orders(sim) if since <= o.updated <= until}
    assert expected and 0 < len(expected) < len(world_orders(sim))  # the window holds some orders, not all
    assert {r["amazon-order-id"] for r in reported} == set(expected)
    assert len(reported) == sum(len(o.items) for o in expected.values())  # one row per item
    statuses = {"PENDING": "Pending", "UNSHIPPED": "Unshipped", "PARTIALLY_SHIPPED": "PartiallyShipped",
                "SHIPPED": "Shipped", "CANCELLED": "Cancelled"}  # fmt: skip
    lines = [
        (o, i) for o in sorted(expected.values(), key=lambda o: (o.updated, o.order_id)) for i in o.items
    ]
    for row, (order, item) in zip(reported, lines, strict=True):  # oldest first, items in the order's order
        assert (row["amazon-order-id"], row["sku"]) == (order.order_id, item.sku)
        assert row["order-status"] == statuses[order.status]
        assert row["fulfillment-channel"] == ("Amazon" if order.fulfilled_by == "AMAZON" else "Merchant")
        assert int(row["quantity"]) == item.quantity and row["asin"] == item.asin
        assert row["last-updated-date"] == iso(order.updated).replace("Z", "+00:00")
        assert row["sales-channel"] == "Amazon.com" and row["is-business-order"] == "false"
    for order in expected.values():  # no buyer data: neither the name nor the street nor the phone
        address = delivery_address(order)
        for secret in (address["name"], address["addressLine1"], address["phone"]):
            assert secret and secret not in text
    assert {r["order-status"] for r in reported} >= {"Shipped", "Cancelled"}


def test_by_order_date_selects_by_creation_and_has_the_cpf_column(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(report_seconds=0, orders=60)
    auth = authorize(sim)
    now = sim.clock.time()
    since = now - 4 * 86400
    text = report_text(sim, auth, BY_ORDER_DATE, dataStartTime=iso(since))
    assert (
        text.split("\n", 1)[0].split("\t") == list(COLUMNS[BY_ORDER_DATE]) and "cpf" in COLUMNS[BY_ORDER_DATE]
    )
    expected = {o.order_id for o in world_orders(sim) if o.created >= since}
    assert expected and {r["amazon-order-id"] for r in rows(text)} == expected


def test_the_orders_are_those_of_the_window_when_the_report_is_done_and_a_change_shows(
    spapi_sim_factory: Any,
) -> None:
    sim = spapi_sim_factory(report_seconds=60, orders=0)
    auth = authorize(sim)
    fbm = next(x.sku for x in sim.world.catalog.listings(SELLER, US) if not x.is_fba and x.status == "Active")
    body = {
        "seller_id": SELLER,
        "marketplace_id": US,
        "status": "UNSHIPPED",
        "items": [{"sku": fbm, "quantity": 3}],
    }
    first = admin(sim, "POST", "orders", json=body)["order_id"]
    report_id = create(sim, auth).json()["reportId"]
    assert get_report(sim, auth, report_id)["processingStatus"] == "IN_QUEUE"
    admin(sim, "POST", "clock/advance", json={"seconds": 30})
    second = admin(sim, "POST", "orders", json=body)["order_id"]  # after the report's dataEndTime: not in it
    admin(sim, "POST", f"orders/{first}/cancel")  # updated after the window too
    assert get_report(sim, auth, report_id)["processingStatus"] == "IN_PROGRESS"
    admin(sim, "POST", "clock/advance", json={"seconds": 31})
    report = get_report(sim, auth, report_id)
    assert report["processingStatus"] == "DONE"
    reported = rows(document_text(sim, auth, report["reportDocumentId"]))
    assert second not in {r["amazon-order-id"] for r in reported}
    assert first not in {r["amazon-order-id"] for r in reported}  # its last update is past the window now
    fresh = rows(report_text_later(sim, auth))
    assert {r["amazon-order-id"]: r["order-status"] for r in fresh} == {
        first: "Cancelled",
        second: "Unshipped",
    }
    assert [r["item-status"] for r in fresh if r["amazon-order-id"] == first] == ["Cancelled"]


def report_text_later(sim: Simulator, auth: Authorized) -> str:
    report_id = create(sim, auth).json()["reportId"]
    admin(sim, "POST", "clock/advance", json={"seconds": 61})
    report = get_report(sim, auth, report_id)
    return document_text(sim, auth, report["reportDocumentId"])


def test_bad_windows_are_refused_naming_the_field(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    for body, field in (({"dataStartTime": "yesterday"}, "dataStartTime"),
                        ({"dataEndTime": "2026-13-01T00:00:00Z"}, "dataEndTime"),
                        ({"dataStartTime": "2026-07-10T00:00:00Z", "dataEndTime": "2026-07-01T00:00:00Z"},
                         "dataStartTime")):  # fmt: skip
        answer = create(spapi_sim, auth, **body)
        assert answer.status_code == 400, body
        validate_response(MODEL, "createReport", 400, answer.json())
        assert field in answer.json()["errors"][0]["message"]


def test_order_reports_can_end_cancelled_or_fatal_and_share_the_report_quotas(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(report_seconds=0, orders=5, quota_scale=1.0)
    auth = authorize(sim)
    fault_mode(sim, "report_cancelled", 1.0)
    cancelled = get_report(sim, auth, create(sim, auth).json()["reportId"])
    assert cancelled["processingStatus"] == "CANCELLED" and "reportDocumentId" not in cancelled
    fault_mode(sim, "report_cancelled", 0.0)
    fault_mode(sim, "report_fatal", 1.0)
    fatal = get_report(sim, auth, create(sim, auth, BY_ORDER_DATE).json()["reportId"])
    assert fatal["processingStatus"] == "FATAL"
    assert "errorDetails" in document_text(sim, auth, fatal["reportDocumentId"])
    fault_mode(sim, "report_fatal", 0.0)
    answers = [create(sim, auth).status_code for _ in range(14)]  # createReport: burst 15, 2 used above
    assert answers == [202] * 13 + [429]
