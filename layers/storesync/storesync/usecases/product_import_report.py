"""The report phase of a product import: createReport, then getReport until DONE; a report that ends
CANCELLED or FATAL (or cannot be read) is asked for again, then the import fails."""

from __future__ import annotations

from storesync.amazon.errors import NOT_FOUND
from storesync.domain.notices import Notice, NoticeCode, notice
from storesync.usecases.product_import_slice import ImportSlice
from storesync.usecases.runner import TRANSIENT_RETRY_SECONDS


class ReportPhase(ImportSlice):
    """The report phase, and asking for the report again when it gave no listings to read."""

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
        if report.status == NOT_FOUND:  # Amazon no longer knows the report it gave: no answer either
            reason = f"Amazon no longer knows report {self.state['report_id']} (getReport answered 404)"
            return self._report_again(notice(NoticeCode.LISTINGS_REPORT_UNREADABLE, reason=reason))
        if report.status == "CANCELLED":  # no data, or cancelled: either way no answer about the listings
            return self._report_again(
                notice(NoticeCode.LISTINGS_REPORT_CANCELLED, attempts=int(self.state["report_attempts"]))
            )
        return self._report_again(notice(NoticeCode.LISTINGS_REPORT_FAILED))

    def _report_again(self, why: Notice) -> bool:
        """The report gave no listings to read (CANCELLED, FATAL, unreadable, or Amazon no longer knows it or its
        document): a failed step, never "no products". Ask for a new report after a backoff (the next invocation
        asks; its rows are read from the start), or after `report_attempts` end the import failed."""
        self.outcome.errors.append(why)
        self.outcome.result = "error"
        attempts = int(self.state.get("report_attempts", 1))
        if attempts >= self.limits.report_attempts:
            self.state["failed"] = True
            return self._next_phase("finish")
        self.state.update(phase="report", report_id=None, document_id=None, report_attempts=attempts + 1)
        self.state.update(row_offset=0, rows_done=False, rows_expected=None, deactivate_after=None)
        self._save()
        self.outcome.summary = f"Amazon's listings report ended without listings (attempt {attempts}); a new one will be asked for"
        self.outcome.continue_after = TRANSIENT_RETRY_SECONDS  # a failed attempt: the runner sets the backoff
        return False
