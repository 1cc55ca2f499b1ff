"""The product import use case with an in-memory Amazon (the ProductsAmazon port) and the runner's queue."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TextIO

from fakes import RecordingJobQueue
from storesync.amazon.errors import Throttled
from storesync.amazon.products_amazon import ReportState
from storesync.dal.products import Listing
from storesync.dal.stores import Store
from storesync.jobs import JobMessage
from storesync.usecases.product_import import ImportLimits, product_import_work
from storesync.usecases.runner import StoreJobRunner

HEADER = "item-name\tseller-sku\tprice\tquantity\tasin1\tfulfillment-channel\tstatus\n"


class FakeAmazon:
    def __init__(self, rows: int) -> None:
        self.text = HEADER + "".join(
            f"Item {i}\tSKU-{i:03d}\t1.00\t{i}\tB{i}\tDEFAULT\tActive\n" for i in range(rows)
        )
        self.polls = 0
        self.type_requests: list[str] = []
        self.throttle_types_once = True

    def request_listings_report(self) -> str:
        return "R1"

    def report_state(self, report_id: str) -> ReportState:
        self.polls += 1
        return ReportState("DONE", "D1") if self.polls > 1 else ReportState("IN_PROGRESS")

    @contextmanager
    def open_report(self, document_id: str) -> Iterator[TextIO]:
        yield io.StringIO(self.text, newline="")

    def product_types(self, skus: Sequence[str]) -> dict[str, str]:
        if self.throttle_types_once and self.type_requests:
            self.throttle_types_once = False
            raise Throttled("searchListingsItems", 7.0)
        self.type_requests += skus
        return {sku: "HOME" for sku in skus}

    def fba_quantities(self, skus: Sequence[str]) -> dict[str, int]:
        raise AssertionError("no FBA listing here")


def test_polls_with_a_delay_slices_rows_and_resumes_after_a_throttle(stack):
    now = datetime.now(UTC)
    Store(
        "m1", "s1", name="S", marketplace_id="ATVPDKIKX0DER", region="NA", status="active", created_at=now
    ).save()
    amazon, queue = FakeAmazon(rows=250), RecordingJobQueue()
    limits = ImportLimits(slice_rows=100, report_poll_seconds=45, chunk_rows=50, types_page=40)
    work = product_import_work(lambda store: amazon, limits)
    runner = StoreJobRunner(queue)
    message = JobMessage(job="products", mode="full", merchant_id="m1", store_id="s1")

    runner.run(message, work)  # createReport
    continuation, delay = queue.deliveries.pop()
    assert delay == 45 and continuation.trigger == "continuation"
    runner.run(continuation, work)  # IN_PROGRESS: wait again
    assert queue.deliveries[-1][1] == 45 and amazon.polls == 1
    outcomes = []
    while queue.deliveries:
        pending, _ = queue.deliveries.pop()
        outcomes.append(runner.run(pending, work))
    assert [o.counts.get("new", 0) for o in outcomes[:3]] == [100, 100, 50]  # bounded slices
    assert any(o.result == "throttled" and o.continue_after is not None for o in outcomes)
    stored = list(Listing.query("s1"))
    assert len(stored) == 250 and all(item.product_type == "HOME" for item in stored)
    assert sorted(amazon.type_requests) == sorted(item.sku for item in stored)  # each asked once
    assert runner.run(message.continuation(), work).summary == "no product import in progress"
