"""Feeds API 2021-06-30 for JSON_LISTINGS_FEED: createFeedDocument, createFeed, getFeed, getFeedDocument.

createFeedDocument answers an upload URL the simulator serves (PUT, Content-Type as declared). A feed is
IN_QUEUE for the first half of `feed_seconds`, IN_PROGRESS for the second half, then DONE; it is processed
once, when first seen DONE (by getFeed or GET /_sim/feeds): the document is validated against
listings-feed-schema-v2.json (a broken header or non-JSON document makes the feed FATAL, with a processing
report naming the problem), each message against the message schema, and valid PATCH messages are applied
like patchListingsItem (quantity on /attributes/fulfillment_availability; unknown and FBA SKUs get issues).
The processing report follows listings-feed-processing-report-schema-v2.json. Amazon's limit of 5 feeds
per 5 minutes per seller is enforced as a quota (the window shrinks with quota_scale): 429 QuotaExceeded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Response, request
from jsonschema import Draft7Validator

from . import listing_patches
from .documents import Processing, Submissions, catalog_of, document_url, documents_of, extension
from .errors import QUOTA_EXCEEDED, sp_error
from .listings_api import item_json
from .server import Call, json_response, sim_route, sp_api_route

if TYPE_CHECKING:
    from .state import SimulatorState

MODEL = "feeds_2021-06-30.json"
LISTINGS_FEED = "JSON_LISTINGS_FEED"
FEEDS_PER_WINDOW = 5
WINDOW_SECONDS = 300.0
MODELS = Path(__file__).parent / "models"


@cache
def _validators() -> tuple[Draft7Validator, Draft7Validator]:
    feed = json.loads((MODELS / "listings-feed-schema-v2.json").read_text(encoding="utf-8"))
    message = dict(feed["properties"]["messages"]["items"])
    envelope = json.loads(json.dumps(feed))
    envelope["properties"]["messages"]["items"] = {"type": "object"}  # messages are checked one by one
    return Draft7Validator(envelope), Draft7Validator(message)


@dataclass
class Feed(Processing):
    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: list[str]
    input_document_id: str
    created: float
    seconds: float
    result_document_id: str | None = None
    fatal: bool = False
    summary: dict[str, Any] = field(default_factory=dict)

    def status(self, now: float) -> str:
        status = self.processing_stage(now)
        return "FATAL" if status == "DONE" and self.fatal else status

    def to_json(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        body: dict[str, Any] = {
            "feedId": self.feed_id,
            "feedType": self.feed_type,
            "marketplaceIds": list(self.marketplace_ids),
            **self.processing_json(status),
        }
        if status in ("DONE", "FATAL") and self.result_document_id:
            body["resultFeedDocumentId"] = self.result_document_id
        return body


class Feeds(Submissions[Feed]):
    def __init__(self) -> None:
        super().__init__(first_id=60_001_019_000)
        self.created_at: dict[str, list[float]] = {}  # seller -> createFeed times in the current window


def feeds_of(sim: SimulatorState) -> Feeds:
    return extension(sim, "feeds", Feeds)


def process(sim: SimulatorState, feed: Feed) -> None:
    """Validate and apply a feed that reached the end of its processing time (once)."""
    feeds = feeds_of(sim)
    with feeds.lock:
        if feed.result_document_id is not None or sim.clock.time() < feed.created + feed.seconds:
            return
        document = documents_of(sim).get(feed.input_document_id)
        raw = document.content if document is not None else None
        report = _processing_report(sim, feed, raw)
        feed.summary = report["summary"]
        result = documents_of(sim).new(
            feed.seller_id, "feed-result", "application/json", content=json.dumps(report).encode("utf-8")
        )
        feed.result_document_id = result.document_id


def _fatal(feed: Feed, message: str) -> dict[str, Any]:
    feed.fatal = True
    return {
        "header": {"sellerId": feed.seller_id, "version": "2.0", "feedId": feed.feed_id},
        "issues": [{"code": "4000000", "severity": "ERROR", "message": message}],
        "summary": {
            "errors": 1,
            "warnings": 0,
            "messagesProcessed": 0,
            "messagesAccepted": 0,
            "messagesInvalid": 0,
        },
    }


def _processing_report(sim: SimulatorState, feed: Feed, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return _fatal(feed, "The feed document was never uploaded.")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return _fatal(feed, f"The feed document is not valid UTF-8 JSON: {exc}")
    envelope, message_schema = _validators()
    errors = sorted(envelope.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        return _fatal(feed, f"The feed does not match listings-feed-schema-v2: {where}: {errors[0].message}")
    header = document["header"]
    if header["sellerId"] != feed.seller_id:
        return _fatal(
            feed, f"header.sellerId: {header['sellerId']} is not the seller that submitted the feed."
        )
    marketplace_id = feed.marketplace_ids[0]
    catalog = catalog_of(sim)
    issues: list[dict[str, Any]] = []
    accepted = invalid = 0
    seen: set[int] = set()
    touched: list[str] = []
    for position, message in enumerate(document["messages"]):
        message_id = message.get("messageId") if isinstance(message, dict) else None
        base = {"messageId": message_id} if isinstance(message_id, int) and message_id >= 1 else {}
        if isinstance(message, dict) and isinstance(message.get("sku"), str) and message["sku"]:
            base["sku"] = message["sku"]
        found = [
            {**base, "code": "100001", "severity": "ERROR",
             "message": f"messages[{position}]: {'/'.join(str(p) for p in e.absolute_path) or '(message)'}: {e.message}"}
            for e in message_schema.iter_errors(message)
        ]  # fmt: skip
        if not found and message_id in seen:
            found = [
                {
                    **base,
                    "code": "100002",
                    "severity": "ERROR",
                    "message": f"messageId {message_id} is repeated.",
                }
            ]
        if not found:
            seen.add(int(message["messageId"]))
            found = _apply_message(sim, catalog, feed, marketplace_id, message, base)
        if any(i["severity"] == "ERROR" for i in found):
            invalid += 1
        else:
            accepted += 1
            touched.append(message["sku"])
        issues.extend(found)
    errors_count = sum(1 for i in issues if i["severity"] == "ERROR")
    report: dict[str, Any] = {
        "header": {"sellerId": feed.seller_id, "version": "2.0", "feedId": feed.feed_id},
        "issues": issues,
        "summary": {
            "errors": errors_count,
            "warnings": len(issues) - errors_count,
            "messagesProcessed": accepted + invalid,
            "messagesAccepted": accepted,
            "messagesInvalid": invalid,
        },
    }
    wanted = header.get("report")
    if wanted:
        report["header"]["report"] = wanted
        items = []
        for sku in dict.fromkeys(touched):
            listing = catalog.get(feed.seller_id, marketplace_id, sku)
            if listing is not None:
                items.append(item_json(listing, marketplace_id, wanted["includedData"]))
        report["items"] = items
        report["summary"]["itemSummary"] = {"items": len(items), "errors": 0, "warnings": 0}
    return report


def _apply_message(
    sim: SimulatorState,
    catalog: Any,
    feed: Feed,
    marketplace_id: str,
    message: dict[str, Any],
    base: dict[str, Any],
) -> list[dict[str, Any]]:
    sku, operation = message["sku"], message["operationType"]
    listing = catalog.get(feed.seller_id, marketplace_id, sku)
    if operation == "DELETE":
        if listing is None:
            return [_as_feed_issue(base, listing_patches.unknown_sku_issue(sku, marketplace_id))]
        with catalog.lock:
            catalog.table(feed.seller_id, marketplace_id).remove(sku)
        return []
    if operation == "PATCH":
        patches = message["patches"]
    else:  # UPDATE / PARTIAL_UPDATE: every attribute given is a replace
        patches = [
            {"op": "replace", "path": f"/attributes/{k}", "value": v}
            for k, v in message["attributes"].items()
        ]
    outcome = listing_patches.evaluate(listing, sku, marketplace_id, message["productType"], patches)
    if outcome.valid:
        listing_patches.apply(catalog, feed.seller_id, marketplace_id, sku, outcome, 0.0)
    return [_as_feed_issue(base, found) for found in outcome.issues]


def _as_feed_issue(base: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    converted = {**base, "code": found["code"], "severity": found["severity"], "message": found["message"]}
    if found.get("attributeNames"):
        converted["attributeName"] = found["attributeNames"][0]
    return converted


# SP-API routes ----------------------------------------------------------------------------------------
@sp_api_route("POST", "/feeds/2021-06-30/documents", operation_id="createFeedDocument", model=MODEL)
def create_feed_document(call: Call) -> tuple[int, dict[str, Any]]:
    content_type = str(call.body["contentType"]).strip()
    if not content_type:
        raise sp_error(400, "InvalidInput", "contentType: must not be empty")
    document = documents_of(call.sim).new(str(call.seller_id), "feed-input", content_type)
    return 201, {"feedDocumentId": document.document_id, "url": document_url(call.sim, document.document_id)}


@sp_api_route("POST", "/feeds/2021-06-30/feeds", operation_id="createFeed", model=MODEL)
def create_feed(call: Call) -> tuple[int, dict[str, Any]]:
    body, seller_id = call.body, str(call.seller_id)
    if body["feedType"] != LISTINGS_FEED:
        raise sp_error(
            400, "InvalidInput", f"feedType: {body['feedType']} is not supported (use {LISTINGS_FEED})"
        )
    marketplace_ids = list(dict.fromkeys(body["marketplaceIds"]))
    if len(marketplace_ids) != 1 or marketplace_ids[0] not in call.world.sellers[seller_id].marketplace_ids:
        raise sp_error(400, "InvalidInput", "marketplaceIds: give exactly one marketplace of the seller")
    document = documents_of(call.sim).get(body["inputFeedDocumentId"], seller_id)
    if document is None or document.kind != "feed-input":
        message = f"inputFeedDocumentId: document {body['inputFeedDocumentId']} was not found"
        raise sp_error(400, "InvalidInput", message)
    feeds, now = feeds_of(call.sim), call.clock.time()
    window = WINDOW_SECONDS / float(call.sim.config.quota_scale)
    with feeds.lock:
        recent = [t for t in feeds.created_at.get(seller_id, []) if t > now - window]
        if len(recent) >= FEEDS_PER_WINDOW:
            feeds.created_at[seller_id] = recent
            raise sp_error(429, "QuotaExceeded", QUOTA_EXCEEDED, "at most 5 feeds per 5 minutes")
        feeds.created_at[seller_id] = [*recent, now]
        feed = Feed(feeds.new_id(), seller_id, LISTINGS_FEED, marketplace_ids, document.document_id, now,
                    max(0.0, float(call.sim.config.feed_seconds)))  # fmt: skip
        feeds.by_id[feed.feed_id] = feed
    return 202, {"feedId": feed.feed_id}


@sp_api_route("GET", "/feeds/2021-06-30/feeds/<feedId>", operation_id="getFeed", model=MODEL)
def get_feed(call: Call, feedId: str) -> tuple[int, dict[str, Any]]:
    feed = feeds_of(call.sim).by_id.get(feedId)
    if feed is None or feed.seller_id != call.seller_id:
        raise sp_error(404, "NotFound", f"feedId: feed {feedId} was not found")
    process(call.sim, feed)
    return 200, feed.to_json(call.clock.time())


@sp_api_route(
    "GET", "/feeds/2021-06-30/documents/<feedDocumentId>", operation_id="getFeedDocument", model=MODEL
)
def get_feed_document(call: Call, feedDocumentId: str) -> tuple[int, dict[str, Any]]:
    document = documents_of(call.sim).get(feedDocumentId, call.seller_id)
    if document is None:
        raise sp_error(404, "NotFound", f"feedDocumentId: document {feedDocumentId} was not found")
    return 200, {"feedDocumentId": feedDocumentId, "url": document_url(call.sim, feedDocumentId)}


@sim_route("GET", "/_sim/feeds")
def admin_feeds(sim: SimulatorState) -> Response:
    seller_id = request.args.get("seller_id")
    now, listed = sim.clock.time(), []
    for feed in list(feeds_of(sim).by_id.values()):
        if seller_id and feed.seller_id != seller_id:
            continue
        process(sim, feed)
        listed.append({**feed.to_json(now), "sellerId": feed.seller_id, "summary": feed.summary})
    return json_response(200, {"feeds": listed})
