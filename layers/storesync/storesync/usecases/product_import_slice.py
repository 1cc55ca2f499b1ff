"""One slice of a product import (see product_import.py): the import's state, its saving and progress, the
order of its phases, and the reading of Amazon's FBA answers that two phases share.

The phases are mixins over `ImportSlice`, one module each: the report (product_import_report.py), the rows
(product_import_rows.py), the catch-up passes and the deactivation (product_import_passes.py); the job itself,
which runs them in order, is `ProductImport` (product_import.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from storesync.amazon.errors import TransientAmazonError
from storesync.amazon.products_amazon import ReportState
from storesync.clock import utcnow
from storesync.dal.products import Listing
from storesync.dal.stores import Store
from storesync.usecases.runner import JobContext, JobOutcome, Progress
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


class ImportSlice:
    """The state and helpers every phase of a product import works with."""

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
