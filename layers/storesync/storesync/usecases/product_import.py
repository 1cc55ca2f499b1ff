"""The product import job: one store's listings from Amazon's GET_MERCHANT_LISTINGS_ALL_DATA report.

An import runs in phases, each invocation doing a bounded slice and saving its place in the job cursor:

    report      createReport, then getReport on continuations (SQS delay) until DONE: no Lambda waits. A
                report that ends CANCELLED or FATAL (or whose document cannot be read) is asked for again,
                with backoff, up to `report_attempts` times; then the import fails (see "Failures" below)
    rows        getReportDocument, stream + gunzip the document, skip the rows done already, and write
                products (the merchant's, by SKU) and listings (the store's) in batches of `chunk_rows`;
                each listing is written once, with its product type (searchListingsItems, 20 SKUs a call,
                asked only for listings lacking it) and, for FBA, Amazon's stock (getInventorySummaries,
                50 SKUs a call) already on it; on the store's first import with "match what is in Amazon",
                the starting inventory
    types       only when a throttle made a chunk go without: searchListingsItems for the store's
                listings that still lack a product type
    fba         only when a throttle or a failed/empty FBA answer made a chunk go without:
                getInventorySummaries for the store's FBA listings
    deactivate  full mode: listings no longer in the report become inactive (products are never deleted);
                one paginated read of the store's listings
    finish      warnings on the store, the starting-inventory flag, the totals in the sync log

Amazon's quantities are only ever taken from an answer that has them: an FBA listing missing from
getInventorySummaries' answer keeps the quantity it had (never 0), and an answer listing none of the SKUs asked
for is a failed call. An FBA read that fails during the rows leaves the chunk's quantities untouched and
defers them to the fba phase.

Time: a slice stops starting new chunks (rows, pages, deactivation steps) after `slice_seconds`, or as soon as
the invocation's remaining time (Lambda's, passed in as `InvocationTime`) falls below its margin; it saves
its place and continues through the queue.

Failures: a transient Amazon failure or an answer that cannot be read saves the import's place and continues
after a backoff (result "error": the runner's retry); after `max_failures` in a row the run is "failed" (no
continuation) and the import keeps its place: the next scheduled or manual run continues from there. A
listings report that ends CANCELLED or FATAL (or cannot be read) is asked for again up to `report_attempts`
times; then the import ends "failed": the reason in the sync log, no listing deactivated, no starting inventory
marked done unless all its rows were applied, and the next scheduled run starts a new import. Amazon also
answers CANCELLED when a store has no listings at all; that cannot be told from a cancelled report, so it is
reported in the same plain words ("Amazon cancelled the listings report ...; Amazon does so when the store has
no listings ..."), never read as "no products". (The simulator answers a store without listings with a DONE
report that has only its header row: an import of nothing, which deactivates nothing.)

Cursor: {"starting_inventory_done": bool, "starting_inventory": "match_amazon"|"keep", "import": {...}}.
The import state holds the report id, the document id, the row offset, the per-phase SKU positions and the
running totals. A scheduled/manual message that finds an import in progress (touched recently, and not
stopped after failures) is dropped: the import's own continuation carries it on, so duplicate deliveries never
double-count. A continuation that
finds no import in progress (a stale duplicate) does nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from storesync.amazon.errors import (
    AmazonAnswerInvalid,
    AmazonError,
    AmazonRejected,
    Throttled,
    TransientAmazonError,
)
from storesync.amazon.products_amazon import ReportState
from storesync.clock import iso, utcnow
from storesync.dal import catalog, stock_ledger
from storesync.dal.products import Listing
from storesync.dal.store_queries import set_warnings
from storesync.dal.stores import Store
from storesync.domain.notices import Notice, NoticeCode, notice, of_kinds, replace_notices
from storesync.domain.products import (
    FBA,
    WARNING_CODES,
    ListingsReportReader,
    ParsedRecord,
    ReportFormatError,
    ReportRow,
    SkippedRow,
    SkuWarnings,
    plan_listings,
    starting_quantities,
)
from storesync.observability import logger
from storesync.usecases.order_upsert import release_unknown_sku_holds
from storesync.usecases.runner import TRANSIENT_RETRY_SECONDS, JobContext, JobOutcome, JobWork, Progress
from storesync.usecases.time_left import InvocationTime

MATCH_AMAZON = "match_amazon"
STEP_LABELS = {  # the import's steps as the merchant reads them (the store page's progress bar)
    "report": "Waiting for Amazon's listings report",
    "rows": "Reading the listings report",
    "types": "Reading product types from Amazon",
    "fba": "Reading FBA quantities from Amazon",
    "deactivate": "Marking listings no longer on Amazon inactive",
    "finish": "Finishing",
}
ROW_MESSAGES_PER_RUN = 20  # skipped-row explanations written to one sync-log entry


class ProductsAmazon(Protocol):
    """What the product import needs of Amazon (SpApiProductsAmazon; an in-memory fake in unit tests)."""

    def request_listings_report(self) -> str: ...

    def report_state(self, report_id: str) -> ReportState: ...

    def open_report(self, document_id: str) -> AbstractContextManager[TextIO]: ...

    def product_types(self, skus: Sequence[str]) -> dict[str, str]: ...

    def fba_quantities(self, skus: Sequence[str]) -> dict[str, int]: ...


@dataclass(frozen=True)
class ImportLimits:
    slice_rows: int = 5_000  # report rows one invocation writes at most
    slice_seconds: float = 30.0  # one invocation stops starting new chunks after this
    report_poll_seconds: float = 30.0  # delay between getReport polls
    stale_after_seconds: float = 900.0  # an import not touched for this long is resumed by the next message
    chunk_rows: int = 100  # rows per batch get / batch write / cursor save
    types_page: int = 100  # listings per product-type page (5 searchListingsItems calls)
    fba_page: int = 100  # listings per FBA page (2 getInventorySummaries calls)
    deactivate_page: int = 1_000  # listings per DynamoDB page of the deactivation read
    report_attempts: int = 3  # listings reports asked for when one ends CANCELLED/FATAL or cannot be read
    max_failures: int = 5  # transient failures / unreadable answers in a row before the import fails


def product_import_work(
    amazon_for: Callable[[Store], ProductsAmazon],
    limits: ImportLimits = ImportLimits(),
    clock: Callable[[], float] = time.monotonic,
    invocation: InvocationTime = InvocationTime(),
) -> JobWork:
    def work(ctx: JobContext) -> JobOutcome:
        return ProductImport(ctx, amazon_for(ctx.store), limits, clock, invocation).run()

    return work


class ProductImport:
    def __init__(
        self,
        ctx: JobContext,
        amazon: ProductsAmazon,
        limits: ImportLimits,
        clock: Callable[[], float],
        invocation: InvocationTime = InvocationTime(),
    ) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.amazon = amazon
        self.limits = limits
        self.clock = clock
        self.invocation = invocation
        self.deadline = clock() + limits.slice_seconds
        self.cursor: dict[str, Any] = dict(ctx.cursor)
        self.state: dict[str, Any] = dict(self.cursor.get("import") or {})
        self.outcome = JobOutcome()
        self._others: list[Store] | None = None

    # the run --------------------------------------------------------------------------------------------
    def run(self) -> JobOutcome:
        message = self.ctx.message
        if not self.state:
            if message.trigger == "continuation":
                return JobOutcome(result="skipped", summary="no product import in progress")
            self._start(message.mode)
        elif message.trigger != "continuation":
            if message.mode == "full" and self.state["mode"] != "full" and not self.state.get("then_full"):
                self.state["then_full"] = True
                self._save()
            recent = time.time() - self.state.get("touched_at", 0) < self.limits.stale_after_seconds
            if recent and not self.state.get("gave_up"):  # a stopped import continues with the next run
                return JobOutcome(result="skipped", summary="a product import is already in progress")
        self.state.pop("gave_up", None)
        try:
            self._advance()
        except Throttled as exc:  # keep this slice's counts in the sync log; continue when the quota allows
            self._save()
            self.outcome.result, self.outcome.summary = "throttled", str(exc)
            self.outcome.continue_after = exc.retry_after
        except (TransientAmazonError, AmazonAnswerInvalid) as exc:
            self._failed_attempt(str(exc))
        except AmazonError:
            self._save()  # keep what this slice did; the runner decides (e.g. a revoked grant)
            raise
        return self.outcome

    def _failed_attempt(self, reason: str) -> None:
        """A transient failure or an unreadable answer: continue after a backoff, or, after `max_failures` in
        a row, stop: the run is "failed" (visible), no continuation, and the import keeps its place for the
        next scheduled (or manual) run, which continues from there."""
        failures = int(self.state.get("failures", 0)) + 1
        self.state["failures"] = failures
        self.outcome.errors.append(notice(NoticeCode.AMAZON_UNAVAILABLE, reason=reason))
        self.outcome.result = "error"
        if failures >= self.limits.max_failures:
            self.outcome.errors.append(notice(NoticeCode.PRODUCT_IMPORT_GAVE_UP, attempts=failures))
            self.state["failures"] = 0  # the next run has its full number of attempts
            self.state["gave_up"] = True
            self._save()
            self.outcome.result, self.outcome.continue_after = "failed", None
            self.outcome.summary = (
                f"{self.state['mode']} product import stopped after {failures} failed attempts"
            )
            return
        self._save()
        self.outcome.continue_after = TRANSIENT_RETRY_SECONDS  # a failed attempt: the runner sets the backoff

    def _start(self, mode: str) -> None:
        """A new import (saved before Amazon is asked, so a failed createReport is retried like any step)."""
        first = not self.cursor.get("starting_inventory_done")
        self.state = {
            "id": uuid.uuid4().hex[:12],
            "mode": "full" if mode == "full" else "incremental",
            "phase": "report",
            "report_id": None,  # the report phase asks for it
            "document_id": None,
            "row_offset": 0,
            "rows_seen": 0,
            "first_import": first,
            "starting_inventory": first and self.store.settings.starting_inventory == MATCH_AMAZON,
            "started_at": iso(utcnow()),
            "totals": {},
            "warnings": {},
            "report_attempts": 1,
        }
        self._save()

    def _advance(self) -> None:
        phases: dict[str, Callable[[], bool]] = {
            "report": self._report,
            "rows": self._rows,
            "types": self._types,
            "fba": self._fba,
            "deactivate": self._deactivate,
        }
        while True:
            phase = self.state["phase"]
            if phase == "finish":
                self._finish()
                return
            if not phases[phase]():  # the phase has more to do (or waits on Amazon)
                self._progressed()
                self._save()
                if self.outcome.continue_after is None:
                    self.outcome.continue_after = 0
                return
            self._progressed()
            if self._out_of_time():
                self._save()
                self.outcome.continue_after = 0
                return

    def _progressed(self) -> None:
        """A phase step went through: the failures in a row start counting anew."""
        self.state.pop("failures", None)

    def _next_phase(self, phase: str) -> bool:
        self.state["phase"] = phase
        self._save()
        return True

    def _out_of_time(self) -> bool:
        """The slice's budget is spent or the invocation is about to time out: start nothing new."""
        return self.clock() >= self.deadline or self.invocation.running_out()

    def _count(self, key: str, n: int = 1) -> None:
        if n:
            self.outcome.add(key, n)
            totals = self.state.setdefault("totals", {})
            totals[key] = totals.get(key, 0) + n

    def _save(self) -> None:
        self.state["touched_at"] = time.time()
        self.cursor["import"] = self.state
        self.ctx.save_cursor(self.cursor)
        self._report_progress()

    def _report_progress(self) -> None:
        """Where the import is: its step among the steps this import has, and the items of that step done (the
        report's rows: `expected` is the report's record count once it was read through)."""
        state = self.state
        steps = ["report", "rows"]
        steps += ["types"] if state.get("types_deferred") else []
        steps += ["fba"] if state.get("fba_deferred") else []
        steps += ["deactivate"] if state["mode"] == "full" else []
        phase = state["phase"]
        totals = state.get("totals", {})
        done, expected = {
            "report": (0, None),
            "rows": (int(state.get("row_offset", 0)), state.get("rows_expected")),
            "types": (int(totals.get("product_types", 0)), None),
            "fba": (int(totals.get("fba_quantities", 0)), None),
            "deactivate": (int(totals.get("deactivated", 0)), None),
        }.get(phase, (int(state.get("row_offset", 0)), state.get("rows_expected")))
        self.ctx.report_progress(
            Progress(
                step=phase,
                label=STEP_LABELS.get(phase, phase),
                step_number=steps.index(phase) + 1 if phase in steps else len(steps),
                steps=len(steps),
                done=done,
                expected=None if expected is None else int(expected),
                unit="rows" if phase in ("rows", "finish") else "listings",
                started_at=state.get("started_at"),
                first_import=bool(state.get("first_import")),
            )
        )

    # phases ---------------------------------------------------------------------------------------------
    def _report(self) -> bool:
        if not self.state.get("report_id"):
            self.state["report_id"] = self.amazon.request_listings_report()
            attempts = int(self.state.get("report_attempts", 1))
            self.outcome.summary = f"{self.state['mode']} product import started: listings report requested"
            if attempts > 1:
                self.outcome.summary = f"listings report requested again (attempt {attempts})"
            self.outcome.continue_after = self.limits.report_poll_seconds
            return False
        report = self.amazon.report_state(self.state["report_id"])
        if report.status == "DONE" and report.document_id:
            self.state["document_id"] = report.document_id
            return self._next_phase("rows")
        if report.status in ("IN_QUEUE", "IN_PROGRESS"):
            self.outcome.summary = f"waiting for Amazon's listings report ({report.status.lower()})"
            self.outcome.continue_after = self.limits.report_poll_seconds
            return False
        if report.status == "CANCELLED":  # no data, or cancelled: either way no answer about the listings
            return self._report_again(
                notice(NoticeCode.LISTINGS_REPORT_CANCELLED, attempts=int(self.state["report_attempts"]))
            )
        return self._report_again(notice(NoticeCode.LISTINGS_REPORT_FAILED))

    def _report_again(self, why: Notice) -> bool:
        """The report gave no listings to read (CANCELLED, FATAL, unreadable): a failed step, never "no
        products". Ask for a new report after a backoff (the next invocation asks), or after `report_attempts`
        end the import failed."""
        self.outcome.errors.append(why)
        self.outcome.result = "error"
        attempts = int(self.state.get("report_attempts", 1))
        if attempts >= self.limits.report_attempts:
            self.state["failed"] = True
            return self._next_phase("finish")
        self.state.update(phase="report", report_id=None, document_id=None, report_attempts=attempts + 1)
        self._save()
        self.outcome.summary = f"Amazon's listings report ended without listings (attempt {attempts}); a new one will be asked for"
        self.outcome.continue_after = TRANSIENT_RETRY_SECONDS  # a failed attempt: the runner sets the backoff
        return False

    def _rows(self) -> bool:
        written = 0
        with self.amazon.open_report(self.state["document_id"]) as stream:
            reader = ListingsReportReader(stream)
            try:
                records = reader.records(start_after=int(self.state["row_offset"]))
                chunk: list[ParsedRecord] = []
                for record in records:
                    chunk.append(record)
                    if len(chunk) < self.limits.chunk_rows:
                        continue
                    self._apply_rows(chunk, reader.record)
                    written += len(chunk)
                    chunk = []
                    if written >= self.limits.slice_rows or self._out_of_time():
                        self._count_rows(reader, records)
                        return False
                self._apply_rows(chunk, reader.record)
                self.state["rows_expected"] = reader.record
            except ReportFormatError as exc:
                if int(self.state.get("row_offset", 0)):  # read before: this download broke, not the report
                    raise TransientAmazonError(
                        f"Amazon's listings report could not be read again: {exc}"
                    ) from exc
                return self._report_again(notice(NoticeCode.LISTINGS_REPORT_UNREADABLE, reason=str(exc)))
        self.state["rows_done"] = True
        return self._next_phase(self._after_rows())

    def _count_rows(self, reader: ListingsReportReader, records: Iterator[ParsedRecord]) -> None:
        """Once per import, read the rest of the open report without writing anything: its record count is
        the rows step's `expected` (a progress figure only; a format error is left for the rows to meet)."""
        if self.state.get("rows_expected") is not None:
            return
        try:
            for _ in records:
                pass
        except ReportFormatError:
            return
        self.state["rows_expected"] = reader.record

    def _after_rows(self) -> str:
        """The phase after the rows: the catch-up passes only when a throttle deferred their work."""
        if self.state.get("types_deferred"):
            return "types"
        return self._after_types()

    def _after_types(self) -> str:
        if self.state.get("fba_deferred"):
            return "fba"
        return self._after_fba()

    def _after_fba(self) -> str:
        return "deactivate" if self.state["mode"] == "full" else "finish"

    def _apply_rows(self, records: list[ParsedRecord], offset: int) -> None:
        if not records:
            return
        rows = [r for r in records if isinstance(r, ReportRow)]
        skipped = [r for r in records if isinstance(r, SkippedRow)]
        skus = [r.sku for r in rows]
        store = self.store
        listings = catalog.load_listings(store.store_id, skus)
        products = catalog.load_products(store.merchant_id, skus)
        plan = plan_listings(
            rows,
            self.state["mode"],
            {sku: catalog.listing_facts(item) for sku, item in listings.items()},
            {sku: catalog.product_facts(item) for sku, item in products.items()},
        )
        to_write = [catalog.new_listing(store, facts) for facts in plan.new_listings]
        to_write += [catalog.changed_listing(listings[f.sku], f) for f in plan.changed_listings]
        throttled = self._enrich(rows, to_write, listings)
        catalog.save_all(to_write)
        catalog.save_all(
            [catalog.product_item(store.merchant_id, f, None) for f in plan.new_products]
            + [catalog.product_item(store.merchant_id, f, products[f.sku]) for f in plan.changed_products]
        )
        if self.state.get("starting_inventory"):
            quantities = starting_quantities(rows)
            stock_ledger.apply_starting_inventory(store.merchant_id, quantities)
            self._count("starting_inventory", len(quantities))
        # orders that waited for these SKUs (unknown-SKU hold): allocated now, the hold lifted
        release_unknown_sku_holds(
            store,
            [f.sku for f in plan.new_listings] + [f.sku for f in plan.new_products],
            events=self.ctx.events,
        )
        self._observe_warnings(rows)
        self._count("new", len(plan.new_listings))
        self._count("updated", len(plan.changed_listings))
        self._count("unchanged", plan.unchanged + plan.known)
        self._count("new_products", len(plan.new_products))
        self._skip(skipped + plan.duplicates)
        self.state["rows_seen"] = int(self.state.get("rows_seen", 0)) + len(rows)
        self.state["row_offset"] = offset
        self._save()
        if throttled is not None:  # the chunk is written; its missing details wait for the catch-up pass
            raise throttled

    def _enrich(
        self, rows: list[ReportRow], to_write: list[Listing], stored: dict[str, Listing]
    ) -> Throttled | None:
        """Put the product type and (FBA) Amazon's stock on the listings before they are written, so each
        listing is written once. Known listings that only gain these details are appended to `to_write`.
        A throttle leaves the rest for the catch-up phases (flagged in the state) and is returned; a failed,
        refused (FBA) or unreadable answer leaves them for the catch-up phases too (the rows are written all
        the same; a listing's quantity is never set without Amazon's answer)."""
        writing = {item.sku: item for item in to_write}
        active = {
            r.sku: writing.get(r.sku) or stored[r.sku]
            for r in rows
            if r.sku in writing or (r.sku in stored and stored[r.sku].status == "active")
        }
        lacking = [sku for sku, item in active.items() if not item.product_type]
        fba = [sku for sku, item in active.items() if item.channel == FBA]
        touched: dict[str, Listing] = {}
        throttled: Throttled | None = None
        try:
            if lacking:
                found_types = self.amazon.product_types(lacking)
                for sku, product_type in found_types.items():
                    if sku in active:
                        active[sku].product_type = product_type
                        touched[sku] = active[sku]
                self._count("product_types", len(found_types))
        except Throttled as exc:
            self.state["types_deferred"] = True
            throttled = exc
        except (TransientAmazonError, AmazonAnswerInvalid) as exc:  # the types phase asks again
            self.state["types_deferred"] = True
            logger.warning("product types not read: deferred", extra={"reason": str(exc)})
        try:
            if fba and throttled is None:
                changed = self._take_fba_quantities([active[sku] for sku in fba], self._fba_answer(fba))
                touched.update((item.sku, item) for item in changed)
            elif fba:
                self.state["fba_deferred"] = True
        except Throttled as exc:
            self.state["fba_deferred"] = True
            throttled = exc
        except (TransientAmazonError, AmazonAnswerInvalid, AmazonRejected) as exc:  # the fba phase asks again
            self.state["fba_deferred"] = True
            self.outcome.errors.append(notice(NoticeCode.FBA_QUANTITIES_NOT_READ, reason=str(exc)))
            logger.warning("FBA quantities not read: deferred", extra={"reason": str(exc)})
        to_write += [item for sku, item in touched.items() if sku not in writing]
        return throttled

    def _fba_answer(self, skus: list[str]) -> dict[str, int]:
        """Amazon's fulfillable quantities of `skus`. An answer that lists none of them is no answer (a failed
        call), never "Amazon holds 0"."""
        found = self.amazon.fba_quantities(skus)
        if skus and not any(sku in found for sku in skus):
            raise TransientAmazonError(
                f"Amazon's FBA inventory answer (getInventorySummaries) listed none of the {len(skus)} SKUs "
                "asked for"
            )
        return found

    def _take_fba_quantities(self, listings: list[Listing], found: dict[str, int]) -> list[Listing]:
        """Put Amazon's quantity on each listing it answered for; a listing missing from the answer keeps
        the quantity it had (it is counted, never set to 0). Answers the listings changed."""
        changed: list[Listing] = []
        for item in listings:
            quantity = found.get(item.sku)
            if quantity is None:
                self._count("fba_quantity_unanswered")
                continue
            if item.amazon_quantity is None or int(item.amazon_quantity) != quantity:
                item.amazon_quantity = quantity
                item.updated_at = utcnow()
                changed.append(item)
        self._count("fba_quantities", len(changed))
        return changed

    def _skip(self, skipped: list[SkippedRow]) -> None:
        self._count("skipped", len(skipped))
        for row in skipped:
            reasons = self.state.setdefault("skip_reasons", {})
            reasons[row.reason] = reasons.get(row.reason, 0) + 1
            if len(self.outcome.errors) < ROW_MESSAGES_PER_RUN:
                self.outcome.errors.append(row.notice())
            logger.warning("report row skipped", extra={"record": row.record, "reason": row.reason})

    def _observe_warnings(self, rows: list[ReportRow]) -> None:
        if self._others is None:
            self._others = catalog.other_stores(self.store)
        if not self._others or not rows:
            return
        tally = SkuWarnings.from_json(self.state.get("warnings"))
        skus = [r.sku for r in rows]
        tally.observe(
            {r.sku: r.channel for r in rows}, catalog.other_listings(self.store, self._others, skus)
        )
        self.state["warnings"] = tally.to_json()

    def _types(self) -> bool:
        def with_types(chunk: list[Listing]) -> list[Listing]:
            found = self.amazon.product_types([item.sku for item in chunk])
            typed = [item for item in chunk if item.sku in found]
            for item in typed:
                item.product_type = found[item.sku]
            return typed

        return self._listings_pass(
            "types_after", catalog.lacking_product_type(), with_types,
            page_size=self.limits.types_page, chunk_size=20, counted_as="product_types", then=self._after_types,
        )  # fmt: skip

    def _fba(self) -> bool:
        def with_quantities(chunk: list[Listing]) -> list[Listing]:
            return self._take_fba_quantities(chunk, self._fba_answer([item.sku for item in chunk]))

        return self._listings_pass(
            "fba_after", catalog.fba_listings(), with_quantities,
            page_size=self.limits.fba_page, chunk_size=50, counted_as=None, then=self._after_fba,
        )  # fmt: skip

    def _listings_pass(
        self,
        cursor: str,
        condition: Any,
        update: Callable[[list[Listing]], list[Listing]],
        *,
        page_size: int,
        chunk_size: int,
        counted_as: str | None,
        then: Callable[[], str],
    ) -> bool:
        """The store's listings matching `condition`, in SKU order from `state[cursor]` on, `chunk_size` at a
        time through `update` (which answers the listings it changed, saved here); resumable between slices.
        True once every listing was seen and the phase `then()` is next."""
        while True:  # at least one page a slice: every slice makes progress
            page = catalog.listings_after(self.store.store_id, self.state.get(cursor), page_size, condition)
            if not page:
                return self._next_phase(then())
            for start in range(0, len(page), chunk_size):
                chunk = page[start : start + chunk_size]
                changed = update(chunk)
                catalog.save_all(changed)
                if counted_as:
                    self._count(counted_as, len(changed))
                self.state[cursor] = chunk[-1].sku
            self._save()
            if self._out_of_time():
                return False

    def _deactivate(self) -> bool:
        if not self.state.get("rows_seen"):
            self.outcome.errors.append(notice(NoticeCode.LISTINGS_REPORT_EMPTY))
            return self._next_phase("finish")
        with self.amazon.open_report(self.state["document_id"]) as stream:
            reader = ListingsReportReader(stream)
            try:
                present = {r.sku for r in reader.records() if r.sku}
            except ReportFormatError as exc:
                raise TransientAmazonError(
                    f"Amazon's listings report could not be read again: {exc}"
                ) from exc
        if reader.record < int(self.state.get("row_offset", 0)):  # this download is short: deactivate nothing
            raise TransientAmazonError(
                f"Amazon's listings report gave {reader.record} records where it had "
                f"{self.state['row_offset']}: it is read again"
            )
        gone: list[str] = []

        def flush() -> None:
            stored = catalog.load_listings(self.store.store_id, gone)
            for item in stored.values():
                item.status = "inactive"
                item.updated_at = utcnow()
            catalog.save_all(list(stored.values()))
            self._count("deactivated", len(stored))
            gone.clear()

        skus = catalog.listing_skus_from(
            self.store.store_id,
            self.state.get("deactivate_after"),
            self.limits.deactivate_page,
            catalog.active_listings(),
        )
        for sku in skus:  # one paginated read of the store's active SKUs (the SKU only: a light read)
            if sku not in present:
                gone.append(sku)
                if len(gone) >= self.limits.chunk_rows:
                    flush()
            self.state["deactivate_after"] = sku
            if self._out_of_time():
                flush()
                self._save()
                return False
        flush()
        return self._next_phase("finish")

    def _finish(self) -> None:
        state = self.state
        failed = bool(state.get("failed"))
        if failed:
            self.outcome.result = "failed"  # never "ok" nor "nothing to do"; no continuation
        if state.get("first_import") and (not failed or state.get("rows_done")):  # every row was applied
            self.cursor["starting_inventory_done"] = True
            self.cursor["starting_inventory"] = MATCH_AMAZON if state.get("starting_inventory") else "keep"
            self.cursor["starting_inventory_at"] = iso(utcnow())
        if not failed:
            warnings = SkuWarnings.from_json(state.get("warnings")).notices()
            current = list(self.store.warnings or [])
            wanted = replace_notices(current, of_kinds(*WARNING_CODES), warnings)
            if wanted != current:
                set_warnings(self.store, wanted)
        self.outcome.summary = self._summary()
        then_full = bool(state.get("then_full")) and not failed  # after a failure: the next schedule
        self.cursor.pop("import", None)
        self.state = {}
        self.ctx.save_cursor(self.cursor)
        logger.info(
            "product import finished", extra={"totals": state.get("totals", {}), "mode": state["mode"]}
        )
        if then_full:
            self._start("full")  # a full import was asked for while an incremental one ran
            self.outcome.continue_after = 0

    def _summary(self) -> str:
        state = self.state
        totals = state.get("totals", {})
        if state.get("failed"):
            return f"{state['mode']} product import failed; no listing was deactivated"
        parts = [f"{totals.get('new', 0)} new", f"{totals.get('updated', 0)} updated"]
        if state["mode"] == "full":
            parts.append(f"{totals.get('deactivated', 0)} deactivated")
        parts.append(f"{totals.get('skipped', 0)} rows skipped")
        if state.get("starting_inventory"):
            parts.append(f"starting inventory set for {totals.get('starting_inventory', 0)} SKUs")
        return f"{state['mode']} product import finished: " + ", ".join(parts)
