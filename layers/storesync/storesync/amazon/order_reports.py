"""Amazon's order reports: request one for a window, follow it, read its flat file into ReportedOrders.

`SpApiOrderReports(session)` asks for GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL (every order and item
changed in [dataStartTime, dataEndTime]; no buyer data), reads its status through getReport (CANCELLED and FATAL
included) and opens its document, all through the seller's quota gate (the Reports API quotas, not
searchOrders'). `read_order_report(stream)` reads the tab-separated flat file (one row per item) into one
ReportedOrder per order. A file it cannot read raises OrderReportUnreadable naming the row and the column (no
header, a column missing, a row cut short, a quantity or a date that is not one): a report that cannot be read
never counts as "no order changed". An order-status the parser does not know gives `status=None` (the order is
then fetched, never taken for unchanged).
"""

from __future__ import annotations

import csv
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TextIO

import httpx

from storesync.amazon.clients import SpApi
from storesync.amazon.errors import AmazonAnswerInvalid
from storesync.amazon.products_amazon import ReportState, open_report_document, report_state, request_report
from storesync.clock import iso, parse_iso
from storesync.domain.orders import CHANNEL_FBA, CHANNEL_FBM
from storesync.domain.reconciliation import ReportedOrder, units_of

BY_LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
REQUIRED_COLUMNS = (
    "amazon-order-id",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sku",
    "quantity",
)
# the report's order-status words -> Amazon's v2026 fulfillment statuses (storesync.domain.orders.AMAZON_STATUSES)
STATUS_WORDS = {
    "pending": "PENDING",
    "pendingavailability": "PENDING_AVAILABILITY",
    "unshipped": "UNSHIPPED",
    "shipping": "UNSHIPPED",  # FBA: Amazon is shipping it (nothing shipped yet)
    "partiallyshipped": "PARTIALLY_SHIPPED",
    "shipped": "SHIPPED",
    "cancelled": "CANCELLED",
    "canceled": "CANCELLED",
    "unfulfillable": "UNFULFILLABLE",
}
CHANNEL_WORDS = {"amazon": CHANNEL_FBA, "afn": CHANNEL_FBA, "merchant": CHANNEL_FBM, "mfn": CHANNEL_FBM}


class OrderReportUnreadable(AmazonAnswerInvalid):
    """The order report's document cannot be read; the message names the row and the column."""


def _status(word: str) -> str | None:
    return STATUS_WORDS.get(word.replace(" ", "").replace("-", "").replace("_", "").lower())


def _optional_time(row: list[str], header: list[str], column: str, where: str) -> str | None:
    """An optional date-time column: None when the report has no such column or leaves it blank."""
    if column not in header or not row[header.index(column)].strip():
        return None
    text = row[header.index(column)].strip()
    try:
        return iso(parse_iso(text))
    except ValueError:
        raise OrderReportUnreadable(f"{where}{column}: {text!r} is not a date-time", field=column) from None


def read_order_report(stream: TextIO) -> list[ReportedOrder]:
    """The flat file -> one ReportedOrder per order (in the order of their first row)."""
    reader = csv.reader(stream, delimiter="\t")
    try:
        header = next(reader)
    except StopIteration:
        raise OrderReportUnreadable(
            "order report: the document is empty (no header row)", field="header"
        ) from None
    except csv.Error as exc:
        raise OrderReportUnreadable(f"order report: header row: {exc}", field="header") from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise OrderReportUnreadable(f"order report: column {missing[0]!r} is missing", field=missing[0])
    at = {name: header.index(name) for name in REQUIRED_COLUMNS}
    orders: dict[str, dict[str, object]] = {}
    lines: dict[str, list[tuple[str, int]]] = {}
    row_number = 1
    try:
        for row in reader:
            row_number += 1
            if not row or row == [""]:
                continue
            where = f"order report: row {row_number}: "
            if len(row) < len(header):
                raise OrderReportUnreadable(
                    f"{where}{len(row)} fields of {len(header)} (cut short)", field="row"
                )
            order_id = row[at["amazon-order-id"]].strip()
            if not order_id:
                raise OrderReportUnreadable(f"{where}amazon-order-id: empty", field="amazon-order-id")
            quantity_text = row[at["quantity"]].strip()
            if not quantity_text.isdigit():
                raise OrderReportUnreadable(
                    f"{where}quantity: {quantity_text!r} is not a number", field="quantity"
                )
            updated_text = row[at["last-updated-date"]].strip()
            try:
                updated = iso(parse_iso(updated_text))
            except ValueError:
                raise OrderReportUnreadable(
                    f"{where}last-updated-date: {updated_text!r} is not a date-time",
                    field="last-updated-date",
                ) from None
            channel = CHANNEL_WORDS.get(row[at["fulfillment-channel"]].strip().lower())
            if channel is None:
                raise OrderReportUnreadable(
                    f"{where}fulfillment-channel: {row[at['fulfillment-channel']]!r} is unknown",
                    field="fulfillment-channel",
                )
            created = _optional_time(row, header, "purchase-date", where)
            raw_status = row[at["order-status"]].strip()
            seen = orders.get(order_id)
            if seen is None or str(seen["last_updated"]) < updated:
                orders[order_id] = {"status": _status(raw_status), "raw": raw_status, "channel": channel,
                                    "last_updated": updated, "created": created}  # fmt: skip
            lines.setdefault(order_id, []).append((row[at["sku"]].strip(), int(quantity_text)))
    except csv.Error as exc:
        raise OrderReportUnreadable(f"order report: row {row_number}: {exc}", field="row") from None
    return [
        ReportedOrder(
            order_id=order_id,
            status=seen["status"] if isinstance(seen["status"], str) else None,
            raw_status=str(seen["raw"]),
            channel=str(seen["channel"]),
            last_updated=str(seen["last_updated"]),
            units=units_of(lines[order_id]),
            created=str(seen["created"]) if seen["created"] else None,
        )
        for order_id, seen in orders.items()
    ]


class SpApiOrderReports:
    """Order reports over a store's SP-API session (OrderReportsAmazon of usecases.order_reconciliation)."""

    def __init__(self, spapi: SpApi, http: httpx.Client | None = None) -> None:
        self._spapi = spapi
        self._http = http

    def request_order_report(self, *, after: datetime, before: datetime | None = None) -> str:
        """The report of the orders changed since `after`, until `before` (None: until now by Amazon's clock,
        which getReport tells as dataEndTime)."""
        params = {"dataStartTime": iso(after)}
        if before is not None:
            params["dataEndTime"] = iso(before)
        return request_report(self._spapi, BY_LAST_UPDATE, **params)

    def report_state(self, report_id: str) -> ReportState:
        return report_state(self._spapi, report_id)

    def open_report(self, document_id: str) -> AbstractContextManager[TextIO]:
        return open_report_document(self._spapi, document_id, self._http)
