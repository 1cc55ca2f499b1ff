"""The Amazon side of the inventory push: one patchListingsItem, or a JSON_LISTINGS_FEED (document, upload,
createFeed; then getFeed and the processing report). Every SP-API call goes through the seller's quota gate."""

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
from storesync.amazon.errors import TransientAmazonError, call_amazon
from storesync.amazon.listings_feed import CONTENT_TYPE, FEED_TYPE, SkuVerdict, quantity_patch


@dataclass(frozen=True)
class FeedState:
    status: str  # IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL
    result_document_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("DONE", "CANCELLED", "FATAL")


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
        answer = self._spapi.gate.call(
            "patchListingsItem",
            lambda: client.patch_listings_item(
                self._seller, sku, marketplaceIds=self._spapi.marketplace_id, body=body
            ),
        )
        submission = parse_answer(ListingsSubmission, "patchListingsItem", answer.payload)
        if submission.accepted:
            return SkuVerdict(True)
        return SkuVerdict(False, issues_message(submission.issues) or f"status {submission.status}")

    def submit_feed(self, document: dict[str, Any]) -> str:
        feeds = self._spapi.feeds()
        answer = self._spapi.gate.call(
            "createFeedDocument", lambda: feeds.create_feed_document(None, CONTENT_TYPE)
        )
        created = parse_answer(CreatedFeedDocument, "createFeedDocument", answer.payload)
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        self._upload(created.url, body)
        answer = self._spapi.gate.call(
            "createFeed",
            lambda: feeds.create_feed(
                FEED_TYPE, created.feed_document_id, marketplaceIds=[self._spapi.marketplace_id]
            ),
        )
        return parse_answer(CreatedFeed, "createFeed", answer.payload).feed_id

    def _upload(self, url: str, body: bytes) -> None:
        def put() -> httpx.Response:
            return httpx.put(url, content=body, headers={"Content-Type": CONTENT_TYPE}, timeout=self._timeout)

        response = call_amazon("uploadFeedDocument", put)
        if response.status_code >= 300:
            raise TransientAmazonError(f"uploading the feed document failed ({response.status_code})")

    def feed_state(self, feed_id: str) -> FeedState:
        feeds = self._spapi.feeds()
        answer = self._spapi.gate.call("getFeed", lambda: feeds.get_feed(feed_id))
        feed = parse_answer(FeedAnswer, "getFeed", answer.payload)
        return FeedState(feed.processing_status, feed.result_feed_document_id)

    def feed_report(self, document_id: str) -> FeedProcessingReport:
        """getFeedDocument and the download of the processing report (the library's public
        get_feed_result_document does both, and gunzips)."""
        feeds = self._spapi.feeds()
        text = self._spapi.gate.call("getFeedDocument", lambda: feeds.get_feed_result_document(document_id))
        try:
            report = json.loads(text)
        except ValueError:
            raise TransientAmazonError(
                "the feed processing report could not be downloaded: retrying"
            ) from None
        return parse_answer(FeedProcessingReport, "getFeedDocument", report)
