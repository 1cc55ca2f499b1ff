"""The shipment push when Amazon's answer is lost or the Lambda runs out of time (moto; Amazon is an in-memory
fake that keeps the packages it confirmed, as Amazon does):
- a confirmation performed whose answer was lost is confirmed once, never twice, and marked confirmed;
- a repeat Amazon refuses because the package is already there counts as confirmed, not refused;
- the invocation's remaining time stops the push after the shipment in hand and continues through the queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fakes import RecordingJobQueue
from storesync.amazon.errors import AmazonRejected, TransientAmazonError
from storesync.amazon.shipments import AmazonPackage
from storesync.clock import utcnow
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.job_state import load_cursor
from storesync.dal.orders import Allocation, Order, OrderItem
from storesync.dal.shipments import Shipment
from storesync.dal.stores import Store
from storesync.jobs import JobMessage
from storesync.usecases.runner import JobOutcome, StoreJobRunner
from storesync.usecases.shipment_create import create_shipment
from storesync.usecases.shipment_push import PushLimits, ShipmentPush
from storesync.usecases.time_left import InvocationTime

MERCHANT, STORE = "m_ship", "s_ship"


class AmazonKeepingPackages:
    """confirmShipment that records the package; `lose_answers` drops the answer after performing the call;
    a repeat of a package Amazon holds is refused (`refuse_repeats`) or accepted (as the simulator does)."""

    def __init__(self, lose_answers: int = 0, refuse_repeats: bool = True) -> None:
        self.held: dict[str, list[AmazonPackage]] = {}
        self.confirm_calls = 0
        self.lose_answers = lose_answers
        self.refuse_repeats = refuse_repeats

    def confirm(self, amazon_order_id: str, request: dict[str, Any]) -> None:
        self.confirm_calls += 1
        detail = request["packageDetail"]
        reference = str(detail["packageReferenceId"])
        packages = self.held.setdefault(amazon_order_id, [])
        if any(p.package_reference_id == reference for p in packages):
            if self.refuse_repeats:
                raise AmazonRejected(
                    "confirmShipment", 400, "InvalidInput",
                    f"packageDetail.packageReferenceId: package {reference} is already confirmed",
                )  # fmt: skip
            return
        packages.append(
            AmazonPackage(package_reference_id=reference, tracking_number=detail["trackingNumber"])
        )
        if self.lose_answers:
            self.lose_answers -= 1
            raise TransientAmazonError("Amazon could not be reached for confirmShipment: RemoteProtocolError")

    def packages(self, amazon_order_id: str) -> list[AmazonPackage]:
        return list(self.held.get(amazon_order_id, []))

    def confirmed_count(self) -> int:
        return sum(len(p) for p in self.held.values())


def an_order_with_shipments(count: int) -> list[Shipment]:
    now = utcnow()
    Store(MERCHANT, STORE, name="S", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
          selling_partner_id="A1SHIP", created_at=now).save()  # fmt: skip
    InventoryItem(warehouse_key(MERCHANT, "primary"), "SKU-1", merchant_id=MERCHANT, warehouse_id="primary",
                  on_hand=count + 5, allocated=count, updated_at=now).save()  # fmt: skip
    Order(STORE, "111-0000001-0000001", merchant_id=MERCHANT, marketplace_id="ATVPDKIKX0DER",
          purchase_key=f"{now.isoformat()}#111-0000001-0000001", status="open", amazon_status="UNSHIPPED",
          channel="FBM", purchase_date=now.isoformat(), amazon_last_updated=now.isoformat(),
          items=[OrderItem(order_item_id="OI-1", sku="SKU-1", quantity=count,
                           allocations=[Allocation(warehouse_id="primary", quantity=count)])],
          created_at=now, updated_at=now).save()  # fmt: skip
    return [
        create_shipment(
            MERCHANT,
            STORE,
            "111-0000001-0000001",
            {
                "carrier": "UPS",
                "shipping_method": "Ground",
                "tracking_number": f"1ZTRACK{n}",
                "items": [{"sku": "SKU-1", "quantity": 1}],
            },
            RecordingJobQueue(),
        )  # fmt: skip
        for n in range(count)
    ]


def push(amazon: AmazonKeepingPackages, *, later: timedelta = timedelta(0), trigger: str = "schedule",
         invocation: InvocationTime = InvocationTime()) -> tuple[JobOutcome, RecordingJobQueue]:  # fmt: skip
    queue = RecordingJobQueue()
    message = JobMessage(job="shipments", merchant_id=MERCHANT, store_id=STORE, trigger=trigger)  # type: ignore[arg-type]

    def work(ctx: Any) -> JobOutcome:
        return ShipmentPush(
            ctx, amazon, PushLimits(), now=lambda: utcnow() + later, invocation=invocation
        ).run()

    return StoreJobRunner(queue).run(message, work), queue


def state_of(shipment: Shipment) -> str:
    return str(Shipment.get(shipment.order_key, shipment.shipment_id, consistent_read=True).push_state)


def test_a_confirmation_whose_answer_was_lost_is_confirmed_once_and_marked_confirmed(stack: Any) -> None:
    [shipment] = an_order_with_shipments(1)
    amazon = AmazonKeepingPackages(lose_answers=1)

    outcome, _ = push(amazon)  # Amazon confirmed it; storesync never heard back
    assert outcome.counts == {"retrying": 1} and state_of(shipment) == "sending"

    outcome, _ = push(amazon, later=timedelta(hours=1))  # the retry is due
    assert outcome.counts == {"confirmed": 1}
    assert state_of(shipment) == "confirmed"
    assert amazon.confirm_calls == 1 and amazon.confirmed_count() == 1  # never sent twice
    assert Order.get(STORE, "111-0000001-0000001").status == "shipped"


def test_a_repeat_refused_as_already_confirmed_counts_as_confirmed_not_refused(stack: Any) -> None:
    [shipment] = an_order_with_shipments(1)
    amazon = AmazonKeepingPackages()
    # the quota gate's first call was performed and its answer lost; what storesync sees is the repeat
    amazon.held["111-0000001-0000001"] = [
        AmazonPackage(package_reference_id=str(shipment.package_reference_id), tracking_number="1ZTRACK0")
    ]

    outcome, _ = push(amazon)

    assert outcome.counts == {"already_confirmed": 1, "confirmed": 1} and outcome.errors == []
    assert state_of(shipment) == "confirmed" and amazon.confirmed_count() == 1


def test_a_refusal_for_a_package_amazon_does_not_hold_stays_a_refusal(stack: Any) -> None:
    [shipment] = an_order_with_shipments(1)
    amazon = AmazonKeepingPackages()
    amazon.held["111-0000001-0000001"] = [AmazonPackage(package_reference_id="99", tracking_number="OTHER")]
    amazon.confirm = lambda order_id, request: (_ for _ in ()).throw(  # type: ignore[method-assign]
        AmazonRejected("confirmShipment", 400, "InvalidInput", "orderId: order is cancelled")
    )

    outcome, _ = push(amazon)

    assert outcome.counts == {"refused": 1} and state_of(shipment) == "refused"
    assert "cancelled" in outcome.errors[0].message


def test_the_invocation_running_out_stops_after_the_shipment_in_hand_and_continues(stack: Any) -> None:
    shipments = an_order_with_shipments(3)
    amazon = AmazonKeepingPackages(refuse_repeats=False)
    low = InvocationTime(remaining=lambda: 5.0, margin_seconds=15.0)  # below the margin from the start

    outcome, queue = push(amazon, invocation=low)
    assert outcome.counts == {"confirmed": 1}  # one shipment a slice: always progress, never an overrun
    assert [(m.trigger, delay) for m, delay in queue.deliveries] == [("continuation", 1.0)]
    assert load_cursor(STORE, "shipments").get("after") == shipments[0].created_key

    for _ in range(2):
        outcome, queue = push(amazon, trigger="continuation", invocation=low)
    assert outcome.counts == {"confirmed": 1}
    assert [state_of(s) for s in shipments] == ["confirmed"] * 3
    assert amazon.confirm_calls == 3

    outcome, queue = push(amazon, trigger="continuation", invocation=low)
    assert outcome.counts == {} and queue.deliveries == []  # nothing left: no more continuations
