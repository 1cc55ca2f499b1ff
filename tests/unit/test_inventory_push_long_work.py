"""The inventory push when the Lambda runs out of time or Amazon's answers are lost or empty (moto; Amazon is an
in-memory transport):
- the invocation's remaining time stops the patches after the one in hand; the next slice continues there;
- a patch or feed whose answer was lost leaves the listing as it was (planned again; quantities are absolute),
  and no stock moves;
- a feed processing report without its summary never marks a listing accepted."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import RecordingJobQueue
from storesync.amazon.answers import FeedProcessingReport
from storesync.amazon.errors import NOT_FOUND, TransientAmazonError
from storesync.amazon.listings_feed import SkuVerdict
from storesync.amazon.listings_transport import FeedState
from storesync.clock import utcnow
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.job_state import load_cursor
from storesync.dal.products import Listing
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.dal.stores import Store, StoreSettings
from storesync.jobs import JobMessage
from storesync.usecases.inventory_push import SCAN_CURSOR, PushSettings, inventory_push_work
from storesync.usecases.runner import JobOutcome, StoreJobRunner
from storesync.usecases.time_left import InvocationTime

MERCHANT, STORE = "m_long", "st_long"
SKUS = [f"SKU-{n}" for n in range(1, 5)]


class Transport:
    """Amazon's listings: `amazon` holds the quantity each patch or feed set; `lose` drops the answer of that
    many calls after performing them; `report` is the feed's processing report."""

    def __init__(self, lose: int = 0, report: dict[str, Any] | None = None) -> None:
        self.amazon: dict[str, int] = {}
        self.calls = 0
        self.lose = lose
        self.feeds: list[dict[str, Any]] = []
        self.report = report if report is not None else {"summary": {"messagesProcessed": 4}}

    def _lost(self) -> None:
        if self.lose:
            self.lose -= 1
            raise TransientAmazonError("Amazon could not be reached for patchListingsItem: ReadError")

    def patch_quantity(self, sku: str, product_type: str, quantity: int) -> SkuVerdict:
        self.calls += 1
        self.amazon[sku] = quantity
        self._lost()
        return SkuVerdict(True)

    def submit_feed(self, document: dict[str, Any]) -> str:
        self.calls += 1
        self.feeds.append(document)
        for message in document["messages"]:
            self.amazon[message["sku"]] = message["patches"][0]["value"][0]["quantity"]
        self._lost()
        return f"feed-{len(self.feeds)}"

    def feed_state(self, feed_id: str) -> FeedState:
        return FeedState("DONE", f"report-{feed_id}")

    def feed_report(self, document_id: str) -> FeedProcessingReport:
        return FeedProcessingReport.model_validate(self.report)


def a_store() -> Store:
    now = utcnow()
    store = Store(MERCHANT, STORE, name="S", marketplace_id="ATVPDKIKX0DER", region="NA", status=STATUS_ACTIVE,
                  selling_partner_id="A1LONG", settings=StoreSettings(), created_at=now)  # fmt: skip
    store.save()
    for n, sku in enumerate(SKUS, start=1):
        Listing(STORE, sku, merchant_id=MERCHANT, channel="FBM", product_type="SHIRT", last_pushed_quantity=1,
                updated_at=now).save()  # fmt: skip
        InventoryItem(warehouse_key(MERCHANT, "primary"), sku, merchant_id=MERCHANT, warehouse_id="primary",
                      on_hand=10 + n, allocated=0, updated_at=now).save()  # fmt: skip
    return store


def run(transport: Transport, settings: PushSettings, trigger: str = "schedule",
        invocation: InvocationTime = InvocationTime()) -> tuple[JobOutcome, RecordingJobQueue]:  # fmt: skip
    queue = RecordingJobQueue()
    work = inventory_push_work(lambda s: transport, settings, invocation=invocation)
    message = JobMessage(job="inventory", merchant_id=MERCHANT, store_id=STORE, trigger=trigger)  # type: ignore[arg-type]
    return StoreJobRunner(queue).run(message, work), queue


def pushed() -> dict[str, Any]:
    return {x.sku: x.last_pushed_quantity for x in Listing.query(STORE)}


def on_hand() -> dict[str, int]:
    return {x.sku: int(x.on_hand) for x in InventoryItem.query(warehouse_key(MERCHANT, "primary"))}


def test_the_invocation_running_out_stops_the_patches_and_the_next_slice_continues(stack: Any) -> None:
    a_store()
    transport = Transport()
    low = InvocationTime(remaining=lambda: 5.0, margin_seconds=15.0)
    settings = PushSettings(crossover=100)

    outcome, queue = run(transport, settings, invocation=low)
    assert transport.amazon == {"SKU-1": 11}  # the first patch always goes: every slice makes progress
    assert load_cursor(STORE, "inventory").get(SCAN_CURSOR) == "SKU-1"
    assert [(m.trigger, d) for m, d in queue.deliveries] == [("continuation", 1.0)]

    for _ in range(3):
        outcome, queue = run(transport, settings, "continuation", invocation=low)
    assert transport.amazon == {sku: 10 + n for n, sku in enumerate(SKUS, start=1)}
    assert pushed() == transport.amazon and queue.deliveries == []


@pytest.mark.parametrize("crossover", [100, 0], ids=["patch", "feed"])
def test_a_lost_answer_leaves_the_listing_as_it_was_and_the_next_run_converges(
    stack: Any, crossover: int
) -> None:
    a_store()
    stock_before = on_hand()
    transport = Transport(lose=1)
    settings = PushSettings(crossover=crossover)

    outcome, _ = run(transport, settings)  # the quota gate's repeats were spent: the runner retries later
    assert outcome.result == "error"
    assert all(x.last_push_status is None for x in Listing.query(STORE))  # nothing marked accepted or pending
    assert "feed" not in load_cursor(STORE, "inventory")

    for _ in range(3):  # the next runs send the same absolute quantities again (and read the feed's report)
        run(transport, settings)
    wanted = {sku: 10 + n for n, sku in enumerate(SKUS, start=1)}
    assert transport.amazon == wanted and pushed() == wanted
    assert on_hand() == stock_before  # the push never moves stock


def test_a_feed_report_without_its_summary_never_marks_a_listing_accepted(stack: Any) -> None:
    a_store()
    transport = Transport(report={"issues": []})  # an empty processing report
    settings = PushSettings(crossover=0, feed_poll_seconds=5)

    run(transport, settings)  # the feed goes out
    assert {x.last_push_status for x in Listing.query(STORE)} == {"pending"}
    for _ in range(2):  # read again later
        outcome, queue = run(transport, settings, "continuation")
        [(message, delay)] = queue.deliveries
        assert outcome.result == "error" and message.trigger == "continuation" and delay > 0
        assert {x.last_push_status for x in Listing.query(STORE)} == {"pending"}
    outcome, _ = run(transport, settings, "continuation")  # given up on: not processed, planned again
    assert all(x.last_pushed_quantity == 1 for x in Listing.query(STORE))
    assert "could not be read" in " ".join(e.message for e in outcome.errors)
    assert len(transport.feeds) == 2  # the same quantities sent again in a new feed


def test_a_feed_amazon_no_longer_knows_is_not_processed_and_its_quantities_are_sent_again(stack: Any) -> None:
    a_store()

    class Forgetful(Transport):  # getFeed answered 404: the adapter's NOT_FOUND
        def feed_state(self, feed_id: str) -> FeedState:
            return FeedState(NOT_FOUND) if feed_id == "feed-1" else super().feed_state(feed_id)

    transport = Forgetful()
    settings = PushSettings(crossover=0, feed_poll_seconds=5)
    run(transport, settings)  # the feed goes out
    outcome, _ = run(transport, settings, "continuation")  # Amazon no longer knows it: not processed
    assert "NOT_FOUND" in " ".join(e.message for e in outcome.errors)
    assert all(x.last_push_status != "accepted" for x in Listing.query(STORE))
    run(transport, settings)  # planned again: the same quantities in a new feed, whose report is read
    run(transport, settings, "continuation")
    assert len(transport.feeds) == 2
    assert pushed() == {sku: 10 + n for n, sku in enumerate(SKUS, start=1)}
