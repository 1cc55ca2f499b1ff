"""The product import's Amazon: the listings report, product types and FBA quantities over SP-API.

Every SP-API call goes through the store's quota gate, which parses its answer too (an answer without its
`items`, `inventorySummaries` or `processingStatus` is read again, then raised: never "no products", never a
quantity). The report document itself is fetched from the URL
getReportDocument gives (a presigned S3 URL on Amazon, no SP-API quota) with httpx streaming, gunzipped on
the fly, and handed over as a text stream: a 100,000-row report never sits in memory as one text.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

import httpx

from storesync.amazon.answers import (
    CreatedReport,
    DocumentLocation,
    InventorySummaries,
    ListingsSearch,
    ReportAnswer,
    parse_answer,
)
from storesync.amazon.clients import SpApi
from storesync.amazon.errors import (
    NOT_FOUND,
    AmazonAnswerInvalid,
    AmazonRejected,
    ReportDocumentUnknown,
    ReportFailed,
    TransientAmazonError,
    unknown_to_amazon,
)

LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
TYPES_PER_SEARCH = 20  # searchListingsItems: at most 20 identifiers (and pageSize 20)
SKUS_PER_FBA_CALL = 50  # getInventorySummaries: at most 50 sellerSkus
DOWNLOAD_CHUNK = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


REPORT_STATUSES = ("IN_QUEUE", "IN_PROGRESS", "DONE", "CANCELLED", "FATAL")


@dataclass(frozen=True)
class ReportState:
    status: str  # IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL, or NOT_FOUND (Amazon no longer knows it)
    document_id: str | None = None  # DONE: the report; FATAL: the error document, when Amazon gives one
    data_end: str | None = None  # dataEndTime: the end of the data window Amazon applied

    @property
    def failed(self) -> bool:
        """CANCELLED, FATAL or NOT_FOUND: the report carries no listings (never read that as "no products")."""
        return self.status in ("CANCELLED", "FATAL", NOT_FOUND)

    def raise_if_failed(self, report_id: str) -> None:
        """ReportFailed when the report ended CANCELLED or FATAL."""
        if self.failed:
            raise ReportFailed(report_id, self.status, self.document_id if self.status == "FATAL" else None)


def read_report_state(operation: str, payload: object) -> ReportState:
    """A getReport answer -> ReportState: an unknown status, or DONE without its document, is an invalid answer."""
    report = parse_answer(ReportAnswer, operation, payload)
    if report.processing_status not in REPORT_STATUSES:
        raise AmazonAnswerInvalid(
            f"{operation}: processingStatus: unknown status {report.processing_status!r}",
            operation=operation,
            field="processingStatus",
        )
    if report.processing_status == "DONE" and not report.report_document_id:
        raise AmazonAnswerInvalid(
            f"{operation}: reportDocumentId: missing on a DONE report",
            operation=operation,
            field="reportDocumentId",
        )
    return ReportState(report.processing_status, report.report_document_id, report.data_end_time)


class _DecodedBytes(io.RawIOBase):
    """A readable raw stream over byte chunks, gunzipped when the data is gzip (declared or detected)."""

    def __init__(
        self, chunks: Iterator[bytes], gzip: bool, on_error: Callable[[Exception], Exception]
    ) -> None:
        self._chunks = chunks
        self._gzip = gzip
        self._inflater: Any = None
        self._pending = b""
        self._started = False
        self._done = False
        self._on_error = on_error

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes | None:
        try:
            return next(self._chunks)
        except StopIteration:
            return None
        except httpx.HTTPError as exc:
            raise self._on_error(exc) from exc

    def _fill(self) -> None:
        while not self._pending and not self._done:
            chunk = self._next_chunk()
            if chunk is None:
                self._done = True
                if self._inflater is not None:
                    self._pending = self._inflater.flush()
                    if not self._inflater.eof:  # the stream ended before the gzip trailer: cut short
                        raise self._on_error(EOFError("the compressed document ends before its end"))
                return
            if not self._started:
                self._started = True
                if self._gzip or chunk.startswith(GZIP_MAGIC):
                    self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
            if self._inflater is not None:
                try:
                    self._pending = self._inflater.decompress(chunk)
                except zlib.error as exc:
                    raise self._on_error(exc) from exc
            else:
                self._pending = chunk

    def readinto(self, buffer: Any) -> int:
        self._fill()
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def text_stream(chunks: Iterator[bytes], *, gzip: bool, encoding: str = "utf-8") -> TextIO:
    """Byte chunks (maybe gzip) -> a text stream for csv (newline='' keeps line breaks inside quoted fields)."""

    def failed(exc: Exception) -> Exception:
        return TransientAmazonError(f"the report download broke off ({type(exc).__name__}): retrying")

    raw = _DecodedBytes(chunks, gzip, failed)
    return io.TextIOWrapper(
        io.BufferedReader(raw, DOWNLOAD_CHUNK), encoding=encoding, errors="replace", newline=""
    )


def request_report(spapi: SpApi, report_type: str, **params: Any) -> str:
    """createReport of `report_type` in the session's marketplace (`params`: dataStartTime, dataEndTime...)."""
    client = spapi.reports()
    return spapi.gate.call(
        "createReport",
        lambda: client.create_report(reportType=report_type, marketplaceIds=[spapi.marketplace_id], **params),
        parse=lambda answer: parse_answer(CreatedReport, "createReport", answer.payload).report_id,
    )


def report_state(spapi: SpApi, report_id: str) -> ReportState:
    """getReport: the report's status (CANCELLED and FATAL included: `ReportState.failed`; a report Amazon no
    longer knows, a 404, is NOT_FOUND: failed too)."""
    client = spapi.reports()
    try:
        return spapi.gate.call(
            "getReport",
            lambda: client.get_report(report_id),
            parse=lambda answer: read_report_state("getReport", answer.payload),
        )
    except AmazonRejected as exc:
        if unknown_to_amazon(exc):
            return ReportState(NOT_FOUND)
        raise


@contextmanager
def open_report_document(
    spapi: SpApi, document_id: str, http: httpx.Client | None = None
) -> Iterator[TextIO]:
    """getReportDocument, then the document streamed from its URL as text (gunzipped when it is gzip). A document
    Amazon no longer knows (404 from either) is ReportDocumentUnknown: the report is to be asked for again."""
    client = spapi.reports()
    try:
        document = spapi.gate.call(
            "getReportDocument",
            lambda: client.get_report_document(document_id),
            parse=lambda answer: parse_answer(DocumentLocation, "getReportDocument", answer.payload),
        )
    except AmazonRejected as exc:
        if unknown_to_amazon(exc):
            raise ReportDocumentUnknown(document_id) from exc
        raise
    gzip = (document.compression_algorithm or "").upper() == "GZIP"
    own = http or httpx.Client(timeout=httpx.Timeout(30.0, read=60.0))
    try:
        with own.stream("GET", document.url) as response:
            if response.status_code == 404:
                raise ReportDocumentUnknown(document_id, "its download")
            if response.status_code != 200:
                raise TransientAmazonError(
                    f"the report document could not be downloaded (HTTP {response.status_code}): retrying"
                )
            encoding = response.charset_encoding or "utf-8"
            yield text_stream(response.iter_bytes(DOWNLOAD_CHUNK), gzip=gzip, encoding=encoding)
    except httpx.HTTPError as exc:
        raise TransientAmazonError(
            f"the report document could not be downloaded ({type(exc).__name__}): retrying"
        ) from exc
    finally:
        if http is None:
            own.close()


class SpApiProductsAmazon:
    """ProductsAmazon (see usecases.product_import) over a store's SP-API session, through the quota gate."""

    def __init__(self, spapi: SpApi, selling_partner_id: str, http: httpx.Client | None = None) -> None:
        self._spapi = spapi
        self._seller = selling_partner_id
        self._http = http

    @property
    def calls(self) -> dict[str, int]:
        return dict(self._spapi.gate.calls)

    def request_listings_report(self) -> str:
        return request_report(self._spapi, LISTINGS_REPORT)

    def report_state(self, report_id: str) -> ReportState:
        """The report's status (CANCELLED and FATAL included: `ReportState.failed`, `raise_if_failed`)."""
        return report_state(self._spapi, report_id)

    @contextmanager
    def open_report(self, document_id: str) -> Iterator[TextIO]:
        with open_report_document(self._spapi, document_id, self._http) as stream:
            yield stream

    def product_types(self, skus: Sequence[str]) -> dict[str, str]:
        """Product type per SKU from searchListingsItems (20 SKUs a call); SKUs Amazon does not know are absent."""
        found: dict[str, str] = {}
        client = self._spapi.listings()
        marketplace_id = self._spapi.marketplace_id
        for start in range(0, len(skus), TYPES_PER_SEARCH):
            chunk = list(skus[start : start + TYPES_PER_SEARCH])
            page = self._spapi.gate.call(
                "searchListingsItems",
                lambda chunk=chunk: client.search_listings_items(  # type: ignore[misc]
                    self._seller,
                    marketplaceIds=[marketplace_id],
                    identifiers=",".join(chunk),
                    identifiersType="SKU",
                    includedData="summaries",
                    pageSize=TYPES_PER_SEARCH,
                ),
                parse=lambda answer: parse_answer(ListingsSearch, "searchListingsItems", answer.payload),
            )
            for item in page.items:
                for summary in item.summaries:
                    if summary.product_type and (summary.marketplace_id or marketplace_id) == marketplace_id:
                        found[item.sku] = summary.product_type
        return found

    def fba_quantities(self, skus: Sequence[str]) -> dict[str, int]:
        """Fulfillable FBA quantity per SKU from getInventorySummaries (50 SKUs a call)."""
        found: dict[str, int] = {}
        client = self._spapi.fba_inventory()
        for start in range(0, len(skus), SKUS_PER_FBA_CALL):
            chunk = list(skus[start : start + SKUS_PER_FBA_CALL])
            token: str | None = None
            while True:
                params: dict[str, Any] = {"details": "true", "sellerSkus": ",".join(chunk)}
                if token:
                    params["nextToken"] = token
                page, token = self._spapi.gate.call(
                    "getInventorySummaries",
                    lambda params=params: client.get_inventory_summary_marketplace(**params),  # type: ignore[misc]
                    parse=_inventory_page,
                )
                for summary in page.inventory_summaries:
                    quantity = summary.fulfillable
                    if quantity is not None:  # a summary without a quantity leaves the SKU unanswered
                        found[summary.seller_sku] = quantity
                if not token:
                    break
        return found


def _inventory_page(answer: Any) -> tuple[InventorySummaries, str | None]:
    """One getInventorySummaries answer: its summaries (required: an empty list is the only "none") and the
    next page's token."""
    page = parse_answer(InventorySummaries, "getInventorySummaries", answer.payload)
    token = getattr(answer, "next_token", None)
    return page, str(token) if token else None
