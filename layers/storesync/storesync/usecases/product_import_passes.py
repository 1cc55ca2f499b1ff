"""The phases after the rows: the catch-up passes over the store's listings (product types, FBA quantities)
when a throttle or a failed answer deferred them, and the full import's deactivation of listings no longer in
the report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storesync.amazon.errors import TransientAmazonError
from storesync.clock import utcnow
from storesync.dal import catalog
from storesync.dal.products import Listing
from storesync.domain.notices import NoticeCode, notice
from storesync.domain.products import ListingsReportReader, ReportFormatError
from storesync.usecases.product_import_slice import ImportSlice


class ListingPasses(ImportSlice):
    """The phases over the store's listings: types, fba (catch-up passes) and deactivate."""

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
