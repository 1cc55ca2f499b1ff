"""Inventory push on a store too big for one invocation: the plan reads the store page by page within a time
budget, saves where it stopped in the cursor and the next invocation continues there (moto; Amazon's side is an
in-memory transport that accepts everything, so the slicing is what is observed)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from fakes import RecordingJobQueue
from storesync.amazon.answers import FeedProcessingReport
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
from storesync.usecases.runner import StoreJobRunner

MERCHANT = "m_slices"
SKUS = [f"SKU-{n:02d}" for n in range(1, 8)]


class RecordingTransport:
    def __init__(self, report_issues: list[dict[str, Any]] | None = None) -> None:
        self.patched: list[tuple[str, int]] = []
        self.feeds: list[dict[str, Any]] = []
        self.report_issues = report_issues or []

    def patch_quantity(self, sku: str, product_type: str, quantity: int) -> SkuVerdict:
        self.patched.append((sku, quantity))
        return SkuVerdict(True)

    def submit_feed(self, document: dict[str, Any]) -> str:
        self.feeds.append(document)
        return f"feed-{len(self.feeds)}"

    def feed_state(self, feed_id: str) -> FeedState:
        return FeedState("DONE", f"report-{feed_id}")

    def feed_report(self, document_id: str) -> FeedProcessingReport:
        return FeedProcessingReport.model_validate(
            {"summary": {"messagesProcessed": 1}, "issues": self.report_issues}
        )


def a_store_with_changed_stock() -> Store:
    now = utcnow()
    store = Store(MERCHANT, "st_slices", name="big store", marketplace_id="ATVPDKIKX0DER", region="NA",
                  status=STATUS_ACTIVE, selling_partner_id="A1SLICES", settings=StoreSettings(),
                  created_at=now, authorized_at=now)  # fmt: skip
    store.save()
    for n, sku in enumerate(SKUS, start=1):
        Listing(store.store_id, sku, merchant_id=MERCHANT, channel="FBM", product_type="SHIRT",
                last_pushed_quantity=1, updated_at=now).save()  # fmt: skip
        InventoryItem(warehouse_key(MERCHANT, "primary"), sku, merchant_id=MERCHANT, warehouse_id="primary",
                      on_hand=10 + n, allocated=0, updated_at=now).save()  # fmt: skip
    return store


def run_once(store: Store, transport: RecordingTransport, settings: PushSettings, trigger: str) -> Any:
    ticks = itertools.count()  # every clock reading is one second later: a slow store
    work = inventory_push_work(lambda s: transport, settings, clock=lambda: float(next(ticks)))
    queue = RecordingJobQueue()
    message = JobMessage(job="inventory", merchant_id=MERCHANT, store_id=store.store_id, trigger=trigger)  # type: ignore[arg-type]
    outcome = StoreJobRunner(queue).run(message, work)
    return outcome, queue.deliveries


def scan_position(store: Store) -> Any:
    return load_cursor(store.store_id, "inventory").get(SCAN_CURSOR)


def test_patches_continue_where_the_time_budget_stopped_the_plan(stack: Any) -> None:
    store = a_store_with_changed_stock()
    transport = RecordingTransport()
    settings = PushSettings(
        crossover=100, plan_page_size=2, plan_slice_seconds=1.5, patch_slice_seconds=10**6
    )

    outcome, sent = run_once(store, transport, settings, "schedule")
    assert transport.patched == [(sku, 10 + n) for n, sku in enumerate(SKUS[:4], start=1)]
    assert scan_position(store) == "SKU-04"
    assert outcome.continue_after == 1.0 and [m.trigger for m, _ in sent] == ["continuation"]

    outcome, sent = run_once(store, transport, settings, "continuation")
    assert transport.patched[4:] == [(sku, 10 + n) for n, sku in enumerate(SKUS[4:], start=5)]
    assert scan_position(store) is None and sent == []

    run_once(store, transport, settings, "schedule")  # a new pass from the start: nothing changed
    assert len(transport.patched) == len(SKUS)
    assert Listing.get(store.store_id, "SKU-07").last_pushed_quantity == 17


def test_each_slice_sends_its_own_feed_and_its_report_is_read_before_the_next(stack: Any) -> None:
    store = a_store_with_changed_stock()
    transport = RecordingTransport()
    settings = PushSettings(crossover=1, plan_page_size=2, plan_slice_seconds=1.5, feed_poll_seconds=5)

    run_once(store, transport, settings, "schedule")
    assert [m["sku"] for m in transport.feeds[0]["messages"]] == SKUS[:4]
    assert Listing.get(store.store_id, "SKU-04").last_push_status == "pending"
    assert scan_position(store) == "SKU-04"

    run_once(store, transport, settings, "continuation")  # report of feed 1, then the rest of the store
    assert Listing.get(store.store_id, "SKU-04").last_pushed_quantity == 14
    assert [m["sku"] for m in transport.feeds[1]["messages"]] == SKUS[4:]
    assert scan_position(store) is None

    outcome, _ = run_once(store, transport, settings, "continuation")  # report of feed 2, then a new pass
    assert len(transport.feeds) == 2
    assert [Listing.get(store.store_id, s).last_pushed_quantity for s in SKUS] == list(range(11, 18))
    assert outcome.counts["unchanged"] == 4  # the next pass, sliced like the first, found nothing to send
    assert scan_position(store) == "SKU-04"


def test_a_long_feed_report_is_recorded_over_invocations_keeping_message_numbers(stack: Any) -> None:
    store = a_store_with_changed_stock()
    refusal = {"messageId": 4, "code": "90220", "severity": "ERROR", "message": "quantity refused"}
    transport = RecordingTransport(report_issues=[refusal])
    settings = PushSettings(crossover=1, plan_page_size=2, plan_slice_seconds=1.5, feed_outcome_chunk=2)
    run_once(store, transport, settings, "schedule")  # feed 1: SKU-01..04 (message 4 is SKU-04)

    outcome, sent = run_once(store, transport, replace(settings, plan_slice_seconds=0.5), "continuation")
    assert outcome.counts["pushed"] == 2 and outcome.continue_after == 1.0
    assert [Listing.get(store.store_id, s).last_push_status for s in SKUS[:4]] == [
        "accepted", "accepted", "pending", "pending"
    ]  # fmt: skip
    assert len(transport.feeds) == 1  # nothing new is planned while the report is being recorded

    run_once(store, transport, settings, "continuation")
    assert Listing.get(store.store_id, "SKU-03").last_pushed_quantity == 13
    rejected = Listing.get(store.store_id, "SKU-04")
    assert rejected.last_push_status == "rejected" and rejected.last_push_message == "quantity refused"
    assert rejected.last_pushed_quantity == 1
    assert [m["sku"] for m in transport.feeds[1]["messages"]] == SKUS[4:]


def test_when_the_patch_budget_ends_the_next_slice_starts_after_the_last_sku_sent(stack: Any) -> None:
    store = a_store_with_changed_stock()
    transport = RecordingTransport()
    settings = PushSettings(crossover=100, plan_page_size=10, plan_slice_seconds=100, patch_slice_seconds=2.5)

    outcome, _ = run_once(store, transport, settings, "schedule")
    assert [sku for sku, _ in transport.patched] == SKUS[:3]
    assert scan_position(store) == "SKU-03" and outcome.continue_after == 1.0

    outcome, _ = run_once(store, transport, settings, "continuation")
    assert [sku for sku, _ in transport.patched] == SKUS[:6]  # SKU-01..03 were not read again
    assert outcome.counts["unchanged"] == 0 and scan_position(store) == "SKU-06"

    run_once(store, transport, settings, "continuation")
    assert [sku for sku, _ in transport.patched] == SKUS and scan_position(store) is None
