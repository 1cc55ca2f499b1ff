"""Inventory push (B10): one store's changed quantities to Amazon, by patches or by one listings feed.

One invocation:
1. If a feed of this store is still processing (cursor "feed"), ask Amazon for its status. Finished: read the
   processing report, mark each SKU accepted (last_pushed_quantity) or rejected (Amazon's message). Not
   finished: come back in `feed_poll_seconds` (a delayed continuation; no Lambda waits), unless this is a
   stock-out run, which still pushes its SKUs now. The report's verdicts are written in chunks; past the
   plan's time budget the rest waits for the next invocation (the cursor counts the messages recorded).
2. Plan, in slices: the store's listings are read in pages in SKU order (with each page's stock in one range
   query per warehouse) from where the last slice stopped (cursor "scan_after"), until the store's end, the
   plan's time budget (`plan_slice_seconds`) or a full feed; the next invocation continues the pass. For
   each FBM listing, the quantity to show (usecases.quantities; the lowest of the stores of a
   unified account) against the last quantity Amazon accepted; only differences are sent. A SKU whose last
   push of this same quantity was rejected is not re-sent until its quantity changes (no nightly spam of the
   same refusal); SKUs in a processing feed wait for its report. Nothing changed: no SP-API call.
3. Send: few changes (<= crossover, see domain.inventory) or a stock-out run -> patchListingsItem one by one
   (each outcome written at once, so a throttled or interrupted slice loses nothing; a slice stops after
   `patch_slice_seconds` from the invocation's start and the next starts after the last SKU sent); many ->
   one JSON_LISTINGS_FEED of the slice's changes (at most 25,000 messages); the pass goes on after its report.
Rejected SKUs go into the sync log and onto the store's warnings.

Time: besides those budgets, every step that starts new work (a page of the plan, a patch, a chunk of a feed
report's verdicts) first checks the invocation's remaining time (Lambda's, passed in as `InvocationTime`): below
its margin the slice saves its place (the cursor) and continues through the queue. The first patch of a slice
always goes, so every slice makes progress.

Lost answers: quantities are absolute, so a patch or a feed whose answer was lost (whether or not it is sent
again) sets at most the same quantity twice; the push moves no stock. A listing is marked accepted only on
Amazon's answer; a patch or feed that ends without one leaves the listing as it was (its last accepted quantity),
so the next run plans it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storesync.amazon.answers import FeedProcessingReport
from storesync.amazon.errors import AmazonAnswerInvalid, AmazonRejected, Throttled, TransientAmazonError
from storesync.amazon.listings_feed import (
    FeedReport,
    QuantityLine,
    build_quantity_feed,
    read_processing_report,
)
from storesync.amazon.listings_transport import ListingsTransport
from storesync.amazon.quotas import USAGE_PLANS
from storesync.clock import iso, utcnow
from storesync.dal import listing_push_state as state
from storesync.dal.outbox import DynamoOutbox
from storesync.dal.products import Listing
from storesync.dal.store_queries import get_store, set_warnings
from storesync.dal.stores import Store
from storesync.domain.events import Event, stock_pushed
from storesync.domain.inventory import (
    FEED_MAX_MESSAGES,
    PATCH_SLICE_SECONDS,
    QuantityChange,
    choose_transport,
    is_stockout,
    patch_feed_crossover,
    plan_changes,
)
from storesync.domain.notices import Notice, NoticeCode, distinct, inventory_warnings, notice
from storesync.observability import logger
from storesync.usecases.event_relay import deliver
from storesync.usecases.quantities import quantities_in_range, quantities_to_show
from storesync.usecases.runner import JobContext, JobOutcome, JobWork
from storesync.usecases.time_left import InvocationTime
from storesync.usecases.unified_accounts import SiblingListings, disagreement_warning, sibling_listings

MAX_LISTED_ERRORS = 20
SCAN_CURSOR = "scan_after"  # the last SKU planned by the pass in progress (absent: the next plan starts anew)
FEED_OUTCOME_CHUNK = 1000  # listings written per step when a feed's report is read (time checked between)
PLAN_SLICE_SECONDS = 20.0  # an invocation reads no new page of listings after this (then sends what it found)
PATCH_FEED_CROSSOVER = patch_feed_crossover(USAGE_PLANS["patchListingsItem"])  # with Amazon's real quotas
FEED_REPORT_ATTEMPTS = 3  # reads of an unreadable processing report before its feed counts as not processed
_READ_LATER = object()  # the processing report is read again in a later invocation


@dataclass(frozen=True)
class PushSettings:
    crossover: int = PATCH_FEED_CROSSOVER
    feed_poll_seconds: float = 30.0
    patch_slice_seconds: float = PATCH_SLICE_SECONDS  # from the invocation's start, planning included
    plan_slice_seconds: float = PLAN_SLICE_SECONDS  # no new page of the plan is read after this
    plan_page_size: int = state.PLAN_PAGE_SIZE
    feed_outcome_chunk: int = FEED_OUTCOME_CHUNK
    max_feed_messages: int = FEED_MAX_MESSAGES


class _Run:
    def __init__(self, ctx: JobContext, transport: ListingsTransport, settings: PushSettings,
                 clock: Callable[[], float], invocation: InvocationTime = InvocationTime()) -> None:  # fmt: skip
        self.ctx = ctx
        self.store: Store = ctx.store
        self.transport = transport
        self.settings = settings
        self.clock = clock
        self.invocation = invocation
        self.started = clock()
        self.outcome = JobOutcome()
        self.rejected: dict[str, str] = {}  # sku -> Amazon's message (this run)
        self.cleared: set[str] = set()  # skus accepted this run (their old rejection warning goes)
        self.accepted: dict[str, int] = {}  # sku -> quantity Amazon accepted this run
        self.staged: list[Event] = []  # Stock Pushed events whose outbox rows are written, to publish
        self.siblings = SiblingListings()  # the other stores' listings of the SKUs planned this run
        self.unified_warning: Notice | None = None
        self.mid_pass = False  # the plan stopped before the store's end: a later slice plans the rest

    # -- feed follow-up ------------------------------------------------------------------------------
    def follow_feed(self) -> bool:
        """True when no feed is processing any more."""
        feed: dict[str, Any] | None = self.ctx.cursor.get("feed")
        if not feed:
            return True
        found = self.transport.feed_state(str(feed["feed_id"]))
        if not found.finished:
            self.outcome.add("feed_waiting")
            return False
        pending = sorted(
            state.pending_in_feed(
                self.store.store_id, str(feed["feed_id"]), feed.get("first_sku"), feed.get("last_sku")
            ),
            key=lambda x: x.sku,
        )
        lines = [
            QuantityLine(x.sku, x.product_type or "", int(x.last_push_sent_quantity or 0)) for x in pending
        ]
        done = int(feed.get("done", 0))  # messages whose outcome an earlier invocation already wrote
        status = found.status
        report: FeedReport | None = None
        if found.status == "DONE" and found.result_document_id:
            document = self._processing_report(feed, found.result_document_id)
            if document is _READ_LATER:
                return False
            if isinstance(document, FeedProcessingReport):
                report = read_processing_report(document, lines, first_message=done + 1)
            else:
                status = "DONE, but its processing report could not be read"
        chunk = self.settings.feed_outcome_chunk
        for start in range(0, len(pending), chunk):
            if start and self._past(self.settings.plan_slice_seconds):  # the rest in the next invocation
                self.ctx.save_cursor({**self.ctx.cursor, "feed": {**feed, "done": done + start}})
                self.outcome.continue_after = 1.0
                self.outcome.add("feed_report_sliced")
                return False
            self._record_feed_outcomes(pending[start : start + chunk], report, status)
        if report is None or report.fatal_message is not None:
            self.outcome.errors.append(feed_not_processed(str(feed["feed_id"]), status, report))
        self.outcome.add("feeds_completed")
        self.ctx.save_cursor({k: v for k, v in self.ctx.cursor.items() if k != "feed"})
        return True

    def _processing_report(self, feed: dict[str, Any], document_id: str) -> FeedProcessingReport | object:
        """The feed's processing report, if Amazon's answer has one: a report without its summary
        (messagesProcessed), or one that says nothing was processed while naming no error, is no answer (every
        listing would otherwise read "accepted"). An unreadable report is read again after `feed_poll_seconds`
        (_READ_LATER); after FEED_REPORT_ATTEMPTS, None: the feed's listings count as not processed and are
        planned again (quantities are absolute: sending them again is harmless)."""
        reason = ""
        try:
            document = self.transport.feed_report(document_id)
        except (TransientAmazonError, AmazonAnswerInvalid) as exc:
            reason = str(exc)
        else:
            processed = document.summary.messages_processed
            if processed is None:
                reason = "Amazon's processing report has no summary.messagesProcessed"
            elif processed == 0 and not document.issues:
                reason = "Amazon's processing report says no message was processed and names no error"
            else:
                return document
        failures = int(feed.get("report_failures", 0)) + 1
        logger.warning(
            "inventory feed report unreadable",
            extra={"feed_id": feed["feed_id"], "reason": reason, "attempt": failures},
        )
        if failures >= FEED_REPORT_ATTEMPTS:
            return None
        self.ctx.save_cursor({**self.ctx.cursor, "feed": {**feed, "report_failures": failures}})
        self.outcome.errors.append(notice(NoticeCode.AMAZON_UNAVAILABLE, reason=reason))
        self.outcome.result = "error"
        self.outcome.continue_after = self.settings.feed_poll_seconds
        return _READ_LATER

    def _record_feed_outcomes(self, pending: list[Listing], report: FeedReport | None, status: str) -> None:
        """Each listing's verdict from the report (and the unified-account siblings), batch-written."""
        now = utcnow()
        siblings = sibling_listings(self.store, [x.sku for x in pending]) if pending else SiblingListings()
        shared: list[Listing] = []
        accepted: dict[str, int] = {}
        for listing in pending:
            quantity = int(listing.last_push_sent_quantity or 0)
            if report is None or report.fatal_message is not None:
                reason = report.fatal_message if report else f"the feed ended {status}"
                state.set_attempt_fields(
                    listing, quantity, state.FAILED, f"Amazon did not process the feed: {reason}", now
                )
                continue
            verdict = report.verdicts.get(listing.sku)
            if verdict is None or verdict.accepted:
                state.set_attempt_fields(listing, quantity, state.ACCEPTED, None, now)
                self.cleared.add(listing.sku)
                accepted[listing.sku] = quantity
                self.outcome.add("pushed")
                for sibling in siblings.by_sku.get(listing.sku, []):
                    state.set_attempt_fields(sibling, quantity, state.ACCEPTED, None, now)
                    shared.append(sibling)
            else:
                state.set_attempt_fields(listing, quantity, state.REJECTED, verdict.message, now)
                self._reject(listing.sku, quantity, verdict.message)
        self.stage_pushed(accepted)  # before the listings record it (see stage_pushed)
        state.save_many([*pending, *shared])

    # -- planning --------------------------------------------------------------------------------------
    def plan_skus(self, skus: tuple[str, ...]) -> tuple[list[QuantityChange], dict[str, Listing]]:
        """A stock-out run's SKUs (a handful: batched reads)."""
        listings = state.store_listings(self.store.store_id, skus)
        own = quantities_to_show(self.store, [x.sku for x in listings])
        return self._plan_listings(listings, own)

    def plan_slice(self, after: str | None) -> tuple[list[QuantityChange], dict[str, Listing], str | None]:
        """Plan the store page by page in SKU order from `after`, until its end, the plan's time budget or a
        full feed's worth of changes. Returns the changes, the listings read and where the next slice starts
        (None: the store's end was reached)."""
        changes: list[QuantityChange] = []
        by_sku: dict[str, Listing] = {}
        position = after
        while True:
            listings, position = state.listings_page(
                self.store.store_id, position, self.settings.plan_page_size
            )
            if listings:
                own = quantities_in_range(self.store, listings[0].sku, listings[-1].sku)
                page_changes, page_listings = self._plan_listings(listings, own)
                changes += page_changes
                by_sku.update(page_listings)
            if position is None:
                break
            if (
                self._past(self.settings.plan_slice_seconds)
                or len(changes) >= self.settings.max_feed_messages
            ):
                self.outcome.add("plan_sliced")
                break
        return sorted(changes, key=_stockouts_first), by_sku, position

    def _plan_listings(
        self, listings: list[Listing], own: dict[str, int]
    ) -> tuple[list[QuantityChange], dict[str, Listing]]:
        by_sku = {x.sku: x for x in listings}
        siblings = sibling_listings(self.store, list(by_sku))
        self.siblings.merge(siblings)
        self.unified_warning = self.unified_warning or disagreement_warning(self.store, siblings, set(by_sku))
        desired = {sku: siblings.shared_quantity(sku, own.get(sku, 0)) for sku in by_sku}
        changes = []
        for change in plan_changes(desired, {s: _int(x.last_pushed_quantity) for s, x in by_sku.items()}):
            listing = by_sku[change.sku]
            if listing.last_push_status == state.PENDING:
                self.outcome.add("waiting_for_feed")
                continue
            if (
                listing.last_push_status == state.REJECTED
                and _int(listing.last_push_sent_quantity) == change.quantity
            ):
                self.outcome.add("still_rejected")
                continue
            if not listing.product_type:
                self.outcome.add("skipped_no_product_type")
                continue
            changes.append(change)
        self.outcome.add("unchanged", len(by_sku) - len(changes))
        return changes, by_sku

    def _elapsed(self) -> float:
        return self.clock() - self.started

    def _past(self, budget_seconds: float) -> bool:
        """The slice has used `budget_seconds`, or the invocation is about to time out: start nothing new."""
        return self._elapsed() > budget_seconds or self.invocation.running_out()

    # -- sending ---------------------------------------------------------------------------------------
    def send_patches(self, changes: list[QuantityChange], by_sku: dict[str, Listing]) -> list[QuantityChange]:
        """The changes not sent (the slice ended or Amazon throttled); empty when every one went out. The
        listings record what Amazon accepted at the end (after the Stock Pushed rows: `record_accepted`)."""
        accepted: list[tuple[Listing, int]] = []
        try:
            return self._send_patches(changes, by_sku, accepted)
        finally:
            self.record_accepted(accepted)

    def _send_patches(
        self, changes: list[QuantityChange], by_sku: dict[str, Listing], accepted: list[tuple[Listing, int]]
    ) -> list[QuantityChange]:
        for done, change in enumerate(changes):
            if done and self._past(self.settings.patch_slice_seconds):
                self.outcome.continue_after = 1.0  # the rest in the next slice
                return changes[done:]
            listing = by_sku[change.sku]
            try:
                answer = self.transport.patch_quantity(
                    change.sku, listing.product_type or "", change.quantity
                )
            except Throttled as exc:
                self.outcome.continue_after = exc.retry_after
                self.outcome.add("throttled")
                return changes[done:]
            except AmazonRejected as exc:  # one refused SKU never blocks the rest; transient errors propagate
                answer_message = exc.amazon_message or str(exc)
                state.record_attempt(listing, change.quantity, state.REJECTED, answer_message, utcnow())
                self._reject(change.sku, change.quantity, answer_message)
                continue
            if answer.accepted:
                accepted.append((listing, change.quantity))
                self.outcome.add("pushed")
                self.outcome.add("stockouts_pushed" if change.quantity == 0 else "patched")
            else:
                state.record_attempt(listing, change.quantity, state.REJECTED, answer.message, utcnow())
                self._reject(change.sku, change.quantity, answer.message)
        return []

    def record_accepted(self, accepted: list[tuple[Listing, int]]) -> None:
        """The listings (and their unified-account siblings) record the quantities Amazon accepted by patch,
        after the Stock Pushed rows are written."""
        if not accepted:
            return
        self.stage_pushed({listing.sku: quantity for listing, quantity in accepted})
        now = utcnow()
        for listing, quantity in accepted:
            state.record_attempt(listing, quantity, state.ACCEPTED, None, now)
            for sibling in self.siblings.by_sku.get(listing.sku, []):
                state.record_attempt(sibling, quantity, state.ACCEPTED, None, now)
            self.cleared.add(listing.sku)

    def send_feed(self, changes: list[QuantityChange], by_sku: dict[str, Listing]) -> bool:
        """True when the feed was submitted (plan_slice never gathers more than max_feed_messages)."""
        chosen = sorted(changes[: self.settings.max_feed_messages], key=lambda c: c.sku)
        lines = [QuantityLine(c.sku, by_sku[c.sku].product_type or "", c.quantity) for c in chosen]
        document = build_quantity_feed(str(self.store.selling_partner_id), lines)
        try:
            feed_id = self.transport.submit_feed(document)
        except Throttled as exc:
            self.outcome.continue_after = exc.retry_after
            self.outcome.add("throttled")
            return False
        now = utcnow()
        self.ctx.save_cursor(
            {
                **self.ctx.cursor,
                "feed": {
                    "feed_id": feed_id,
                    "submitted_at": iso(now),
                    "messages": len(lines),
                    "first_sku": chosen[0].sku,
                    "last_sku": chosen[-1].sku,
                },
            }
        )
        marked = []
        for change in chosen:
            listing = by_sku[change.sku]
            state.set_attempt_fields(listing, change.quantity, state.PENDING, state.feed_marker(feed_id), now)
            marked.append(listing)
        state.save_many(marked)
        self.outcome.add("sent_in_feed", len(lines))
        self.outcome.continue_after = self.settings.feed_poll_seconds
        logger.info("inventory feed submitted", extra={"feed_id": feed_id, "messages": len(lines)})
        return True

    def _reject(self, sku: str, quantity: int, message: str) -> None:
        self.rejected[sku] = message
        self.outcome.add("rejected")
        if len(self.outcome.errors) < MAX_LISTED_ERRORS:
            self.outcome.errors.append(
                notice(NoticeCode.QUANTITY_REJECTED, quantity=quantity, sku=sku, reason=message)
            )

    # -- store warnings --------------------------------------------------------------------------------
    def stage_pushed(self, accepted: dict[str, int]) -> None:
        """Amazon accepted these quantities: their Stock Pushed events' outbox rows are written BEFORE the
        listings record them (the listings are batch-written, not one transaction with the rows). A function
        that dies after the rows: the relay tells the WMS. One that dies before them: the listings recorded
        nothing either, so the next run sends the same absolute quantities again (moving nothing on Amazon) and
        tells it then. Each staging is its own run id (`owner:attempt:n`), so an event the relay sent early is
        never the same id as a later, larger one."""
        self.accepted.update(accepted)
        if self.ctx.events is None or not accepted:
            return
        run_id = f"{self.ctx.owner}:{self.ctx.message.attempt}:{len(self.staged)}"
        now = utcnow()
        events = stock_pushed(
            self.store.merchant_id, self.store.store_id, run_id, sorted(accepted.items()), now
        )
        DynamoOutbox().put(events, now)
        self.staged.extend(events)

    def publish_pushed(self) -> None:
        """Publish the staged Stock Pushed events and delete their rows (a refusing bus leaves them to the relay:
        storesync.usecases.event_relay.deliver)."""
        if self.ctx.events is None or not self.staged:
            return
        staged, self.staged = self.staged, []
        deliver(self.ctx.events, staged)

    def update_warnings(self) -> None:
        fresh = get_store(self.store.merchant_id, self.store.store_id)
        if fresh is None:
            return
        current = list(fresh.warnings or [])
        wanted = inventory_warnings(current, self.rejected, self.cleared, self.unified_warning, self.mid_pass)
        if distinct(wanted) != distinct(current):
            set_warnings(fresh, wanted)


def feed_not_processed(feed_id: str, status: str, report: FeedReport | None) -> Notice:
    if report and report.fatal_message:
        return notice(
            NoticeCode.INVENTORY_FEED_REFUSED, feed_id=feed_id, status=status, reason=report.fatal_message
        )
    return notice(NoticeCode.INVENTORY_FEED_FAILED, feed_id=feed_id, status=status)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def inventory_push_work(
    transport_for: Callable[[Store], ListingsTransport],
    settings: PushSettings = PushSettings(),
    clock: Callable[[], float] = time.monotonic,
    invocation: InvocationTime = InvocationTime(),
) -> JobWork:
    def work(ctx: JobContext) -> JobOutcome:
        run = _Run(ctx, transport_for(ctx.store), settings, clock, invocation)
        stockout = ctx.message.mode == "stockout"
        feed_done = run.follow_feed()
        if not feed_done and not stockout:
            if run.outcome.continue_after is None:
                run.outcome.continue_after = settings.feed_poll_seconds
                run.outcome.summary = "waiting for Amazon to process the inventory feed"
            else:  # the report is recorded in slices: its rejections go on the store now
                run.outcome.summary = "reading the inventory feed's report (continues)"
                run.mid_pass = True
                run.update_warnings()
            run.publish_pushed()
            return run.outcome
        if stockout and ctx.message.skus:
            changes, by_sku = run.plan_skus(ctx.message.skus)
            position = None
        else:  # a stock-out rerun without SKUs plans from the store's start, leaving the pass's position alone
            after = None if stockout else ctx.cursor.get(SCAN_CURSOR)
            changes, by_sku, position = run.plan_slice(after)
            if stockout:
                changes = [c for c in changes if is_stockout(c.quantity, c.last_accepted)]
        previous = ctx.cursor.get(SCAN_CURSOR)
        if changes:
            if stockout or choose_transport(len(changes), settings.crossover) == "patch":
                unsent = run.send_patches(changes, by_sku)
                if unsent:  # the next slice starts at the first SKU not sent
                    position = _done_through(by_sku, unsent, previous)
            elif not run.send_feed(changes, by_sku):
                position = previous  # throttled: the same range is planned again
        if not stockout:
            run.mid_pass = _save_position(ctx, position)
            if position is not None and run.outcome.continue_after is None:
                run.outcome.continue_after = 1.0  # the rest of the store in the next invocation
        if not feed_done and run.outcome.continue_after is None:
            run.outcome.continue_after = settings.feed_poll_seconds
        run.update_warnings()
        run.publish_pushed()
        return run.outcome

    return work


def _save_position(ctx: JobContext, position: str | None) -> bool:
    """Where the next slice of the pass starts. True when the pass is not over."""
    if ctx.cursor.get(SCAN_CURSOR) != position:
        rest = {k: v for k, v in ctx.cursor.items() if k != SCAN_CURSOR}
        ctx.save_cursor(rest if position is None else {**rest, SCAN_CURSOR: position})
    return position is not None


def _done_through(
    by_sku: dict[str, Listing], unsent: list[QuantityChange], previous: str | None
) -> str | None:
    """The last planned SKU before the first one not sent: every SKU up to it is unchanged or sent."""
    first_unsent = min(c.sku for c in unsent)
    return max((sku for sku in by_sku if sku < first_unsent), default=previous)


def _stockouts_first(change: QuantityChange) -> tuple[bool, str]:
    return not is_stockout(change.quantity, change.last_accepted), change.sku
