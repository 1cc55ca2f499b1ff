"""Amazon's answers as typed models, parsed at the adapter's boundary.

Each model keeps the fields storesync reads, under Amazon's own (camelCase) names, and ignores the rest. A
malformed answer raises AmazonAnswerInvalid naming the operation and the field (`getReport: processingStatus:
Field required`), never an empty result: the lists a page is made of (searchListingsItems `items`,
getInventorySummaries `inventorySummaries`) are required, an empty list is the only "nothing". The adapters parse
inside the quota gate's call (`gate.call(op, fn, parse=...)`), so an answer that fails here is read again. Orders have their own parser (storesync.amazon.orders): one bad order
must not hide the other 99 of its page.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from storesync.amazon.errors import AmazonAnswerInvalid


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True)


def _invalid(operation: str, exc: ValidationError) -> AmazonAnswerInvalid:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(answer)"
    return AmazonAnswerInvalid(f"{operation}: {where}: {error['msg']}", operation=operation, field=where)


def parse_answer[M: BaseModel](model: type[M], operation: str, payload: Any) -> M:
    """`payload` (a JSON object) as `model`; raises AmazonAnswerInvalid naming the field."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(operation, exc) from None


def parse_answer_list[M: BaseModel](model: type[M], operation: str, payload: Any) -> list[M]:
    """`payload` (a JSON array) as a list of `model`; raises AmazonAnswerInvalid naming the item and field."""
    try:
        return TypeAdapter(list[model]).validate_python(payload)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise _invalid(operation, exc) from None


# Sellers and Notifications (connecting a store) ----------------------------------------------------------------
class MarketplaceRef(Answer):
    id: str


class Participation(Answer):
    is_participating: bool = True


class MarketplaceParticipation(Answer):
    """getMarketplaceParticipations: one marketplace the authorized seller belongs to."""

    marketplace: MarketplaceRef
    participation: Participation = Participation()


class SqsResource(Answer):
    arn: str | None = None


class DestinationResource(Answer):
    sqs: SqsResource | None = None


class Destination(Answer):
    """createDestination / getDestinations."""

    destination_id: str
    resource: DestinationResource | None = None

    @property
    def sqs_arn(self) -> str | None:
        return self.resource.sqs.arn if self.resource and self.resource.sqs else None


class Subscription(Answer):
    """createSubscription / getSubscription."""

    subscription_id: str


# Reports -------------------------------------------------------------------------------------------------------
class CreatedReport(Answer):
    report_id: str


class ReportAnswer(Answer):
    """getReport: IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL, and the document once DONE."""

    processing_status: str
    report_document_id: str | None = None
    data_end_time: str | None = None  # the end of the report's data window (Amazon's, when it was left open)


class DocumentLocation(Answer):
    """getReportDocument / getFeedDocument / createFeedDocument: where the document is (a presigned URL)."""

    url: str
    compression_algorithm: str | None = None


# Listings Items ------------------------------------------------------------------------------------------------
class ListingSummary(Answer):
    marketplace_id: str | None = None
    product_type: str | None = None


class ListingItem(Answer):
    sku: str
    summaries: list[ListingSummary] = []


class ListingsSearch(Answer):
    """searchListingsItems: one page of listings."""

    items: list[ListingItem]


class ListingIssue(Answer):
    code: str | None = None
    message: str | None = None
    severity: str = "ERROR"


class ListingsSubmission(Answer):
    """patchListingsItem: ACCEPTED (queued) or INVALID with its issues."""

    status: str
    issues: list[ListingIssue] = []

    @property
    def accepted(self) -> bool:
        return self.status == "ACCEPTED"


# FBA inventory -------------------------------------------------------------------------------------------------
class InventoryDetails(Answer):
    fulfillable_quantity: int | None = None


class InventorySummary(Answer):
    seller_sku: str
    total_quantity: int | None = None
    inventory_details: InventoryDetails | None = None

    @property
    def fulfillable(self) -> int | None:
        """Fulfillable units (the total when Amazon gives no details); None when the summary carries neither, so
        a summary without a quantity never reads as 0."""
        details = self.inventory_details.fulfillable_quantity if self.inventory_details else None
        return details if details is not None else self.total_quantity


class InventorySummaries(Answer):
    """getInventorySummaries: one page."""

    inventory_summaries: list[InventorySummary]


# Feeds ---------------------------------------------------------------------------------------------------------
class CreatedFeedDocument(Answer):
    feed_document_id: str
    url: str


class CreatedFeed(Answer):
    feed_id: str


class FeedAnswer(Answer):
    """getFeed: IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL, and the processing report once finished."""

    processing_status: str
    result_feed_document_id: str | None = None


class FeedIssue(Answer):
    message_id: int | None = None
    sku: str | None = None
    code: str | None = None
    message: str | None = None
    severity: str = ""


class FeedSummary(Answer):
    messages_processed: int | None = None


class FeedProcessingReport(Answer):
    """A JSON_LISTINGS_FEED processing report (listings-feed-processing-report-schema-v2), the parts we read."""

    issues: list[FeedIssue] = []
    summary: FeedSummary = FeedSummary()
