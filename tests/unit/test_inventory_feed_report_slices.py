"""A feed's processing report read in slices: the lines of a later slice keep their message numbers."""

from __future__ import annotations

from storesync.amazon.answers import FeedProcessingReport
from storesync.amazon.listings_feed import QuantityLine, read_processing_report

REPORT = FeedProcessingReport.model_validate(
    {
        "issues": [
            {"messageId": 1, "code": "90220", "severity": "ERROR", "message": "recorded by the first slice"},
            {"messageId": 4, "code": "90220", "severity": "ERROR", "message": "quantity refused"},
        ],
        "summary": {"messagesProcessed": 4},
    }
)


def test_a_later_slice_maps_message_ids_from_its_first_message() -> None:
    rest = [QuantityLine("C-3", "SHIRT", 3), QuantityLine("D-4", "SHIRT", 4)]
    found = read_processing_report(REPORT, rest, first_message=3)
    assert found.fatal_message is None
    assert found.verdicts["C-3"].accepted
    assert not found.verdicts["D-4"].accepted and found.verdicts["D-4"].message == "quantity refused"


def test_an_unknown_message_number_after_the_slice_start_is_still_a_feed_error() -> None:
    report = FeedProcessingReport.model_validate(
        {"issues": [{"messageId": 9, "severity": "ERROR", "message": "no such message"}], "summary": {}}
    )
    found = read_processing_report(report, [QuantityLine("C-3", "SHIRT", 3)], first_message=3)
    assert found.fatal_message == "no such message"
