"""The shipment push job: confirm a store's unconfirmed WMS shipments on Amazon with v0 confirmShipment.

One invocation works through the store's sparse `pending_push` index oldest first, for a bounded number of
shipments and seconds; a larger backlog continues in the next invocation (cursor + continue_after).

Exactly once:
- Before the call the shipment is marked "sending" (a conditional write on its version, so two runners can
  never both send it). A 429 or a revoked grant means Amazon did not take it: it goes back to its state.
- A shipment found in "sending" may have reached Amazon (the Lambda crashed after Amazon accepted it, or the
  answer was lost): Amazon's own record is read first (getOrder with PACKAGES); if Amazon holds a package with
  this package reference id and tracking number, it is marked confirmed without sending it again. Otherwise it
  is sent again with the same package reference id, which Amazon answers with success for the same package
  and never ships twice.
- A lost answer (Amazon performed the confirmation, the connection dropped) is a transient failure: the
  shipment stays "sending", so its next attempt reads Amazon's packages first (above) and never sends it
  twice. Should a repeat reach Amazon and be refused ("already confirmed"), or should Amazon refuse anything,
  Amazon's packages are read before the refusal is believed: a package with this reference id and tracking
  number means it is confirmed.
- Amazon's refusal (e.g. the order was cancelled meanwhile) is stored on the shipment with Amazon's message,
  leaves the pending index and goes into the sync log: never retried. Transient failures (5xx, timeouts,
  dropped connections, answers that cannot be read) are retried with backoff (attempts, next_attempt_at) and
  given up after MAX_ATTEMPTS.
- Time: an invocation stops starting new confirmations after its budget or when its remaining time (Lambda's,
  passed in as `InvocationTime`) falls below the margin; it saves its place and continues through the queue.
- Confirming a shipment and moving the order on (quantity shipped per item, partially_shipped / shipped) is
  one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from storesync.amazon.errors import (
    AmazonAnswerInvalid,
    AmazonRejected,
    AuthorizationRevoked,
    Throttled,
    TransientAmazonError,
)
from storesync.amazon.shipments import AmazonPackage, SpApiShipmentConfirmer
from storesync.clock import utcnow
from storesync.dal import shipment_writes as db
from storesync.dal.shipments import Shipment
from storesync.domain import shipments as rules
from storesync.domain.events import Event, order_transition_events, shipment_confirmed
from storesync.domain.notices import NoticeCode, ParamValue, notice
from storesync.domain.orders import OrderSnapshot
from storesync.observability import logger
from storesync.usecases.event_relay import deliver
from storesync.usecases.runner import JobContext, JobOutcome, JobWork
from storesync.usecases.time_left import InvocationTime
from storesync.wiring import Services

MAX_CONTINUATION_DELAY = 900.0  # SQS's longest delay; waits beyond it are left to the next scheduled run


class ShipmentConfirmer(Protocol):
    """Amazon's side of the push (the SP-API adapter, or a fake in unit tests)."""

    def confirm(self, amazon_order_id: str, request: dict[str, Any]) -> None: ...

    def packages(self, amazon_order_id: str) -> list[AmazonPackage]: ...


@dataclass(frozen=True)
class PushLimits:
    page_size: int = 25
    max_shipments: int = 150  # per invocation; 2 req/s means ~75 s of quota at worst
    time_budget: float = 40.0  # seconds per invocation (the function times out at 60)


def confirm_request(shipment: Shipment, marketplace_id: str) -> dict[str, Any]:
    """The confirmShipment body (ordersV0 ConfirmShipmentRequest) for one package."""
    detail: dict[str, Any] = {
        "packageReferenceId": shipment.package_reference_id,
        "carrierCode": shipment.carrier_code,
        "trackingNumber": shipment.tracking_number,
        "shipDate": shipment.ship_date,
        "orderItems": [
            {"orderItemId": item.order_item_id, "quantity": int(item.quantity)}
            for item in shipment.items or []
        ],
    }
    if shipment.carrier_code == "Other":
        detail["carrierName"] = shipment.carrier_name or shipment.carrier
    if shipment.shipping_method:
        detail["shippingMethod"] = shipment.shipping_method
    return {"marketplaceId": marketplace_id, "packageDetail": detail}


def on_amazon(shipment: Shipment, packages: list[AmazonPackage]) -> bool:
    """Does Amazon already hold this package (same reference id and tracking number)?"""
    return any(
        p.package_reference_id == shipment.package_reference_id
        and p.tracking_number == shipment.tracking_number
        for p in packages
    )


def named(shipment: Shipment) -> dict[str, ParamValue]:
    """The shipment as the sync log's entries name it."""
    return {"order_id": shipment.amazon_order_id, "package": shipment.package_reference_id}


class ShipmentPush:
    def __init__(
        self,
        ctx: JobContext,
        amazon: ShipmentConfirmer,
        limits: PushLimits = PushLimits(),
        now: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        invocation: InvocationTime = InvocationTime(),
    ) -> None:
        self.ctx = ctx
        self.amazon = amazon
        self.limits = limits
        self.now = now
        self.monotonic = monotonic
        self.invocation = invocation
        self.outcome = JobOutcome()
        self._next_due: datetime | None = None

    def run(self) -> JobOutcome:
        store = self.ctx.store
        resuming = self.ctx.message.trigger == "continuation"
        after: str | None = self.ctx.cursor.get("after") if resuming else None
        deadline = self.monotonic() + self.limits.time_budget
        handled = 0
        started_after = after
        while True:
            page = db.pending_shipments(store.store_id, after, self.limits.page_size)
            for shipment in page:
                out_of_time = self.monotonic() > deadline or self.invocation.running_out()
                moved = after != started_after  # every slice gets past at least one shipment
                if handled >= self.limits.max_shipments or (moved and out_of_time):
                    self.ctx.save_cursor({"after": after} if after else {})
                    self.outcome.continue_after = 1.0
                    return self.outcome
                if self._waiting(shipment):
                    after = shipment.created_key
                    continue
                try:
                    self.push(shipment)
                except (Throttled, AuthorizationRevoked):
                    self.ctx.save_cursor({"after": after} if after else {})
                    raise
                after = shipment.created_key
                handled += 1
            if len(page) < self.limits.page_size:
                break
        self.ctx.save_cursor({})
        self._continue_for_retries()
        return self.outcome

    def _waiting(self, shipment: Shipment) -> bool:
        due = shipment.next_attempt_at
        if due is None or due <= self.now():
            return False
        self.outcome.add("waiting_to_retry")
        self._next_due = due if self._next_due is None else min(self._next_due, due)
        return True

    def _continue_for_retries(self) -> None:
        """A retry due within SQS's longest delay gets its own continuation, later ones the next schedule."""
        if self._next_due is None:
            return
        wait = (self._next_due - self.now()).total_seconds()
        if wait <= MAX_CONTINUATION_DELAY:
            self.outcome.continue_after = max(1.0, wait)

    def push(self, shipment: Shipment) -> None:
        previous = shipment.push_state
        if not db.mark_sending(shipment):
            self.outcome.add("skipped")  # another run took it meanwhile
            return
        try:
            if previous == rules.SENDING and self._already_on_amazon(shipment):
                logger.info(
                    "shipment already on Amazon: confirmed without sending again", extra=self._log(shipment)
                )
                self._confirmed(shipment)
                return
            self.amazon.confirm(
                shipment.amazon_order_id, confirm_request(shipment, self.ctx.store.marketplace_id)
            )
        except (Throttled, AuthorizationRevoked):
            db.mark_not_sent(shipment, previous)  # Amazon took nothing from this attempt
            raise
        except AmazonRejected as exc:
            self._refusal(shipment, exc.amazon_message or str(exc))
            return
        except (TransientAmazonError, AmazonAnswerInvalid) as exc:
            self._transient(shipment, str(exc))
            return
        self._confirmed(shipment)

    def _refusal(self, shipment: Shipment, message: str) -> None:
        """Amazon refused the confirmation. An earlier attempt, or the quota gate's repeat of a call whose
        answer was lost, may have confirmed it already (Amazon then refuses the repeat): Amazon's packages
        tell. If they cannot be read, the refusal is not believed yet: the shipment is retried later."""
        try:
            held = on_amazon(shipment, self.amazon.packages(shipment.amazon_order_id))
        except AmazonRejected:
            held = False
        except (TransientAmazonError, AmazonAnswerInvalid) as exc:
            self._transient(shipment, f"Amazon refused the confirmation ({message}) and its packages could "
                                      f"not be read to check it: {exc}")  # fmt: skip
            return
        if held:
            logger.info(
                "Amazon refused a repeat: the package is already confirmed", extra=self._log(shipment)
            )
            self.outcome.add("already_confirmed")
            self._confirmed(shipment)
            return
        self._refused(shipment, message)

    def _already_on_amazon(self, shipment: Shipment) -> bool:
        """An earlier attempt may have reached Amazon: does Amazon hold this package? (Its read refusing us is
        no answer: the confirmation itself then tells.)"""
        try:
            return on_amazon(shipment, self.amazon.packages(shipment.amazon_order_id))
        except AmazonRejected:
            return False

    def _confirmed(self, shipment: Shipment) -> None:
        now = self.now()
        told = partial(self._confirmation_events, shipment, now) if self.ctx.events is not None else None
        events = db.mark_confirmed(shipment, now, events=told)  # their outbox rows commit with it
        self.outcome.add("confirmed")
        logger.info("shipment confirmed on Amazon", extra=self._log(shipment))
        if self.ctx.events is not None:  # after the commit; refused: the relay sends them
            deliver(self.ctx.events, events)

    @staticmethod
    def _confirmation_events(
        shipment: Shipment,
        now: datetime,
        before: OrderSnapshot | None,
        after: OrderSnapshot | None,
        version: int,
    ) -> list[Event]:
        """Shipment Confirmed, and the order's own transition with it (partially shipped, shipped; the buyer's
        cancellation hold lifted by shipping anyway) as the state machine's transition events (Order Changed)."""
        items: dict[str, int] = {}
        for item in shipment.items or []:
            items[item.order_item_id] = items.get(item.order_item_id, 0) + int(item.quantity)
        event = shipment_confirmed(
            shipment.merchant_id,
            shipment.store_id,
            shipment.amazon_order_id,
            shipment.shipment_id,
            shipment.package_reference_id,
            shipment.carrier_code,
            shipment.tracking_number,
            items,
            now,
        )
        if before is None or after is None:
            return [event]
        followed = order_transition_events(
            shipment.merchant_id, shipment.store_id, before, after, version, now
        )
        return [event, *followed]

    def _refused(self, shipment: Shipment, message: str) -> None:
        db.mark_refused(shipment, message)
        self.outcome.add("refused")
        self.outcome.errors.append(notice(NoticeCode.SHIPMENT_REFUSED, **named(shipment), reason=message))
        logger.warning("shipment refused by Amazon", extra={**self._log(shipment), "amazon_message": message})

    def _transient(self, shipment: Shipment, message: str) -> None:
        attempts = int(shipment.attempts or 0)
        if attempts >= rules.MAX_ATTEMPTS:
            self._refused(shipment, f"gave up after {attempts} attempts; last failure: {message}")
            return
        due = self.now() + rules.retry_delay(attempts)
        db.mark_retry(shipment, message, due)
        self._next_due = due if self._next_due is None else min(self._next_due, due)
        self.outcome.add("retrying")
        self.outcome.errors.append(
            notice(NoticeCode.SHIPMENT_RETRYING, **named(shipment), reason=message, attempt=attempts)
        )

    @staticmethod
    def _log(shipment: Shipment) -> dict[str, Any]:
        return {
            "amazon_order_id": shipment.amazon_order_id,
            "package_reference_id": shipment.package_reference_id,
            "carrier_code": shipment.carrier_code,
            "attempts": int(shipment.attempts or 0),
        }


def push_shipments(
    ctx: JobContext,
    amazon: ShipmentConfirmer,
    limits: PushLimits = PushLimits(),
    invocation: InvocationTime = InvocationTime(),
) -> JobOutcome:
    return ShipmentPush(ctx, amazon, limits, invocation=invocation).run()


def shipment_push_work(
    services: Services, limits: PushLimits, invocation: InvocationTime = InvocationTime()
) -> JobWork:
    """The job for the SQS handler: the store's Amazon is built inside the run (after the store is read)."""

    def work(ctx: JobContext) -> JobOutcome:
        amazon = SpApiShipmentConfirmer(services.store_amazon(ctx.store))
        return push_shipments(ctx, amazon, limits, invocation)

    return work
