"""The rows phase of a product import: the report's document read in chunks, products and listings written
once each with their product type and (FBA) Amazon's stock, the starting inventory, skipped rows explained."""

from __future__ import annotations

from collections.abc import Iterator

from storesync.amazon.errors import AmazonAnswerInvalid, AmazonRejected, Throttled, TransientAmazonError
from storesync.dal import catalog, stock_ledger
from storesync.dal.products import Listing
from storesync.domain.notices import NoticeCode, notice
from storesync.domain.products import (
    FBA,
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
from storesync.usecases.product_import_report import ReportPhase

ROW_MESSAGES_PER_RUN = 20  # skipped-row explanations written to one sync-log entry


class RowsPhase(ReportPhase):
    """The rows read the report's document; a document that cannot be read asks for the report again."""

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
