"""The product import job: one store's listings from Amazon's GET_MERCHANT_LISTINGS_ALL_DATA report.

The job (`ProductImport`) is here; its phases are in product_import_report.py, product_import_rows.py and
product_import_passes.py, the state they share in product_import_slice.py.

An import runs in phases, each invocation doing a bounded slice and saving its place in the job cursor:

    report      createReport, then getReport on continuations (SQS delay) until DONE: no Lambda waits. A
                report that ends CANCELLED or FATAL (or whose document cannot be read, or that Amazon no
                longer knows: a 404 for the report or its document, then the rows start over) is asked for again,
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
from collections.abc import Callable

from storesync.amazon.errors import (
    AmazonAnswerInvalid,
    AmazonError,
    ReportDocumentUnknown,
    Throttled,
    TransientAmazonError,
)
from storesync.clock import iso, utcnow
from storesync.dal.store_queries import set_warnings
from storesync.dal.stores import Store
from storesync.domain.notices import NoticeCode, notice, of_kinds, replace_notices
from storesync.domain.products import WARNING_CODES, SkuWarnings
from storesync.observability import logger
from storesync.usecases.product_import_passes import ListingPasses
from storesync.usecases.product_import_rows import RowsPhase
from storesync.usecases.product_import_slice import MATCH_AMAZON, STEP_LABELS, ImportLimits, ProductsAmazon
from storesync.usecases.runner import TRANSIENT_RETRY_SECONDS, JobContext, JobOutcome, JobWork
from storesync.usecases.time_left import InvocationTime

__all__ = [
    "MATCH_AMAZON",
    "STEP_LABELS",
    "ImportLimits",
    "ProductImport",
    "ProductsAmazon",
    "product_import_work",
]


def product_import_work(
    amazon_for: Callable[[Store], ProductsAmazon],
    limits: ImportLimits = ImportLimits(),
    clock: Callable[[], float] = time.monotonic,
    invocation: InvocationTime = InvocationTime(),
) -> JobWork:
    def work(ctx: JobContext) -> JobOutcome:
        return ProductImport(ctx, amazon_for(ctx.store), limits, clock, invocation).run()

    return work


class ProductImport(RowsPhase, ListingPasses):
    """A product import's slice: from where the cursor left it, its phases in order until the slice ends."""

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
                return JobOutcome(
                    result="skipped",
                    summary="a product import is already in progress",
                    in_progress_elsewhere=True,
                )
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
            try:
                done = phases[phase]()
            except ReportDocumentUnknown as exc:  # the rows or the deactivation: its report is asked again
                done = self._report_again(notice(NoticeCode.LISTINGS_REPORT_UNREADABLE, reason=str(exc)))
            if not done:  # the phase has more to do (or waits on Amazon)
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
