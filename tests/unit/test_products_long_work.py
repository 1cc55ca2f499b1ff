"""The product import when Amazon misbehaves or the Lambda runs out of time (moto; Amazon is an in-memory fake):
- the invocation's remaining time stops a slice, saves its place and continues through the queue;
- a listings report ending CANCELLED or FATAL is asked for again, then fails the import: nothing deactivated,
  no starting inventory, never "no products";
- an FBA answer that is empty, missing a SKU or fails never sets a quantity (never 0)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

import pytest
from fakes import RecordingJobQueue
from storesync.amazon.errors import AmazonRejected, TransientAmazonError
from storesync.amazon.products_amazon import ReportState
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.job_state import load_cursor
from storesync.dal.jobs import SyncRun
from storesync.dal.products import Listing
from storesync.dal.stores import Store, StoreSettings
from storesync.jobs import JobMessage
from storesync.usecases.product_import import ImportLimits, product_import_work
from storesync.usecases.runner import JobOutcome, StoreJobRunner
from storesync.usecases.time_left import InvocationTime

HEADER = "item-name\tseller-sku\tprice\tquantity\tasin1\tfulfillment-channel\tstatus\n"


def fbm_rows(count: int) -> str:
    return "".join(f"Item {i}\tSKU-{i:03d}\t1.00\t{i + 1}\tB{i}\tDEFAULT\tActive\n" for i in range(count))


class FakeAmazon:
    """Reports end with the statuses given (one list per report asked for); FBA answers as set."""

    def __init__(self, text: str, endings: list[str] | None = None) -> None:
        self.text = text
        self.endings = list(endings or [])  # the final status of each report, in order; then DONE
        self.reports: list[str] = []
        self.fba: dict[str, int] | Exception = {}
        self.fba_asked: list[list[str]] = []

    def request_listings_report(self) -> str:
        self.reports.append(f"R{len(self.reports) + 1}")
        return self.reports[-1]

    def report_state(self, report_id: str) -> ReportState:
        index = self.reports.index(report_id)
        ending = self.endings[index] if index < len(self.endings) else "DONE"
        return ReportState("DONE", "D1") if ending == "DONE" else ReportState(ending)

    @contextmanager
    def open_report(self, document_id: str) -> Iterator[TextIO]:
        yield io.StringIO(self.text, newline="")

    def product_types(self, skus: Sequence[str]) -> dict[str, str]:
        return {sku: "HOME" for sku in skus}

    def fba_quantities(self, skus: Sequence[str]) -> dict[str, int]:
        self.fba_asked.append(list(skus))
        if isinstance(self.fba, Exception):
            raise self.fba
        return {sku: q for sku, q in self.fba.items() if sku in skus}


def a_store(starting_inventory: str = "keep") -> Store:
    now = datetime.now(UTC)
    store = Store("m1", "s1", name="S", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
                  settings=StoreSettings(starting_inventory=starting_inventory), created_at=now)  # fmt: skip
    store.save()
    return store


def run_all(
    amazon: FakeAmazon, mode: str = "full", limits: ImportLimits | None = None, **work: Any
) -> list[tuple[JobOutcome, float | None]]:
    """The first message and every continuation; each outcome with the delay its continuation asked for."""
    queue = RecordingJobQueue()
    job = product_import_work(lambda store: amazon, limits or ImportLimits(report_poll_seconds=10), **work)
    runner = StoreJobRunner(queue)
    pending = [JobMessage(job="products", mode=mode, merchant_id="m1", store_id="s1")]
    done: list[tuple[JobOutcome, float | None]] = []
    while pending:
        outcome = runner.run(pending.pop(), job)
        done.append((outcome, outcome.continue_after))
        pending = [m for m, _ in queue.deliveries]
        queue.deliveries.clear()
        assert len(done) < 100, "the import does not end"
    return done


def runs() -> list[SyncRun]:
    return sorted(SyncRun.query("s1"), key=lambda r: r.run_key)


def test_the_invocation_running_out_stops_the_slice_saves_its_place_and_continues(stack: Any) -> None:
    a_store()
    amazon = FakeAmazon(HEADER + fbm_rows(250))
    left = iter([60.0, 5.0] + [60.0] * 1000)  # after its first chunk of rows, the slice reads 5 s left

    outcomes = run_all(
        amazon,
        limits=ImportLimits(report_poll_seconds=10, chunk_rows=50, slice_rows=10_000, slice_seconds=10**6),
        invocation=InvocationTime(remaining=lambda: next(left), margin_seconds=15.0),
    )

    new_per_slice = [o.counts.get("new", 0) for o, _ in outcomes]
    assert new_per_slice[:3] == [0, 50, 200]  # start; 50 rows then out of time; the rest
    assert outcomes[1][1] == 0  # continued at once through the queue
    assert len(list(Listing.query("s1"))) == 250
    assert load_cursor("s1", "products").get("import") is None  # finished


def test_without_an_invocation_limit_the_slice_budget_alone_counts(stack: Any) -> None:
    a_store()
    amazon = FakeAmazon(HEADER + fbm_rows(120))
    outcomes = run_all(amazon, limits=ImportLimits(report_poll_seconds=10, chunk_rows=50))
    assert [o.counts.get("new", 0) for o, _ in outcomes] == [0, 120]


@pytest.mark.parametrize("ending", ["CANCELLED", "FATAL"])
def test_a_report_ending_cancelled_or_fatal_is_retried_then_fails_and_changes_nothing(
    stack: Any, ending: str
) -> None:
    store = a_store(starting_inventory="match_amazon")
    now = datetime.now(UTC)
    for sku in ("OLD-1", "OLD-2"):
        Listing("s1", sku, merchant_id="m1", channel="FBM", status="active", product_type="HOME",
                updated_at=now).save()  # fmt: skip
    InventoryItem(warehouse_key("m1", "primary"), "OLD-1", merchant_id="m1", warehouse_id="primary",
                  on_hand=7, allocated=0, updated_at=now).save()  # fmt: skip
    amazon = FakeAmazon(HEADER + fbm_rows(3), endings=[ending] * 3)

    outcomes = run_all(amazon, mode="full")

    assert amazon.reports == ["R1", "R2", "R3"]  # asked again twice, each after a delay
    delays = [d for o, d in outcomes if o.result == "error"]
    assert len(delays) == 2 and all(d and d > 0 for d in delays)
    last, _ = outcomes[-1]
    assert last.result == "failed" and last.continue_after is None
    assert "failed" in last.summary and "no products" not in last.summary
    assert all(x.status == "active" for x in Listing.query("s1"))  # nothing deactivated
    assert {x.sku for x in Listing.query("s1")} == {"OLD-1", "OLD-2"}
    assert InventoryItem.get(warehouse_key("m1", "primary"), "OLD-1").on_hand == 7
    cursor = load_cursor(store.store_id, "products")
    assert not cursor.get("starting_inventory_done") and "import" not in cursor
    final = runs()[-1]
    assert final.result == "failed"
    words = " ".join(e.message for e in final.errors)
    assert ("cancelled the listings report" if ending == "CANCELLED" else "could not produce") in words


def test_a_cancelled_report_then_a_good_one_imports_normally(stack: Any) -> None:
    a_store()
    amazon = FakeAmazon(HEADER + fbm_rows(3), endings=["CANCELLED"])
    outcomes = run_all(amazon, mode="full")
    assert amazon.reports == ["R1", "R2"]
    assert outcomes[-1][0].final_result() == "ok" and len(list(Listing.query("s1"))) == 3


def fba_text(*skus: str) -> str:
    return HEADER + "".join(f"Item\t{sku}\t1.00\t\tB1\tAMAZON_NA\tActive\n" for sku in skus)


def test_an_empty_fba_answer_never_sets_a_quantity_and_fails_visibly(stack: Any) -> None:
    a_store()
    now = datetime.now(UTC)
    Listing("s1", "FBA-1", merchant_id="m1", channel="FBA", status="active", product_type="HOME",
            amazon_quantity=12, updated_at=now).save()  # fmt: skip
    amazon = FakeAmazon(fba_text("FBA-1", "FBA-2"))
    amazon.fba = {}  # Amazon's answer lists none of the SKUs asked for

    outcomes = run_all(
        amazon, mode="incremental", limits=ImportLimits(report_poll_seconds=10, max_failures=3)
    )

    assert Listing.get("s1", "FBA-1").amazon_quantity == 12  # untouched, never 0
    assert Listing.get("s1", "FBA-2").amazon_quantity is None  # unknown, never 0
    assert len(amazon.fba_asked) == 1 + 3  # during the rows, then the fba phase's attempts
    last, _ = outcomes[-1]
    assert last.result == "failed" and last.continue_after is None  # stopped: no continuation
    words = " ".join(e.message for run in runs() for e in run.errors)
    assert "FBA quantities could not be read" in words and "listed none of the 2 SKUs" in words
    assert "stopped after 3 failed attempts" in words
    assert load_cursor("s1", "products")["import"]["phase"] == "fba"  # kept: the next run continues there

    amazon.fba = {"FBA-1": 3, "FBA-2": 0}  # Amazon answers again; the next scheduled run (not stale yet)
    outcomes = run_all(amazon, mode="incremental")
    assert [x.amazon_quantity for x in Listing.query("s1")] == [3, 0]  # Amazon's answer, 0 included
    assert outcomes[-1][0].final_result() == "ok" and "import" not in load_cursor("s1", "products")


def test_a_failed_fba_call_leaves_quantities_and_the_fba_phase_takes_them_later(stack: Any) -> None:
    a_store()
    amazon = FakeAmazon(fba_text("FBA-1", "FBA-2"))
    amazon.fba = TransientAmazonError("Amazon failed on getInventorySummaries (503): retrying later")
    queue = RecordingJobQueue()
    job = product_import_work(lambda store: amazon, ImportLimits(report_poll_seconds=10))
    runner = StoreJobRunner(queue)
    runner.run(JobMessage(job="products", mode="incremental", merchant_id="m1", store_id="s1"), job)
    [(message, _)] = queue.deliveries
    queue.deliveries.clear()

    outcome = runner.run(message, job)  # the rows: written without quantities, the FBA read deferred
    assert {x.sku: x.amazon_quantity for x in Listing.query("s1")} == {"FBA-1": None, "FBA-2": None}
    assert outcome.result == "error" and (outcome.continue_after or 0) > 0

    amazon.fba = {"FBA-1": 4}  # Amazon answers, but not for FBA-2
    [(message, _)] = queue.deliveries
    outcome = runner.run(message, job)
    assert {x.sku: x.amazon_quantity for x in Listing.query("s1")} == {"FBA-1": 4, "FBA-2": None}
    assert outcome.counts["fba_quantity_unanswered"] == 1 and outcome.final_result() == "ok"


def test_a_failed_create_report_is_retried_by_the_import_itself(stack: Any) -> None:
    a_store()
    amazon = FakeAmazon(HEADER + fbm_rows(3))
    request = amazon.request_listings_report
    failures = iter([TransientAmazonError("Amazon failed on createReport (503): retrying later")])

    def flaky() -> str:
        for failure in failures:
            raise failure
        return request()

    amazon.request_listings_report = flaky  # type: ignore[method-assign]
    outcomes = run_all(amazon, mode="incremental")

    assert outcomes[0][0].result == "error" and (outcomes[0][1] or 0) > 0  # a continuation that carries on
    assert outcomes[-1][0].final_result() == "ok" and len(list(Listing.query("s1"))) == 3


def test_unreadable_product_types_are_deferred_and_the_rows_still_written(stack: Any) -> None:
    a_store()
    amazon = FakeAmazon(HEADER + fbm_rows(3))
    types = amazon.product_types
    failures = iter([TransientAmazonError("searchListingsItems: (answer): the answer is empty")])

    def flaky(skus: Sequence[str]) -> dict[str, str]:
        for failure in failures:
            raise failure
        return types(skus)

    amazon.product_types = flaky  # type: ignore[method-assign]
    outcomes = run_all(amazon, mode="incremental")

    assert outcomes[1][0].counts.get("new") == 3  # written without their type
    assert {x.product_type for x in Listing.query("s1")} == {"HOME"}  # the types phase caught up
    assert outcomes[-1][0].final_result() == "ok"


def test_a_short_download_in_the_deactivation_deactivates_nothing_and_is_read_again(stack: Any) -> None:
    a_store()
    full = HEADER + fbm_rows(3)
    amazon = FakeAmazon(full)
    opened: list[str] = []
    real_open = amazon.open_report

    @contextmanager
    def short_second(document_id: str) -> Iterator[TextIO]:
        opened.append(document_id)
        amazon.text = HEADER + fbm_rows(1) if len(opened) == 2 else full  # the 2nd download breaks off
        with real_open(document_id) as stream:
            yield stream

    amazon.open_report = short_second  # type: ignore[method-assign]
    run_all(amazon, mode="full")  # a first full import
    assert len(opened) == 3  # rows, the short read (nothing deactivated), the read again
    assert {x.sku: x.status for x in Listing.query("s1")} == {f"SKU-{i:03d}": "active" for i in range(3)}
    assert any("gave 1 records where it had 3" in e.message for run in runs() for e in run.errors)


def test_a_refused_fba_call_during_the_rows_still_writes_them_without_quantities(stack: Any) -> None:
    a_store()
    amazon = FakeAmazon(fba_text("FBA-1"))
    amazon.fba = AmazonRejected("getInventorySummaries", 400, "InvalidInput", "sellerSkus: refused")
    queue = RecordingJobQueue()
    job = product_import_work(lambda store: amazon, ImportLimits(report_poll_seconds=10))
    runner = StoreJobRunner(queue)
    runner.run(JobMessage(job="products", mode="incremental", merchant_id="m1", store_id="s1"), job)
    [(message, _)] = queue.deliveries

    # the fba phase then meets the refusal too: the runner records it (its policy, not this test's)
    with contextlib.suppress(AmazonRejected):
        runner.run(message, job)
    assert {x.sku: x.amazon_quantity for x in Listing.query("s1")} == {"FBA-1": None}  # written, untouched
    assert load_cursor("s1", "products")["import"]["phase"] == "fba"  # kept: the next run asks again
