"""The product import's Amazon: the listings report, product types and FBA quantities over SP-API.

Every SP-API call goes through the store's quota gate. The report document itself is fetched from the URL
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
from storesync.amazon.errors import TransientAmazonError

LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
TYPES_PER_SEARCH = 20  # searchListingsItems: at most 20 identifiers (and pageSize 20)
SKUS_PER_FBA_CALL = 50  # getInventorySummaries: at most 50 sellerSkus
DOWNLOAD_CHUNK = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ReportState:
    status: str  # IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL
    document_id: str | None = None


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
        client = self._spapi.reports()
        answer = self._spapi.gate.call(
            "createReport",
            lambda: client.create_report(
                reportType=LISTINGS_REPORT, marketplaceIds=[self._spapi.marketplace_id]
            ),
        )
        return parse_answer(CreatedReport, "createReport", answer.payload).report_id

    def report_state(self, report_id: str) -> ReportState:
        client = self._spapi.reports()
        answer = self._spapi.gate.call("getReport", lambda: client.get_report(report_id))
        report = parse_answer(ReportAnswer, "getReport", answer.payload)
        return ReportState(report.processing_status, report.report_document_id)

    @contextmanager
    def open_report(self, document_id: str) -> Iterator[TextIO]:
        client = self._spapi.reports()
        answer = self._spapi.gate.call("getReportDocument", lambda: client.get_report_document(document_id))
        document = parse_answer(DocumentLocation, "getReportDocument", answer.payload)
        gzip = (document.compression_algorithm or "").upper() == "GZIP"
        http = self._http or httpx.Client(timeout=httpx.Timeout(30.0, read=60.0))
        try:
            with http.stream("GET", document.url) as response:
                if response.status_code != 200:
                    raise TransientAmazonError(
                        f"the report document could not be downloaded (HTTP {response.status_code}): retrying"
                    )
                encoding = response.charset_encoding or "utf-8"
                stream = text_stream(response.iter_bytes(DOWNLOAD_CHUNK), gzip=gzip, encoding=encoding)
                yield stream
        except httpx.HTTPError as exc:
            raise TransientAmazonError(
                f"the report document could not be downloaded ({type(exc).__name__}): retrying"
            ) from exc
        finally:
            if self._http is None:
                http.close()

    def product_types(self, skus: Sequence[str]) -> dict[str, str]:
        """Product type per SKU from searchListingsItems (20 SKUs a call); SKUs Amazon does not know are absent."""
        found: dict[str, str] = {}
        client = self._spapi.listings()
        marketplace_id = self._spapi.marketplace_id
        for start in range(0, len(skus), TYPES_PER_SEARCH):
            chunk = list(skus[start : start + TYPES_PER_SEARCH])
            answer = self._spapi.gate.call(
                "searchListingsItems",
                lambda chunk=chunk: client.search_listings_items(  # type: ignore[misc]
                    self._seller,
                    marketplaceIds=[marketplace_id],
                    identifiers=",".join(chunk),
                    identifiersType="SKU",
                    includedData="summaries",
                    pageSize=TYPES_PER_SEARCH,
                ),
            )
            for item in parse_answer(ListingsSearch, "searchListingsItems", answer.payload).items:
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
                answer = self._spapi.gate.call(
                    "getInventorySummaries",
                    lambda params=params: client.get_inventory_summary_marketplace(**params),  # type: ignore[misc]
                )
                page = parse_answer(InventorySummaries, "getInventorySummaries", answer.payload)
                for summary in page.inventory_summaries:
                    found[summary.seller_sku] = summary.fulfillable
                token = answer.next_token
                if not token:
                    break
        return found
