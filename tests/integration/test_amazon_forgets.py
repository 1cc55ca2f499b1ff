"""Amazon answers 404 for a report, a feed or a document it gave earlier (past its retention; a simulator whose
state was lost): storesync counts that report or feed as failed and asks again, never as "nothing" (the real
adapters over HTTP to the simulator, moto, the real ProductImportFunction and the catch-up reconciliation)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import product_import_support as products
import pytest
from fixtures_stores import ACME, US, connected_store, issue_refresh_token, sim_factory, sim_stack
from spapi_simulator.documents import documents_of
from spapi_simulator.reports_api import reports_of
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import admin
from storesync.amazon.errors import NOT_FOUND, AmazonAnswerInvalid, ReportDocumentUnknown
from storesync.amazon.listings_transport import SpApiListingsTransport
from storesync.amazon.order_reports import SpApiOrderReports
from storesync.amazon.orders import AmazonOrders
from storesync.amazon.products_amazon import SpApiProductsAmazon
from storesync.dal import job_state
from storesync.dal.store_queries import get_store
from storesync.usecases.order_reconciliation import Reconciliation, ReconciliationDeps
from storesync.usecases.runner import JobOutcome
from test_long_work_faults import import_through
from test_order_reconciliation import Recorder, connected_like

SELLER = "A2NASELLER0002"


def forget(sim: Simulator, what: str) -> None:
    """The simulator loses its reports (and their documents) or only the documents (the reports stay DONE)."""
    admin(sim, "GET", "reports")  # a report due is made DONE now, its document created
    if what == "report":
        reports_of(sim).by_id.clear()
    documents_of(sim).by_id.clear()


def test_the_adapters_read_a_forgotten_id_as_a_failed_report_or_feed(spapi_sim: Simulator) -> None:
    session = sim_factory(spapi_sim).for_store(US, ACME, issue_refresh_token(spapi_sim, ACME))
    amazon = SpApiProductsAmazon(session, ACME)
    state = amazon.report_state("50009999999")
    assert state.status == NOT_FOUND and state.failed  # never "still in progress", never "no listings"
    with (
        pytest.raises(ReportDocumentUnknown, match="no longer knows"),
        amazon.open_report("amzn1.spdoc.1.4.na.x"),
    ):
        pass
    transport = SpApiListingsTransport(session, ACME)
    feed = transport.feed_state("60009999999")
    assert feed.status == NOT_FOUND and feed.finished  # over, and not DONE: its quantities are sent again
    with pytest.raises(AmazonAnswerInvalid, match="no longer knows"):
        transport.feed_report("amzn1.tortuga.4.na.x")


@pytest.mark.parametrize("what", ["report", "document"])
def test_a_listings_report_amazon_forgot_is_asked_for_again_and_the_import_completes(
    make_stack: Any, spapi_sim: Simulator, load_function: Any, lambda_context: Any, what: str
) -> None:
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US)
    driver = products.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
    admin(spapi_sim, "POST", "stats/reset")
    driver.invoke(products.sqs_event(driver.message(store, "full")))  # createReport
    assert job_state.load_cursor(store.store_id, "products")["import"]["report_id"]  # asked for
    forget(spapi_sim, what)

    import_through(driver, store, "full")

    assert set(products.listings(store)) == set(products.amazon_listings(spapi_sim, store))
    assert admin(spapi_sim, "GET", "stats")["calls"]["createReport"] == 2  # asked again, once
    errors = [e.message for run in products.product_runs(store) for e in run.errors]
    assert any("no longer knows" in e for e in errors), errors
    results = [run.result for run in products.product_runs(store)]
    assert "error" in results  # the lost report was a failed attempt, visible in the sync log
    fresh = get_store(store.merchant_id, store.store_id)
    assert fresh is not None and fresh.last_runs["products"]["result"] in ("ok", "partial")
    assert job_state.load_cursor(store.store_id, "products").get("import") is None  # nothing left in progress


@pytest.mark.parametrize("what", ["report", "document"])
def test_an_order_report_amazon_forgot_is_asked_for_again_by_the_catch_up(
    spapi_sim_factory: Any, what: str
) -> None:
    sim = spapi_sim_factory(report_seconds=0)
    session = sim_factory(sim).for_store(US, ACME, issue_refresh_token(sim, ACME))
    deps = ReconciliationDeps(
        reports_for=lambda _s: SpApiOrderReports(session), held_orders=lambda _s, ids: {}
    )
    cursor: dict[str, Any] = {}
    upserted: list[str] = []

    def run() -> JobOutcome:
        outcome = JobOutcome()
        Reconciliation(
            deps, connected_like(), cursor, lambda: None, outcome, AmazonOrders(session),
            Recorder(upserted), lambda _r: None, lambda: sim.clock.now(), timedelta(days=3), 30.0,
        ).run()  # fmt: skip
        return outcome

    run()  # the report is asked for
    assert cursor["reconcile"]["report_id"]  # asked for
    forget(sim, what)
    failed = run()
    assert failed.result == "error" and failed.continue_after  # a failed attempt, retried: never "no orders"
    assert [e.code for e in failed.errors] == ["order_report_failed"]
    assert (NOT_FOUND if what == "report" else "no longer knows") in failed.errors[0].message
    assert cursor["reconcile"]["attempt"] == 2 and not cursor["reconcile"].get("report_id")

    for _ in range(5):  # a new report, read this time
        run()
        if not cursor.get("reconcile"):
            break
    assert not cursor.get("reconcile") and "reconciled" in cursor and not cursor.get("catchup")
    assert cursor["reconciled"]["reported"] > 0 and upserted  # the new report read, its orders fetched
