"""Progress of long work (issue 17 part 3): the runner keeps a run chain's progress while it continues and
clears it when the chain ends; the product import reports its step, the report's rows done and expected; the
order import reports the orders read (Amazon never says how many there are)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fakes import RecordingJobQueue
from storesync.amazon.orders import OrdersPage
from storesync.dal.job_state import PROGRESS_STALE_SECONDS, progress_of
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.orders import AmazonItem, AmazonOrder
from storesync.jobs import JobMessage
from storesync.usecases.order_import import OrderImport, OrderImportDeps
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.product_import import ImportLimits, product_import_work
from storesync.usecases.runner import JobContext, JobOutcome, Progress, StoreJobRunner
from test_products_usecase import FakeAmazon as FakeProductsAmazon
from test_runner import MemoryBook, make_store

NOW = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)


def step(n: int, done: int = 0, expected: int | None = None) -> Progress:
    return Progress(step="rows", label="Reading", step_number=n, steps=3, done=done, expected=expected)


def test_the_runner_keeps_progress_while_the_chain_continues_and_clears_it_when_it_ends() -> None:
    book, queue = MemoryBook(make_store()), RecordingJobQueue()
    runner = StoreJobRunner(queue, book=book)
    message = JobMessage(job="products", merchant_id="m", store_id="s")

    def more(ctx: JobContext) -> JobOutcome:
        ctx.report_progress(step(2, done=40, expected=100))
        return JobOutcome(continue_after=0)

    runner.run(message, more)
    kept = book.progress["products"]
    assert (kept["step_number"], kept["done"], kept["expected"], kept["trigger"]) == (2, 40, 100, "schedule")
    assert kept["started_at"] and kept["updated_epoch"]

    # a duplicate message the use case drops ("already in progress") leaves the chain's progress alone
    runner.run(message, lambda ctx: JobOutcome(result="skipped"))
    assert book.progress["products"]["done"] == 40

    runner.run(queue.deliveries.pop()[0], lambda ctx: JobOutcome())  # the chain ends
    assert "products" not in book.progress


def test_a_failed_chain_leaves_no_progress_behind() -> None:
    book, queue = MemoryBook(make_store()), RecordingJobQueue()
    runner = StoreJobRunner(queue, book=book)

    def fails(ctx: JobContext) -> JobOutcome:
        ctx.report_progress(step(1))
        return JobOutcome(result="failed")

    runner.run(JobMessage(job="products", merchant_id="m", store_id="s"), fails)
    assert book.progress == {}


def test_the_product_import_reports_its_steps_and_the_report_rows(stack: Any) -> None:
    Store("m1", "s1", name="S", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
          created_at=datetime.now(UTC)).save()  # fmt: skip
    amazon, queue = FakeProductsAmazon(rows=250), RecordingJobQueue()
    amazon.throttle_types_once = False
    limits = ImportLimits(slice_rows=100, report_poll_seconds=45, chunk_rows=50)
    work = product_import_work(lambda store: amazon, limits)
    runner = StoreJobRunner(queue)
    runner.run(JobMessage(job="products", mode="full", merchant_id="m1", store_id="s1"), work)

    seen = [progress_of("s1")["products"]]
    while queue.deliveries:
        runner.run(queue.deliveries.pop()[0], work)
        seen.append(progress_of("s1").get("products"))

    first = seen[0]
    assert (first["step"], first["step_number"], first["steps"]) == (
        "report",
        1,
        3,
    )  # report, rows, deactivate
    assert first["expected"] is None and first["first_import"] is True and first["mode"] == "full"
    rows = [(p["done"], p["expected"]) for p in seen if p and p["step"] == "rows"]
    assert rows == [(100, 250), (200, 250)]  # Amazon's report says how many: counted on the first slice
    assert seen[-1] is None  # the import finished: nothing in progress any more
    assert len({p["started_at"] for p in seen if p}) == 1  # one import, one start


def test_progress_nobody_touched_for_long_is_not_shown(stack: Any) -> None:
    from storesync.dal.job_state import acquire_lease, save_progress

    acquire_lease("s2", "orders", "m", "me", 60)
    old = NOW.timestamp()
    save_progress("s2", "orders", "me", {"step": "incremental", "updated_epoch": old, "done": 3})
    assert progress_of("s2", now=old + 10)["orders"]["done"] == 3
    assert progress_of("s2", now=old + PROGRESS_STALE_SECONDS + 1) == {}
    save_progress("s2", "orders", "someone else", None)  # only the lease holder writes it
    assert progress_of("s2", now=old + 10)["orders"]["done"] == 3


def order(order_id: str) -> AmazonOrder:
    return AmazonOrder(order_id=order_id, marketplace_id="ATVPDKIKX0DER", status="UNSHIPPED", channel="FBM",
                       created="2026-07-10T09:00:00Z", last_updated="2026-07-10T10:00:00Z",
                       items=(AmazonItem(f"{order_id}-1", "A", 1),))  # fmt: skip


class PagedAmazon:
    def __init__(self, pages: int, per_page: int) -> None:
        self.pages = [[order(f"O-{p}-{i}") for i in range(per_page)] for p in range(pages)]

    def search_orders(self, *, after: str, before: str | None = None, token: str | None = None,
                      statuses: list[str] | None = None, page_size: int = 100,
                      fulfilled_by: Any = None) -> OrdersPage:  # fmt: skip
        index = int(token or 0)
        more = str(index + 1) if index + 1 < len(self.pages) else None
        return OrdersPage(
            tuple(self.pages[index]), next_token=more, last_updated_before="2026-07-10T11:58:00Z"
        )

    def search_wait_time(self) -> float:
        return 7.0

    def get_order(self, amazon_order_id: str) -> AmazonOrder:
        raise AssertionError("not here")


class Stored:
    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        return UpsertResult(incoming.order_id, "create", "new order", "open")


def test_the_order_import_reports_the_orders_read_page_by_page() -> None:
    store = Store("m", "s", name="s", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
                  settings=StoreSettings(), created_at=NOW)  # fmt: skip
    written: list[dict[str, Any]] = []
    ctx = JobContext(
        JobMessage(job="orders", mode="incremental", merchant_id="m", store_id="s"), store, "me", {},
        cursor_writer=lambda *args: None, progress_writer=lambda s, j, o, p: written.append(dict(p or {})),
    )  # fmt: skip
    deps = OrderImportDeps(Stored(), lambda _s: PagedAmazon(pages=3, per_page=4), timedelta(minutes=5),  # type: ignore[arg-type]
                           timedelta(days=3), clock=lambda: NOW)  # fmt: skip
    OrderImport(deps, ctx).run()

    assert [p["done"] for p in written] == [0, 4, 8]  # before the first page, then after each page with more
    assert all(p["expected"] is None and p["unit"] == "orders" and p["first_import"] for p in written)
    assert written[0]["label"] == "Reading orders updated since 2026-07-07 12:00 UTC"
    assert len({p["started_at"] for p in written}) == 1


def test_the_progress_view_gives_a_percentage_only_where_the_total_is_known() -> None:
    from storesync.api.views import progress_view

    known = progress_view(
        "products", {"done": 100, "expected": 250, "step": "rows", "steps": 3, "step_number": 2}
    )
    assert (known["percent"], known["expected"], known["step_number"], known["steps"]) == (40, 250, 2, 3)
    unknown = progress_view("orders", {"done": 300, "expected": None, "unit": "orders"})
    assert (unknown["percent"], unknown["expected"], unknown["done"], unknown["unit"]) == (
        None,
        None,
        300,
        "orders",
    )


def test_an_order_s_events_come_from_the_order_its_shipments_and_the_sync_log_notices_naming_it() -> None:
    from storesync.api.routes_console_data import hold_view, order_events
    from storesync.dal.jobs import SyncRun
    from storesync.dal.orders import Order, OrderItem
    from storesync.dal.shipments import Shipment
    from storesync.domain.notices import NoticeCode, notice

    order = Order("s", "111-1", merchant_id="m", status="open", amazon_status="UNSHIPPED", channel="FBM",
                  holds=["unknown_sku"], unknown_skus=["B"], items=[OrderItem(order_item_id="1", sku="B", quantity=1)],
                  amazon_last_updated="2026-07-10T10:00:00Z", created_at=NOW, updated_at=NOW + timedelta(hours=1))  # fmt: skip
    shipment = Shipment("s", "111-1#p1", package_reference_id="p1", carrier="UPS", tracking_number="1Z",
                        push_state="confirmed", created_at=NOW + timedelta(hours=2),
                        confirmed_at=NOW + timedelta(hours=3))  # fmt: skip
    naming = notice(NoticeCode.ORDER_UNKNOWN_SKUS, order_id="111-1", skus=["B"])
    other = notice(NoticeCode.ORDER_UNKNOWN_SKUS, order_id="222-2", skus=["C"])
    run = SyncRun("s", "k", job="orders", started_at="2026-07-10T11:59:00Z", finished_at="2026-07-10T12:00:01Z",
                  result="partial", errors=[naming, other])  # fmt: skip

    events = order_events(order, [shipment], [run])
    assert [e["kind"] for e in events] == [
        "shipment_confirmed", "shipment_created", "updated", "sync_log", "imported"
    ]  # fmt: skip
    assert events[3]["message"] == naming.message and events[3]["code"] == "order_unknown_skus"
    assert "1Z" in events[1]["message"]
    held = hold_view("unknown_sku", order)
    assert held["unknown_skus"] == ["B"] and held["blocks_shipping"] is None
    payment = hold_view("payment_hold", order)
    assert payment["blocks_shipping"] and payment["blocks_automation"] and payment["unknown_skus"] == []
    assert hold_view("a_hold_of_later", order)["blocks_shipping"] is None  # an unknown hold is still shown
