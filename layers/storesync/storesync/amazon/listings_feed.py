"""JSON_LISTINGS_FEED documents for quantities: build one (validated against Amazon's
listings-feed-schema-v2.json, shipped in storesync/amazon/schemas/ because the Lambda cannot read the vendored
models) and read its processing report (listings-feed-processing-report-schema-v2, parsed by the transport into
storesync.amazon.answers.FeedProcessingReport) into a verdict per SKU."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator

from storesync.amazon.answers import FeedProcessingReport

FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
FULFILLMENT_AVAILABILITY_PATH = "/attributes/fulfillment_availability"
FBM_CHANNEL_CODE = "DEFAULT"


class FeedDocumentInvalid(ValueError):
    pass


@dataclass(frozen=True)
class QuantityLine:
    sku: str
    product_type: str
    quantity: int


def quantity_patch(quantity: int) -> dict[str, Any]:
    """The one patch that sets an FBM quantity; `merge` keeps lead time and restock date (`replace` drops them)."""
    return {
        "op": "merge",
        "path": FULFILLMENT_AVAILABILITY_PATH,
        "value": [{"fulfillment_channel_code": FBM_CHANNEL_CODE, "quantity": int(quantity)}],
    }


@cache
def _feed_validator() -> Draft7Validator:
    text = (
        resources.files("storesync.amazon")
        .joinpath("schemas/listings-feed-schema-v2.json")
        .read_text("utf-8")
    )
    return Draft7Validator(json.loads(text))


def build_quantity_feed(seller_id: str, lines: Sequence[QuantityLine]) -> dict[str, Any]:
    """A feed with one PATCH message per line; messageId is the 1-based position. Raises FeedDocumentInvalid."""
    document = {
        "header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": number,
                "sku": line.sku,
                "operationType": "PATCH",
                "productType": line.product_type,
                "patches": [quantity_patch(line.quantity)],
            }
            for number, line in enumerate(lines, start=1)
        ],
    }
    error = next(
        iter(sorted(_feed_validator().iter_errors(document), key=lambda e: list(e.absolute_path))), None
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        raise FeedDocumentInvalid(
            f"listings feed does not match listings-feed-schema-v2 at {where}: {error.message}"
        )
    return document


@dataclass(frozen=True)
class SkuVerdict:
    """Amazon's answer on one SKU's quantity, from a listings patch or from a feed's processing report."""

    accepted: bool
    message: str = ""


@dataclass(frozen=True)
class FeedReport:
    verdicts: dict[str, SkuVerdict]  # per SKU of the feed
    fatal_message: str | None = None  # the whole feed was refused


def read_processing_report(
    report: FeedProcessingReport, lines: Sequence[QuantityLine], first_message: int = 1
) -> FeedReport:
    """Each line accepted unless an ERROR issue names its SKU or messageId; feed-level errors (no messageId)
    with nothing processed make the whole feed fatal. `lines` are the feed's messages from number
    `first_message` on (a report read in slices: the earlier messages were recorded by an earlier slice)."""
    by_message = {number: line.sku for number, line in enumerate(lines, start=first_message)}
    errors: dict[str, list[str]] = {}
    feed_errors: list[str] = []
    for issue in report.issues:
        if issue.severity.upper() != "ERROR":
            continue
        sku = issue.sku or (by_message.get(issue.message_id) if issue.message_id is not None else None)
        text = issue.message or issue.code or "rejected"
        if sku:
            errors.setdefault(sku, []).append(text)
        elif issue.message_id is not None and issue.message_id < first_message:
            continue  # a message recorded by an earlier slice of this report
        else:
            feed_errors.append(text)
    if feed_errors and not report.summary.messages_processed:
        return FeedReport({}, "; ".join(feed_errors))
    verdicts = {
        line.sku: SkuVerdict(False, "; ".join(errors[line.sku])) if line.sku in errors else SkuVerdict(True)
        for line in lines
    }
    return FeedReport(verdicts)
