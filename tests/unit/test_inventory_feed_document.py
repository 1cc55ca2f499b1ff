"""The JSON_LISTINGS_FEED document (validated against the shipped schema) and its processing report."""

from __future__ import annotations

import pytest
from storesync.amazon.answers import FeedProcessingReport
from storesync.amazon.listings_feed import (
    FeedDocumentInvalid,
    QuantityLine,
    build_quantity_feed,
    quantity_patch,
    read_processing_report,
)

LINES = [QuantityLine("A-1", "SHIRT", 4), QuantityLine("B-2", "SHIRT", 0), QuantityLine("C-3", "MUG", 12)]


def test_feed_has_one_merge_patch_per_sku_numbered_from_one() -> None:
    document = build_quantity_feed("SELLER1", LINES)
    assert document["header"] == {"sellerId": "SELLER1", "version": "2.0", "issueLocale": "en_US"}
    assert [(m["messageId"], m["sku"], m["productType"]) for m in document["messages"]] == [
        (1, "A-1", "SHIRT"),
        (2, "B-2", "SHIRT"),
        (3, "C-3", "MUG"),
    ]
    assert document["messages"][1]["patches"] == [quantity_patch(0)]
    assert quantity_patch(5) == {
        "op": "merge",
        "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 5}],
    }


def test_a_document_that_breaks_the_schema_is_refused_before_sending() -> None:
    with pytest.raises(FeedDocumentInvalid, match="listings-feed-schema-v2"):
        build_quantity_feed("SELLER1", [QuantityLine("", "SHIRT", 1)])


def test_report_marks_rejected_skus_by_sku_or_message_id() -> None:
    report = {
        "issues": [
            {
                "messageId": 1,
                "sku": "A-1",
                "code": "4000003",
                "severity": "ERROR",
                "message": "bad product type",
            },
            {"messageId": 3, "code": "90111", "severity": "ERROR", "message": "FBA listing"},
            {"messageId": 2, "sku": "B-2", "code": "1", "severity": "WARNING", "message": "just a warning"},
        ],
        "summary": {"messagesProcessed": 3, "messagesAccepted": 1, "messagesInvalid": 2},
    }
    verdicts = read_processing_report(FeedProcessingReport.model_validate(report), LINES).verdicts
    assert not verdicts["A-1"].accepted and verdicts["A-1"].message == "bad product type"
    assert verdicts["B-2"].accepted
    assert not verdicts["C-3"].accepted and verdicts["C-3"].message == "FBA listing"


def test_a_fatal_report_refuses_the_whole_feed() -> None:
    report = {
        "issues": [{"code": "4000000", "severity": "ERROR", "message": "not JSON"}],
        "summary": {"messagesProcessed": 0},
    }
    found = read_processing_report(FeedProcessingReport.model_validate(report), LINES)
    assert found.fatal_message == "not JSON"
    assert found.verdicts == {}
