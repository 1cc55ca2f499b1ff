"""Reports API 2021-06-30 for GET_MERCHANT_LISTINGS_ALL_DATA and the order reports
GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL / _BY_ORDER_DATE_GENERAL (order_reports.py): createReport,
getReport, getReportDocument.

A report is IN_QUEUE for the first half of `report_seconds` (simulator clock), IN_PROGRESS for the second
half, then DONE with a reportDocumentId (or, under the faults `report_cancelled` / `report_fatal`,
decided when the report is created: CANCELLED without a document, FATAL with an error document
`{"errorDetails": "..."}` of content type application/json). The document is Amazon's tab-separated flat
file with a header row; fields holding a tab, a quote or a line break are quoted the csv way (read it back with
`csv.reader(f, delimiter="\\t")`). It is written while it is downloaded, from the listings as they are at
that moment, in chunks (gzip-compressed on the fly when the report is compressed): 100,000 rows never sit
in memory as one text. FBA rows leave quantity blank (Amazon's stock for them comes from FBA Inventory).

Compression: GET/POST /_sim/reports/settings {"compression": "AUTO"|"GZIP"|"NONE"}; AUTO (the default)
compresses reports of more than AUTO_GZIP_ROWS rows, as Amazon does for large reports.
"""

from __future__ import annotations

import functools
import itertools
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Response, request

from .catalog import Listing
from .clock import iso
from .documents import (
    Processing,
    Submissions,
    catalog_of,
    document_url,
    documents_of,
    extension,
    tab_separated_chunks,
)
from .errors import sp_error
from .faults import REPORT_OPERATIONS
from .order_reports import ORDER_REPORTS, report_window, select_orders
from .order_reports import flat_file_chunks as order_flat_file_chunks
from .server import Call, json_response, sim_route, sp_api_route

if TYPE_CHECKING:
    from .state import SimulatorState

MODEL = "reports_2021-06-30.json"
LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
SUPPORTED_REPORTS = (LISTINGS_REPORT, *ORDER_REPORTS)
AUTO_GZIP_ROWS = 10_000
COMPRESSIONS = ("AUTO", "GZIP", "NONE")
CHUNK_ROWS = 500

COLUMNS = (
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date",
    "image-url", "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note",
    "item-condition", "zshop-category1", "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2",
    "asin3", "will-ship-internationally", "expedited-shipping", "zshop-boldface", "product-id",
    "bid-for-featured-placement", "add-delete", "pending-quantity", "fulfillment-channel",
    "merchant-shipping-group", "status",
)  # fmt: skip


@dataclass
class Report(Processing):
    report_id: str
    seller_id: str
    report_type: str
    marketplace_ids: list[str]
    created: float
    seconds: float
    data_start: str | None = None
    data_end: str | None = None
    document_id: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    outcome: str = "DONE"  # CANCELLED or FATAL under the faults report_cancelled / report_fatal
    window: tuple[float, float] | None = None  # order reports: [dataStartTime, dataEndTime], epoch seconds
    order_ids: list[str] | None = None  # order reports: the orders chosen when processing finished

    def status(self, now: float) -> str:
        stage = self.processing_stage(now)
        return self.outcome if stage == "DONE" else stage

    def to_json(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        body: dict[str, Any] = {
            "reportId": self.report_id,
            "reportType": self.report_type,
            "marketplaceIds": list(self.marketplace_ids),
            **self.processing_json(status),
        }
        if self.data_start:
            body["dataStartTime"] = self.data_start
        if self.data_end:
            body["dataEndTime"] = self.data_end
        if status in ("DONE", "FATAL") and self.document_id:
            body["reportDocumentId"] = self.document_id  # FATAL: the error document, as Amazon gives
        return body


class Reports(Submissions[Report]):
    def __init__(self) -> None:
        super().__init__(first_id=50_001_019_000)
        self.compression = "AUTO"


def reports_of(sim: SimulatorState) -> Reports:
    return extension(sim, "reports", Reports)


def listing_row(listing: Listing) -> list[str]:
    fba = listing.is_fba
    opened = datetime.fromtimestamp(listing.created, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    listing_id = opened[5:7] + opened[8:10] + format(zlib.crc32(listing.sku.encode("utf-8")), "07X")[-7:]
    return [
        listing.title, "", listing_id, listing.sku, f"{listing.price:.2f}", "" if fba else str(listing.quantity), opened,
        "", "y", "1", "", "", "11", "", "", "", listing.asin, "", "", "", "", "", listing.asin, "", "",
        "" if fba else "0", listing.fulfillment_channel, "" if fba else "Migrated Template", listing.status,
    ]  # fmt: skip


def flat_file_chunks(listings: list[Listing]) -> Iterator[bytes]:
    """The flat file in UTF-8 chunks of CHUNK_ROWS rows (header row first)."""
    batches = (map(listing_row, batch) for batch in itertools.batched(listings, CHUNK_ROWS))
    return tab_separated_chunks(COLUMNS, batches)


def _finish(sim: SimulatorState, report: Report, now: float) -> None:
    """Give a DONE report its document, a FATAL one its error document (once)."""
    if report.document_id is not None or report.status(now) not in ("DONE", "FATAL"):
        return
    if report.outcome == "FATAL":
        error = {"errorDetails": f"Report {report.report_id} of {report.report_type} ended with a fatal error "
                 "while it was processed. Request a new report."}  # fmt: skip
        document = documents_of(sim).new(
            report.seller_id, "report", "application/json", content=json.dumps(error).encode("utf-8")
        )
        report.document_id = document.document_id
        return
    marketplace_id = report.marketplace_ids[0]
    if report.report_type in ORDER_REPORTS and report.window is not None:
        since, until = report.window
        sim.world.tick()  # pending orders due for release are released first
        order_ids = select_orders(
            sim.world, report.seller_id, marketplace_id, report.report_type, since, until
        )
        report.order_ids = order_ids
        rows = len(order_ids)
    else:
        rows = len(catalog_of(sim).table(report.seller_id, marketplace_id))
    mode = reports_of(sim).compression
    gzip = mode == "GZIP" or (mode == "AUTO" and rows > AUTO_GZIP_ROWS)

    document = documents_of(sim).new(
        report.seller_id,
        "report",
        "text/plain; charset=UTF-8",
        producer=functools.partial(report_document_chunks, report.report_id),
        compression="GZIP" if gzip else None,
    )
    report.document_id = document.document_id


def report_document_chunks(report_id: str, sim: SimulatorState) -> Iterator[bytes]:
    """A DONE report's document as it is downloaded: the listings as they are now, or the orders the report
    chose when it finished, as they are now."""
    report = reports_of(sim).by_id[report_id]
    if report.report_type in ORDER_REPORTS and report.order_ids is not None:
        return order_flat_file_chunks(sim.world, report.report_type, report.order_ids)
    return flat_file_chunks(catalog_of(sim).listings(report.seller_id, report.marketplace_ids[0]))


def refreshed(sim: SimulatorState, report: Report) -> Report:
    with reports_of(sim).lock:
        _finish(sim, report, sim.clock.time())
    return report


@sp_api_route("POST", "/reports/2021-06-30/reports", operation_id="createReport", model=MODEL)
def create_report(call: Call) -> tuple[int, dict[str, Any]]:
    body = call.body
    report_type = body["reportType"]
    if report_type not in SUPPORTED_REPORTS:
        raise sp_error(400, "InvalidInput", f"reportType: {report_type} is not supported by the simulator")
    marketplace_ids = list(dict.fromkeys(body["marketplaceIds"]))
    if len(marketplace_ids) != 1:
        raise sp_error(400, "InvalidInput", f"marketplaceIds: {report_type} takes exactly one marketplace")
    seller = call.world.sellers[str(call.seller_id)]
    if marketplace_ids[0] not in seller.marketplace_ids:
        message = f"marketplaceIds: the seller is not registered in marketplace {marketplace_ids[0]}"
        raise sp_error(400, "InvalidInput", message)
    reports = reports_of(call.sim)
    report = Report(
        report_id=reports.new_id(),
        seller_id=str(call.seller_id),
        report_type=report_type,
        marketplace_ids=marketplace_ids,
        created=call.clock.time(),
        seconds=max(0.0, float(call.sim.config.report_seconds)),
        data_start=body.get("dataStartTime"),
        data_end=body.get("dataEndTime"),
        options=dict(body.get("reportOptions") or {}),
    )
    if report_type in ORDER_REPORTS:
        report.window = report_window(report.created, body.get("dataStartTime"), body.get("dataEndTime"))
        report.data_start, report.data_end = (
            iso(report.window[0]),
            iso(report.window[1]),
        )  # as Amazon tells them
    faults = call.sim.faults
    if faults.pick("report_cancelled", *REPORT_OPERATIONS):
        report.outcome = "CANCELLED"
    elif faults.pick("report_fatal", *REPORT_OPERATIONS):
        report.outcome = "FATAL"
    with reports.lock:
        reports.by_id[report.report_id] = report
    return 202, {"reportId": report.report_id}


def _owned_report(call: Call, report_id: str) -> Report:
    report = reports_of(call.sim).by_id.get(report_id)
    if report is None or report.seller_id != call.seller_id:
        raise sp_error(404, "NotFound", f"reportId: report {report_id} was not found")
    return refreshed(call.sim, report)


@sp_api_route("GET", "/reports/2021-06-30/reports/<reportId>", operation_id="getReport", model=MODEL)
def get_report(call: Call, reportId: str) -> tuple[int, dict[str, Any]]:
    return 200, _owned_report(call, reportId).to_json(call.clock.time())


@sp_api_route(
    "GET", "/reports/2021-06-30/documents/<reportDocumentId>", operation_id="getReportDocument", model=MODEL
)
def get_report_document(call: Call, reportDocumentId: str) -> tuple[int, dict[str, Any]]:
    document = documents_of(call.sim).get(reportDocumentId, call.seller_id)
    if document is None or document.kind != "report":
        raise sp_error(404, "NotFound", f"reportDocumentId: document {reportDocumentId} was not found")
    body: dict[str, Any] = {
        "reportDocumentId": reportDocumentId,
        "url": document_url(call.sim, reportDocumentId),
    }
    if document.compression:
        body["compressionAlgorithm"] = document.compression
    return 200, body


# admin -------------------------------------------------------------------------------------------------------
@sim_route("GET", "/_sim/reports")
def admin_reports(sim: SimulatorState) -> Response:
    seller_id = request.args.get("seller_id")
    reports = reports_of(sim)
    now = sim.clock.time()
    listed = []
    for report in list(reports.by_id.values()):
        if seller_id and report.seller_id != seller_id:
            continue
        refreshed(sim, report)
        listed.append({**report.to_json(now), "sellerId": report.seller_id})
    return json_response(200, {"reports": listed, "compression": reports.compression})


@sim_route("GET", "/_sim/reports/settings")
def admin_report_settings(sim: SimulatorState) -> Response:
    return json_response(200, {"compression": reports_of(sim).compression})


@sim_route("POST", "/_sim/reports/settings")
def admin_set_report_settings(sim: SimulatorState) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("compression") not in COMPRESSIONS:
        raise sp_error(400, "InvalidInput", f"compression: must be one of {', '.join(COMPRESSIONS)}")
    reports_of(sim).compression = body["compression"]
    return json_response(200, {"compression": body["compression"]})
