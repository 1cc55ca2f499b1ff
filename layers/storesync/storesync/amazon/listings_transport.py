"""The Amazon side of the inventory push: one patchListingsItem, or a JSON_LISTINGS_FEED (document, upload,
createFeed; then getFeed and the processing report). Every SP-API call goes through the seller's quota gate."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from sp_api.api import Feeds, ListingsItems

from storesync.amazon.clients import SpApi
from storesync.amazon.errors import TransientAmazonError, call_amazon
from storesync.amazon.listings_feed import CONTENT_TYPE, FEED_TYPE, quantity_patch

LISTINGS_VERSION = "2021-08-01"


@dataclass(frozen=True)
class PatchAnswer:
    accepted: bool
    message: str = ""


@dataclass(frozen=True)
class FeedState:
    status: str  # IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL
    result_document_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("DONE", "CANCELLED", "FATAL")


class ListingsTransport(Protocol):
    def patch_quantity(self, sku: str, product_type: str, quantity: int) -> PatchAnswer: ...

    def submit_feed(self, document: dict[str, Any]) -> str: ...

    def feed_state(self, feed_id: str) -> FeedState: ...

    def feed_report(self, document_id: str) -> dict[str, Any]: ...


def issues_message(issues: list[dict[str, Any]] | None) -> str:
    return "; ".join(
        str(i.get("message") or i.get("code"))
        for i in issues or []
        if str(i.get("severity", "ERROR")) == "ERROR"
    )


class SpApiListingsTransport:
    def __init__(self, spapi: SpApi, selling_partner_id: str, timeout: float = 60.0) -> None:
        self._spapi = spapi
        self._seller = selling_partner_id
        self._timeout = timeout
        self._listings: ListingsItems | None = None
        self._feeds: Feeds | None = None

    def _listings_client(self) -> ListingsItems:
        """One client per run: each python-amazon-sp-api client builds an httpx client (and its TLS context,
        ~25 ms), which one-patch-per-SKU would otherwise pay on every patch."""
        if self._listings is None:
            self._listings = self._spapi.client(ListingsItems, version=LISTINGS_VERSION)
        return self._listings

    def _feeds_client(self) -> Feeds:
        if self._feeds is None:
            self._feeds = self._spapi.client(Feeds)
        return self._feeds

    def patch_quantity(self, sku: str, product_type: str, quantity: int) -> PatchAnswer:
        client = self._listings_client()
        body = {"productType": product_type, "patches": [quantity_patch(quantity)]}
        answer = self._spapi.gate.call(
            "patchListingsItem",
            lambda: client.patch_listings_item(
                self._seller, sku, marketplaceIds=self._spapi.marketplace_id, body=body
            ),
        )
        payload = answer.payload or {}
        if payload.get("status") == "ACCEPTED":
            return PatchAnswer(True)
        return PatchAnswer(False, issues_message(payload.get("issues")) or f"status {payload.get('status')}")

    def submit_feed(self, document: dict[str, Any]) -> str:
        feeds = self._feeds_client()
        created = self._spapi.gate.call(
            "createFeedDocument", lambda: feeds.create_feed_document(None, CONTENT_TYPE)
        ).payload
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        self._upload(str(created["url"]), body)
        answer = self._spapi.gate.call(
            "createFeed",
            lambda: feeds.create_feed(
                FEED_TYPE, created["feedDocumentId"], marketplaceIds=[self._spapi.marketplace_id]
            ),
        )
        return str(answer.payload["feedId"])

    def _upload(self, url: str, body: bytes) -> None:
        def put() -> httpx.Response:
            return httpx.put(url, content=body, headers={"Content-Type": CONTENT_TYPE}, timeout=self._timeout)

        response = call_amazon("uploadFeedDocument", put)
        if response.status_code >= 300:
            raise TransientAmazonError(f"uploading the feed document failed ({response.status_code})")

    def feed_state(self, feed_id: str) -> FeedState:
        feeds = self._feeds_client()
        payload = self._spapi.gate.call("getFeed", lambda: feeds.get_feed(feed_id)).payload or {}
        return FeedState(str(payload.get("processingStatus")), payload.get("resultFeedDocumentId"))

    def feed_report(self, document_id: str) -> dict[str, Any]:
        feeds = self._feeds_client()
        info = self._spapi.gate.call(
            "getFeedDocument",
            lambda: feeds._request(
                f"/feeds/2021-06-30/documents/{document_id}", params={}, add_marketplace=False
            ),
        ).payload

        def get() -> httpx.Response:
            return httpx.get(str(info["url"]), timeout=self._timeout)

        response = call_amazon("downloadFeedDocument", get)
        if response.status_code >= 300:
            raise TransientAmazonError(f"downloading the feed report failed ({response.status_code})")
        content = response.content
        if info.get("compressionAlgorithm"):
            content = zlib.decompress(content, 15 + 32)
        report: dict[str, Any] = json.loads(content.decode("utf-8"))
        return report
