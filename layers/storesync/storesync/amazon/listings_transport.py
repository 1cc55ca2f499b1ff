"""The Amazon side of the inventory push: one patchListingsItem, or a JSON_LISTINGS_FEED (document, upload,
createFeed; then getFeed and the processing report). Every SP-API call goes through the seller's quota gate,
which parses the answer too (an unreadable one is read again, then raised). createFeed is never repeated by the
gate once it may have reached Amazon (quota_gate.UNREPEATABLE): a lost answer raises AnswerLost."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from storesync.amazon.answers import (
    CreatedFeed,
    CreatedFeedDocument,
    FeedAnswer,
    FeedProcessingReport,
    ListingIssue,
    ListingsSubmission,
    parse_answer,
)
from storesync.amazon.clients import SpApi
from storesync.amazon.errors import (
    NOT_FOUND,
    AmazonAnswerInvalid,
    AmazonRejected,
    TransientAmazonError,
    call_amazon,
    unknown_to_amazon,
)
from storesync.amazon.listings_feed import CONTENT_TYPE, FEED_TYPE, SkuVerdict, quantity_patch


@dataclass(frozen=True)
class FeedState:
    status: str  # IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL, or NOT_FOUND (Amazon no longer knows it)
    result_document_id: str | None = None

    @property
    def finished(self) -> bool:
        """Processing is over: DONE (read the report), else the feed was not processed (sent again)."""
        return self.status in ("DONE", "CANCELLED", "FATAL", NOT_FOUND)


class ListingsTransport(Protocol):
    def patch_quantity(self, sku: str, product_type: str, quantity: int) -> SkuVerdict: ...

    def submit_feed(self, document: dict[str, Any]) -> str: ...

    def feed_state(self, feed_id: str) -> FeedState: ...

    def feed_report(self, document_id: str) -> FeedProcessingReport: ...


def issues_message(issues: list[ListingIssue]) -> str:
    return "; ".join(str(i.message or i.code) for i in issues if i.severity == "ERROR")


class SpApiListingsTransport:
    """ListingsTransport over a store's SP-API session (its clients are built once per session)."""

    def __init__(self, spapi: SpApi, selling_partner_id: str, timeout: float = 60.0) -> None:
        self._spapi = spapi
        self._seller = selling_partner_id
        self._timeout = timeout

    def patch_quantity(self, sku: str, product_type: str, quantity: int) -> SkuVerdict:
        client = self._spapi.listings()
        body = {"productType": product_type, "patches": [quantity_patch(quantity)]}
        submission = self._spapi.gate.call(
            "patchListingsItem",
            lambda: client.patch_listings_item(
                self._seller, sku, marketplaceIds=self._spapi.marketplace_id, body=body
            ),
            parse=lambda answer: parse_answer(ListingsSubmission, "patchListingsItem", answer.payload),
        )
        if submission.accepted:
            return SkuVerdict(True)
        return SkuVerdict(False, issues_message(submission.issues) or f"status {submission.status}")

    def submit_feed(self, document: dict[str, Any]) -> str:
        feeds = self._spapi.feeds()
        created = self._spapi.gate.call(
            "createFeedDocument",
            lambda: feeds.create_feed_document(None, CONTENT_TYPE),
            parse=lambda answer: parse_answer(CreatedFeedDocument, "createFeedDocument", answer.payload),
        )
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        self._upload(created.url, body)
        return self._spapi.gate.call(
            "createFeed",
            lambda: feeds.create_feed(
                FEED_TYPE, created.feed_document_id, marketplaceIds=[self._spapi.marketplace_id]
            ),
            parse=lambda answer: parse_answer(CreatedFeed, "createFeed", answer.payload).feed_id,
        )

    def _upload(self, url: str, body: bytes) -> None:
        def put() -> httpx.Response:
            return httpx.put(url, content=body, headers={"Content-Type": CONTENT_TYPE}, timeout=self._timeout)

        response = call_amazon("uploadFeedDocument", put)
        if response.status_code >= 300:
            raise TransientAmazonError(f"uploading the feed document failed ({response.status_code})")

    def feed_state(self, feed_id: str) -> FeedState:
        """getFeed; a feed Amazon no longer knows (404) is NOT_FOUND: not processed, its quantities sent again."""
        feeds = self._spapi.feeds()
        try:
            feed = self._spapi.gate.call(
                "getFeed",
                lambda: feeds.get_feed(feed_id),
                parse=lambda answer: parse_answer(FeedAnswer, "getFeed", answer.payload),
            )
        except AmazonRejected as exc:
            if unknown_to_amazon(exc):
                return FeedState(NOT_FOUND)
            raise
        return FeedState(feed.processing_status, feed.result_feed_document_id)

    def feed_report(self, document_id: str) -> FeedProcessingReport:
        """getFeedDocument and the download of the processing report (the library's public
        get_feed_result_document does both, and gunzips). A report Amazon no longer knows (404) is no answer:
        AmazonAnswerInvalid, as an unreadable one (the feed counts as not processed after a few reads)."""
        feeds = self._spapi.feeds()
        try:
            return self._spapi.gate.call(
                "getFeedDocument",
                lambda: feeds.get_feed_result_document(document_id),
                parse=_processing_report,
            )
        except AmazonRejected as exc:
            if unknown_to_amazon(exc):
                raise AmazonAnswerInvalid(
                    f"getFeedDocument: Amazon no longer knows the processing report {document_id} (404)",
                    operation="getFeedDocument",
                ) from exc
            raise


def _processing_report(text: object) -> FeedProcessingReport:
    """The downloaded processing report: JSON in the shape of FeedProcessingReport, else AmazonAnswerInvalid (the
    gate reads it again: a download cut short is not a report without issues)."""
    try:
        report = json.loads(text) if isinstance(text, str | bytes) else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        raise AmazonAnswerInvalid(
            "getFeedDocument: the processing report is not a JSON object (cut short or not JSON)",
            operation="getFeedDocument",
        )
    return parse_answer(FeedProcessingReport, "getFeedDocument", report)
